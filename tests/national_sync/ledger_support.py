"""Helpers for the ledger and pusher tests: a migrated ledger database and an in-memory national side.

The in-memory :class:`FakeNational` is used only where a test is about the pushers' ordering logic; the
acceptance tests run the real simulator process behind the real HTTP adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.projections.positions import read_position
from casereg.projections.projection import Projection
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from national_sync.adapter import Holding, NationalUnavailable, PushOutcome, PushRecord, PushResult, payload_sha256
from national_sync.ledger import NAME, ledger_projection, record_versions
from national_sync.projections import registry
from national_sync.tables import outbox

from tests.intake.conftest import IntakeEnv
from tests.projections.conftest import running, wait_for

LEDGER_MIGRATIONS = [PLATFORM_MIGRATIONS, ("national_sync.migrations", "alembic_version_national_sync")]


def ledger_engine(url: str) -> sa.Engine:
    migrate(url, LEDGER_MIGRATIONS)
    return create_engine(url)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    """A migrated ledger database: SQLite, and a PostgreSQL schema of its own."""
    url = (
        f"sqlite:///{tmp_path / 'ledger.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_schema_url")
    )
    engine = ledger_engine(url)
    yield engine
    engine.dispose()


def add_versions(engine: sa.Engine, kind: str, record_id: str, versions: range) -> None:
    with engine.begin() as conn:
        record_versions(conn, [(kind, record_id, v, {"record": record_id, "v": v}, v) for v in versions])


def rows(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = sa.select(outbox).order_by(outbox.c.kind, outbox.c.record_id, outbox.c.version)
        return [dict(r._mapping) for r in conn.execute(query)]


@dataclass
class FakeNational:
    """As the simulator answers: a same-content repeat is accepted, anything else not following the held version
    is a conflict with the held version."""

    held: dict[tuple[str, str], tuple[int, Mapping[str, Any]]] = field(default_factory=dict)
    received: list[tuple[str, str, int]] = field(default_factory=list)
    history: dict[tuple[str, str, int], dict[str, Any]] = field(default_factory=dict)
    fail_next: int = 0
    reject: set[tuple[str, int]] = field(default_factory=set)

    async def push(self, record: PushRecord) -> PushResult:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise NationalUnavailable("national side down (test)")
        key = (record.kind, record.record_id)
        self.received.append((record.kind, record.record_id, record.version))
        if (record.record_id, record.version) in self.reject:
            return PushResult(PushOutcome.REJECTED, detail="HTTP 422")
        held = self.held.get(key, (0, {}))[0]
        if record.version <= held:
            same = self.history.get((*key, record.version)) == dict(record.payload)
            return (
                PushResult(PushOutcome.ACCEPTED, detail="duplicate") if same else PushResult(PushOutcome.CONFLICT, held)
            )
        if record.previous_version != held:
            return PushResult(PushOutcome.CONFLICT, held_version=held)
        self.held[key] = (record.version, dict(record.payload))
        self.history[(*key, record.version)] = dict(record.payload)
        return PushResult(PushOutcome.ACCEPTED)

    async def holdings(self, kind: str | None = None) -> AsyncIterator[Holding]:
        for (k, record_id), (version, payload) in sorted(self.held.items()):
            if kind is None or k == kind:
                yield Holding(k, record_id, version, payload_sha256(dict(payload)))

    async def aclose(self) -> None:
        return None


async def project(env: IntakeEnv, engine: sa.Engine) -> Projection:
    """Run the ledger projection until it has applied everything in the log now."""
    deps = await env.deps()
    projection = ledger_projection(env.settings.province)
    runner = ProjectionRunner(
        projection, engine, deps.log.js, env.settings.stream, registry(), options=RunnerOptions(fetch_timeout=0.2)
    )
    last = int((await deps.log.js.stream_info(env.settings.stream)).state.last_seq)

    def position() -> int:
        with engine.connect() as conn:
            return read_position(conn, NAME)

    async with running(runner):
        await wait_for(lambda: position() >= last)
    return projection
