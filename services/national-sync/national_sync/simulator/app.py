"""The simulator's HTTP API (FastAPI). ``docs/national-simulator.md`` is its reference."""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from casereg.log.canonical import check_json_value
from casereg.platform.health import CheckStatus, HealthReport
from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, StrictInt, ValidationError

from national_sync.adapter import KINDS
from national_sync.simulator import BANNER
from national_sync.simulator.settings import Faults
from national_sync.simulator.store import PutStatus, Store, Version

PROCESS_NAME = "national-sim"
MAX_PAGE = 1000


class PushBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: StrictInt
    previous_version: StrictInt
    payload: dict[str, Any]


@dataclass
class SimulatorState:
    store: Store
    faults: Faults
    rng: random.Random
    token: str = ""
    counters: Counter[str] = field(default_factory=Counter)
    fault_counts: Counter[str] = field(default_factory=Counter)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _problem(status: int, detail: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"detail": detail, **extra}, status_code=status)


def create_app(state: SimulatorState) -> FastAPI:
    app = FastAPI(
        title="casereg national-database simulator",
        description=f"{BANNER}. A test double of the national database's push contract.",
        openapi_url=None,
    )

    @app.middleware("http")
    async def label(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["X-Simulator"] = BANNER
        return response

    async def before(request: Request) -> JSONResponse | None:
        """Counting, authentication and the faults every record/reconciliation request goes through."""
        state.counters["requests"] += 1
        if state.token and request.headers.get("authorization") != f"Bearer {state.token}":
            state.counters["unauthorized"] += 1
            return _problem(401, "missing or wrong bearer token")
        faults = state.faults
        # One draw per fault per request, always in this order: a seed gives the same pattern.
        timeout_draw, error_draw = state.rng.random(), state.rng.random()
        if faults.outage:
            state.fault_counts["outage"] += 1
            return _problem(503, "simulated outage")
        if faults.latency_ms:
            state.fault_counts["latency"] += 1
            await asyncio.sleep(faults.latency_ms / 1000)
        if timeout_draw < faults.timeout_rate:
            state.fault_counts["timeout"] += 1
            await asyncio.sleep(faults.timeout_ms / 1000)  # longer than the client waits: it has gone by now
            return _problem(504, "simulated timeout")
        if error_draw < faults.error_rate:
            state.fault_counts["error"] += 1
            return _problem(500, "simulated error")
        return None

    @app.put("/v1/provinces/{province}/records/{kind}/{record_id}/versions/{version}")
    async def put_version(province: str, kind: str, record_id: str, version: int, request: Request) -> Response:
        if (refused := await before(request)) is not None:
            return refused
        duplicate_ack_draw = state.rng.random()
        try:
            body = PushBody.model_validate_json(await request.body())
            check_json_value(body.payload)
        except (ValidationError, ValueError) as exc:
            state.counters["rejected"] += 1
            # Only where and what kind of error: never the values (they may be personal data).
            where = [".".join(map(str, e["loc"])) for e in exc.errors()] if isinstance(exc, ValidationError) else []
            return _problem(422, "malformed body", errors=where or [str(exc).split(":")[0]])
        key = request.headers.get("idempotency-key", "")
        problem = (
            f"unknown kind {kind!r}"
            if kind not in KINDS
            else "body version differs from the path"
            if body.version != version
            else "previous_version must be version - 1"
            if body.previous_version != body.version - 1 or body.version < 1
            else "Idempotency-Key header missing"
            if not key
            else ""
        )
        if problem:
            state.counters["rejected"] += 1
            return _problem(422, problem)
        traceparent = request.headers.get("traceparent", "")
        result = state.store.put(
            Version(province, kind, record_id, body.version, body.previous_version, body.payload, key, traceparent)
        )
        if result.status is PutStatus.CONFLICT:
            state.counters["conflicts"] += 1
            return _problem(409, "previous_version is not the latest held version", held_version=result.held_version)
        if result.status is PutStatus.DUPLICATE:
            state.counters["duplicates"] += 1
            return JSONResponse({"status": "duplicate", "held_version": result.held_version}, status_code=200)
        state.counters["accepted"] += 1
        if duplicate_ack_draw < state.faults.duplicate_ack_rate:
            state.fault_counts["duplicate_ack"] += 1
            return _problem(500, "simulated lost acknowledgement (the version was stored)")
        return JSONResponse({"status": "stored", "held_version": result.held_version}, status_code=201)

    @app.get("/v1/provinces/{province}/records")
    async def list_records(
        province: str,
        request: Request,
        kind: str | None = None,
        after: str | None = None,
        limit: int = Query(default=500, ge=1, le=MAX_PAGE),
    ) -> Response:
        if (refused := await before(request)) is not None:
            return refused
        cursor: tuple[str, str] | None = None
        if after:
            after_kind, sep, after_id = after.partition("/")
            if not sep:
                state.counters["rejected"] += 1
                return _problem(422, "after: a cursor from a previous page")
            cursor = (after_kind, after_id)
        items, following = state.store.holdings(province, kind, cursor, limit)
        return JSONResponse({"items": items, "next": "/".join(following) if following else None})

    @app.get("/v1/provinces/{province}/records/{kind}/{record_id}")
    async def get_record(province: str, kind: str, record_id: str, request: Request) -> Response:
        if (refused := await before(request)) is not None:
            return refused
        versions = state.store.versions(province, kind, record_id)
        if not versions:
            return _problem(404, "no such record")
        latest = max(v["version"] for v in versions)
        return JSONResponse({"kind": kind, "record_id": record_id, "latest_version": latest, "versions": versions})

    @app.get("/v1/simulator/stats")
    async def stats() -> dict[str, Any]:
        counts = state.store.counts()
        return {
            "simulator": BANNER,
            "started_at": state.started_at.isoformat(),
            **{name: state.counters[name] for name in _COUNTERS},
            "faults": {name: state.fault_counts[name] for name in _FAULTS},
            **state.store.invariants(),
            **counts,
        }

    @app.get("/v1/simulator/faults")
    async def get_faults() -> Faults:
        return state.faults

    @app.put("/v1/simulator/faults")
    async def put_faults(request: Request) -> Response:
        try:
            changes = Faults.model_validate_json(await request.body())
        except ValidationError as exc:
            return _problem(422, "malformed faults", errors=[".".join(map(str, e["loc"])) for e in exc.errors()])
        state.faults = state.faults.model_copy(update=changes.model_dump(exclude_unset=True))
        return JSONResponse(state.faults.model_dump())

    @app.get("/v1/simulator/health")
    async def health() -> HealthReport:
        try:
            state.store.counts()
            database = CheckStatus(ok=True)
        except Exception as exc:
            database = CheckStatus(ok=False, detail=type(exc).__name__)
        return HealthReport(
            service=PROCESS_NAME,
            status="ok" if database.ok else "degraded",
            ready=True,
            pid=os.getpid(),
            started_at=state.started_at,
            checks={"database": database},
        )

    return app


_COUNTERS = ("requests", "accepted", "duplicates", "conflicts", "rejected", "unauthorized")
_FAULTS = ("error", "latency", "timeout", "duplicate_ack", "outage")
