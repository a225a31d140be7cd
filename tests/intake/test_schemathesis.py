"""Schemathesis against ``/openapi.json``: every operation, authenticated, answers as its OpenAPI document says.

In process against the ASGI application of ``running_api`` (the real log, SQLite, key store and registry), with a
fixed seed (``derandomize``: the same examples on every run), 25 examples per operation and exactly the checks
not_a_server_error, status_code_conformance, content_type_conformance and response_schema_conformance. Every call
carries agency A's ``Authorization`` and ``X-Officer-Id`` and a fresh ``Idempotency-Key``. The examples mix
positive and negative data, positive data on a case that exists (most generated ids are unknown: 404), and
generated petitions given a real commune and consistent submitters, so that some are recorded (201/202).

Schemathesis drives ASGI applications from its own event-loop thread, while the application's NATS connection
belongs to the test's loop: :func:`on_loop` forwards each request to the test's loop, and Hypothesis runs in a
worker thread so that loop stays free to serve.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intake.api.app import create_app
from intake.api.export_docs import openapi_document
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.generation.case import Case
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tests.intake.api_support import A, Api, petition_body, running_api
from tests.intake.conftest import IntakeEnv

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 25
UNIT = "21583"  # a ward of the shipped directory

T = TypeVar("T")
AnyCase = Case[Any]

OPERATIONS = sorted(
    (method.upper(), path)
    for path, item in openapi_document()["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)


async def _awaited(awaitable: Awaitable[T]) -> T:
    return await awaitable


def on_loop(app: ASGIApp, loop: asyncio.AbstractEventLoop) -> ASGIApp:
    """``app`` served on ``loop`` (another thread's), callable from any other event loop."""

    async def bridged(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":  # the application has no start-up or shutdown work
            while (await receive())["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        caller = asyncio.get_running_loop()

        def in_caller(awaitable: Awaitable[T]) -> Awaitable[T]:
            return asyncio.wrap_future(asyncio.run_coroutine_threadsafe(_awaited(awaitable), caller))

        async def receive_there() -> Message:
            return await in_caller(receive())

        async def send_there(message: Message) -> None:
            await in_caller(send(message))

        await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(_awaited(app(scope, receive_there, send_there)), loop)
        )

    return bridged


def plausible_petition(case: AnyCase) -> AnyCase:
    """A generated petition made to pass the checks the schema cannot state, so that some get as far as the log.

    A commune of the test directory, and submitters either anonymous without identity fields or named.
    """
    body = case.body
    submitters = body.get("submitters") if isinstance(body, dict) else None
    if isinstance(body, dict) and isinstance(submitters, list):
        body["unit_code"] = UNIT
        body["submitters"] = [_consistent(s) for s in submitters if isinstance(s, dict)] or [{"anonymous": True}]
        body.pop("people_count", None)
    return case


def _consistent(submitter: dict[str, Any]) -> dict[str, Any]:
    if submitter.get("anonymous"):
        return {k: v for k, v in submitter.items() if k in ("anonymous", "representative")}
    return {**submitter, "full_name": "Nguyễn Văn An"}


def strategies(operation: Any, case_id: str) -> st.SearchStrategy[AnyCase]:
    """Positive and negative data; for a case's paths also positive data on a case that exists."""
    options = [operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)]
    if "{case_id}" in operation.path:
        options.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters={"case_id": case_id}))
    if operation.path == "/v1/petitions":
        options.append(operation.as_strategy(GenerationMode.POSITIVE).map(plausible_petition))
    return st.one_of(options)


def fuzz(api: Api, app: ASGIApp, method: str, path: str, case_id: str) -> None:
    """Blocking: load the schema from the application and check ``EXAMPLES`` generated requests."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=strategies(schema[path][method], case_id))
    def check(case: AnyCase) -> None:
        # A fresh Idempotency-Key per call: a reused key would answer with an earlier request's result.
        case.call_and_validate(headers=api.headers(A, key=str(uuid.uuid4())), checks=CHECKS)

    check()


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
async def test_operation_conforms_to_openapi(intake_env: IntakeEnv, tmp_path: Path, method: str, path: str) -> None:
    async with running_api(intake_env, tmp_path) as api:
        # One case that exists, so reads, history and acts are also checked on something other than a 404.
        submitted = await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "seed"))
        assert submitted.status_code == 201, submitted.text
        # A POST waits at most a second for the read models (201 and 202 are both documented answers).
        state = dataclasses.replace(api.state, visible_within=1.0)
        app = on_loop(create_app(state), asyncio.get_running_loop())
        await asyncio.to_thread(fuzz, api, app, method, path, submitted.json()["case_id"])


async def test_what_schemathesis_found_stays_fixed(intake_env: IntakeEnv, tmp_path: Path) -> None:
    """Each of these once answered a 500, a wrong status or a time without its offset."""
    async with running_api(intake_env, tmp_path) as api:
        r = await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "p"))
        case_id = r.json()["case_id"]
        # A cursor beyond a 64-bit integer (was a 500 from SQLite).
        r = await api.client.get("/v1/feed", params={"after": "99999999999999999999-0"}, headers=api.headers(A))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.after"
        # Times carry their offset (SQLite returned them naive: not RFC 3339).
        feed = (await api.client.get("/v1/feed", headers=api.headers(A))).json()
        assert feed["items"][0]["recorded_at"].endswith("Z")
        assert (await api.client.get(f"/v1/cases/{case_id}", headers=api.headers(A))).json()["updated_at"].endswith("Z")
        listed = (await api.client.get("/v1/cases", headers=api.headers(A))).json()
        assert listed["items"][0]["updated_at"].endswith("Z")
        # Business dates far in the past (date arithmetic overflowed: 500) or in the future.
        for day in ("0001-01-01", "1999-12-31", "9999-12-31"):
            old = petition_body(received_on=day)
            r = await api.client.post("/v1/petitions", json=old, headers=api.headers(A, f"p-{day}"))
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.received_on", r.text
            act = {"kind": "withdraw", "on": day}
            r = await api.client.post(f"/v1/cases/{case_id}/actions", json=act, headers=api.headers(A, f"a-{day}"))
            assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.on", r.text
        # A path that cannot be a case id is no such case (was a 409 "invalid act fields: id").
        act = {"kind": "withdraw", "on": "2026-07-07"}
        r = await api.client.post("/v1/cases/not%20an%20id/actions", json=act, headers=api.headers(A, "x"))
        assert r.status_code == 404, r.text
