"""An in-process intake API on the real log, key store and SQLite database, with its registry projection running."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.directory.load import DirectoryFiles
from casereg.directory.load import load as load_directory
from casereg.log.events import EventRegistry
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from intake.adapters.agencies import add_agency
from intake.api.app import create_app
from intake.api.state import ApiState
from intake.domain.events import INTAKE_EVENTS
from intake.projections import case_access, cases, feed
from intake.registry import registry_projection

from tests.intake.conftest import IntakeEnv

A, B, AUDITOR = "2tier/52/ubnd-xa-a", "2tier/52/ubnd-xa-b", "2tier/52/thanh-tra"

_DIRECTORY = None


def shipped_directory() -> Any:
    global _DIRECTORY
    if _DIRECTORY is None:
        _DIRECTORY = load_directory(DirectoryFiles.shipped("52"))
    return _DIRECTORY


@dataclass
class Api:
    client: httpx.AsyncClient
    keys: dict[str, str]
    state: ApiState

    def headers(self, agency: str, key: str | None = None, officer: str = "officer-1") -> dict[str, str]:
        h = {"Authorization": f"Bearer {self.keys[agency]}", "X-Officer-Id": officer}
        if key:
            h["Idempotency-Key"] = key
        return h


def petition_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "post",
        "received_on": "2026-07-06",
        "declared_kind": "complaint",
        "unit_code": "21583",
        "subject_matter": {"kind": "decision", "decision_number": "12/QĐ-UBND", "decision_date": "2026-05-02"},
        "summary": "Khiếu nại quyết định thu hồi đất",
        "content": "Tôi không đồng ý với quyết định thu hồi đất số 12/QĐ-UBND.",
        "submitters": [{"full_name": "Lê Thị Mai", "id_number": "052190004321", "phone": "0905000111"}],
    }
    body.update(changes)
    return body


@contextlib.asynccontextmanager
async def running_api(env: IntakeEnv, tmp_path: Path) -> AsyncIterator[Api]:
    url = f"sqlite:///{tmp_path / 'intake.db'}"
    migrate(url, [PLATFORM_MIGRATIONS, ("intake.migrations", "alembic_version_intake")])
    engine = create_engine(url)
    keys = {}
    for code, role in ((A, "clerk"), (B, "handler"), (AUDITOR, "auditor")):
        _, keys[code] = add_agency(engine, code, code, "21583", role)
    deps = await env.deps()
    state = ApiState(
        deps=deps,
        engine=engine,
        directory=shipped_directory(),
        visible_within=5.0,
        read_engine=create_engine(url, reads=True),
    )
    projection = registry_projection(env.settings.province, (cases, case_access, feed))
    runner = ProjectionRunner(
        projection,
        engine,
        deps.log.js,
        env.settings.stream,
        EventRegistry(INTAKE_EVENTS),
        options=RunnerOptions(batch_size=100, fetch_timeout=0.2),
    )
    state.registry_watch = runner.watch
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    app = create_app(state, max_body_bytes=64 * 1024)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
        try:
            yield Api(client, keys, state)
        finally:
            stop.set()
            await asyncio.wait_for(task, 30)
            engine.dispose()
