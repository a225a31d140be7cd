"""Replay as of any moment equals what the live read models held at that moment (issue 10 acceptance).

The services' own projections run live (intake's registry, escalation's due dates with its clock reactions) on
their own databases; the test captures the registry's row of a case at each of its sequences and the live reports
whenever every projection's position is the stream's last sequence. Replays into fresh databases must give the
same: per case as of each of its sequences (and of its recorded_at), and province-wide as of those positions.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from casereg.audit.replay import ReplayResult, live_source, owning, replay_into, scratch_engines
from casereg.audit.reports import REPORTS, TABLES_OF, Report, report
from casereg.clock import ManualClock
from casereg.crypto.keystore import SqlKeyStore
from casereg.db import create_engine, keystore_url, migrate_all
from casereg.log.envelope import AggregateRef
from casereg.log.provision import provision
from casereg.log.raw import last_sequence
from casereg.log.store import EventLog
from casereg.platform.credentials import credentials_path
from casereg.platform.nats_embedded import EmbeddedNats
from casereg.projections.bindings import ProjectionBinding, discover
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from casereg.settings import PlatformSettings
from intake.commands import RecordAction
from intake.domain.model import ActionKind, PetitionKind
from intake.handlers.act import act
from intake.handlers.deps import IntakeDeps
from intake.handlers.submit import submit
from nats.aio.client import Client as NATS
from typer.testing import CliRunner, Result

from tests.conftest import connect_as
from tests.intake.conftest import caller, petition
from tests.log.cli_support import log_app
from tests.projections.conftest import running, wait_for

pytestmark = pytest.mark.slow
NOW = datetime(2026, 7, 6, 3, 0, tzinfo=UTC)
ON = date(2027, 1, 1)  # every running deadline is overdue on this day
ALL_TABLES = {t for tables in TABLES_OF.values() for t in tables}


@dataclass
class Province:
    settings: PlatformSettings
    bindings: dict[str, ProjectionBinding]
    runners: list[ProjectionRunner]
    deps: IntakeDeps
    clock: ManualClock
    connections: list[NATS] = field(default_factory=list)

    async def quiet(self) -> int:
        """Wait until every projection has applied the stream's last message (and no reaction adds more)."""
        js = self.deps.log.js
        found: list[int] = []

        async def settled() -> bool:
            last = await last_sequence(js, self.settings.stream)
            caught_up = all(r.applied_position == last for r in self.runners)
            if caught_up and await last_sequence(js, self.settings.stream) == last:
                found.append(last)
                return True
            return False

        await wait_for(settled, limit=120)
        return found[-1]

    def live(self, name: str) -> Report:
        source, engines = live_source(self.bindings)
        try:
            return report(name, source, ON)
        finally:
            for engine in engines:
                engine.dispose()

    def registry_row(self, case_id: str) -> dict[str, Any]:
        source, engines = live_source(self.bindings)
        try:
            return row_of(source["cases"], case_id)
        finally:
            for engine in engines:
                engine.dispose()

    async def replay(self, as_of: int | datetime, engines: dict[str, sa.Engine]) -> ReplayResult:
        return await replay_into(self.deps.log.js, self.settings.stream, self.bindings, engines, as_of)


def row_of(where: tuple[sa.Engine, sa.Table], case_id: str) -> dict[str, Any]:
    engine, table = where
    with engine.connect() as conn:
        row = conn.execute(sa.select(table).where(table.c.case_id == case_id)).mappings().one()
    return dict(row)


@pytest.fixture
async def province(
    nats_server: EmbeddedNats, admin_nc: NATS, unique: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Province]:
    monkeypatch.setenv("CASEREG_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("CASEREG_PROVINCE", f"r{unique}")
    monkeypatch.setenv("CASEREG_STREAM", f"REPLAY_{unique}")
    monkeypatch.setenv("CASEREG_NATS_URL", nats_server.url)
    credentials = credentials_path(tmp_path / "var")
    credentials.parent.mkdir(parents=True, exist_ok=True)
    credentials.write_text(nats_server.credentials.dump())
    settings = PlatformSettings()
    await provision(admin_nc, settings)
    migrate_all(settings)
    bindings = owning(discover(settings), ALL_TABLES)
    assert {b.service for b in bindings.values()} == {"intake", "escalation"}
    clock = ManualClock(NOW)
    intake_nc = await connect_as(nats_server, "intake")
    intake_log = EventLog(nc=intake_nc, province=settings.province, clock=clock, stream=settings.stream)
    keys = SqlKeyStore(create_engine(keystore_url(settings)), "test-master")
    deps = IntakeDeps(log=intake_log, keys=keys, clock=clock)
    env = Province(settings, bindings, [], deps, clock, [intake_nc])
    async with AsyncExitStack() as stack:
        for binding in bindings.values():
            nc = await connect_as(nats_server, binding.service.replace("-", "_"))
            env.connections.append(nc)
            log = EventLog(
                nc=nc, province=settings.province, clock=clock, registry=binding.registry, stream=settings.stream
            )
            runner = ProjectionRunner(
                binding.resolve(log),
                create_engine(binding.database_url),
                nc.jetstream(),
                settings.stream,
                binding.registry,
                options=RunnerOptions(batch_size=50, fetch_timeout=0.2),
            )
            env.runners.append(runner)
            await stack.enter_async_context(running(runner))
        yield env
    for nc in env.connections:
        await nc.close()


async def test_replay_as_of_equals_the_live_read_models_then(province: Province, tmp_path: Path) -> None:
    deps, handler = province.deps, caller(role="handler")
    on = date(2026, 7, 6)
    case = await submit(deps, caller(), petition("replay-1", kind=PetitionKind.DENUNCIATION))
    steps: list[tuple[str, RecordAction]] = [
        ("accept", RecordAction(case.case_id, ActionKind.ACCEPT, on, basis="LKN 2011 Điều 27")),
        ("complicated", RecordAction(case.case_id, ActionKind.MARK_COMPLICATED, on,
                                     criteria=("verification_at_several_places",), reason="nhiều nơi")),
        ("extend", RecordAction(case.case_id, ActionKind.EXTEND, on, days=10, reason="phức tạp")),
        ("suspend", RecordAction(case.case_id, ActionKind.SUSPEND, on, reason="chờ giám định")),
        ("resume", RecordAction(case.case_id, ActionKind.RESUME, on)),
        ("decide", RecordAction(case.case_id, ActionKind.ISSUE_DECISION, on, decision_number="7/QĐ",
                                decision_result="unfounded", decision_summary="không đúng")),
        ("close", RecordAction(case.case_id, ActionKind.CLOSE, on)),
    ]  # fmt: skip
    # The case's registry row and the province's live reports, captured whenever every projection is at S.
    rows: dict[int, dict[str, Any]] = {}
    times: dict[int, datetime] = {}
    reports: dict[int, dict[str, Report]] = {}

    async def capture() -> None:
        position = await province.quiet()
        rows[position] = province.registry_row(case.case_id)
        last = await deps.log.last(AggregateRef.case(case.case_id))
        assert last is not None
        times[position] = last.last.recorded_at
        reports[position] = {name: province.live(name) for name in REPORTS}

    await capture()
    for i, (key, step) in enumerate(steps):
        province.clock.advance(timedelta(hours=1))
        await submit(deps, caller(), petition(f"other-{i}"))  # other cases interleave
        province.clock.advance(timedelta(hours=1))
        await act(deps, handler, step, key)
        await capture()
    assert len(reports) == len(steps) + 1
    assert len({r["open"].rows for r in reports.values()}) > 2  # the reports do change along the way
    assert any(r["overdue"].rows for r in reports.values())

    for position, live in reports.items():
        with scratch_engines({"intake", "escalation"}) as engines:
            replayed = await province.replay(position, engines)
            for name in REPORTS:
                assert report(name, replayed.source, ON) == live[name], (position, name)
            assert row_of(replayed.source["cases"], case.case_id) == rows[position], position
        with scratch_engines({"intake", "escalation"}) as engines:
            by_time = await province.replay(times[position], engines)
            assert row_of(by_time.source["cases"], case.case_id)["state"] == rows[position]["state"], position

    # The same through the commands: `casereg replay --as-of S --report R --out CSV` and `casereg report R`.
    first = min(reports)
    out = tmp_path / "open.csv"
    done = await cli("replay", "--as-of", str(first), "--report", "open", "--out", str(out), "--on", ON.isoformat())
    assert done.exit_code == 0, done.output
    assert out.read_text() == csv_of(reports[first]["open"])
    now = await cli("report", "--report", "overdue", "--on", ON.isoformat())
    assert now.exit_code == 0, now.output
    assert now.stdout == csv_of(reports[max(reports)]["overdue"])
    bad = await cli("replay", "--as-of", "1", "--report", "everything")
    assert bad.exit_code == 1 and "unknown report 'everything'" in bad.stderr


def csv_of(rep: Report) -> str:
    buf = io.StringIO()
    rep.write_csv(buf)
    return buf.getvalue()


async def cli(*args: str) -> Result:
    """A command in-process, with this test's CASEREG_* environment."""
    return await asyncio.to_thread(CliRunner().invoke, log_app(), list(args))
