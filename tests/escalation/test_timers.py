"""The timer loop on a real log with a manual clock: warnings, one miss and one escalation, catch-up after downtime."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.directory.load import DirectoryFiles
from casereg.directory.load import load as load_directory
from casereg.log.envelope import AggregateRef, Envelope
from casereg.log.store import EventLog
from casereg.projections.positions import read_position, write_position
from casereg.projections.projection import Projection
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from escalation.projections import NAME, registry
from escalation.reactions import KeepClocks
from escalation.tables import TABLES, apply, deadlines
from escalation.timers import TimerLoop
from intake.commands import RecordAction
from intake.domain.model import ActionKind
from intake.handlers.act import act
from intake.handlers.submit import submit

from tests.escalation.support import policy
from tests.intake.conftest import IntakeEnv, caller, petition
from tests.intake.conftest import intake_env as intake_env
from tests.projections.conftest import running, wait_for

COMMUNE = "2tier/21583/ubnd"  # in the shipped directory of province 52; supervised by 2tier/52/ubnd
SETTLEMENT = "complaint.settlement.first"
TIMER_TYPES = ("DeadlineApproaching", "DeadlineMissed", "CaseEscalated")


@dataclass
class Escalation:
    env: IntakeEnv
    log: EventLog
    engine: sa.Engine
    url: str

    def runner(self) -> ProjectionRunner:
        projection = Projection(
            NAME, [f"reg.{self.env.settings.province}.case.*"], TABLES, apply, react=KeepClocks(self.log, policy())
        )
        return ProjectionRunner(
            projection,
            self.engine,
            self.log.js,
            self.env.settings.stream,
            registry(),
            options=RunnerOptions(batch_size=10, fetch_timeout=0.2),
        )

    def timers(self, interval: float = 60.0) -> TimerLoop:
        return TimerLoop(
            log=self.log,
            engine=create_engine(self.url, reads=True),
            clock=self.env.clock,
            policy=policy(),
            directory=load_directory(DirectoryFiles.shipped("52")),
            interval=interval,
        )

    def row(self, case_id: str, clock: str) -> sa.Row[tuple[object, ...]] | None:
        with self.engine.connect() as conn:
            query = sa.select(deadlines).where(deadlines.c.case_id == case_id, deadlines.c.clock == clock)
            return conn.execute(query).first()

    async def timer_events(self, case_id: str) -> list[Envelope]:
        return [e for e in await self.log.events(AggregateRef.case(case_id)) if e.type in TIMER_TYPES]

    async def caught_up(self) -> None:
        """Until the projection has applied the whole stream, its own reactions' appends included."""

        def position() -> int:
            with self.engine.connect() as conn:
                return read_position(conn, NAME)

        async def done() -> bool:
            last = int((await self.log.js.stream_info(self.env.settings.stream)).state.last_seq)
            if position() < last:
                return False
            await asyncio.sleep(0.3)  # a reaction to the last commit may still be appending
            return position() >= int((await self.log.js.stream_info(self.env.settings.stream)).state.last_seq)

        await wait_for(done)

    async def accepted_complaint(self, key: str, on: date) -> str:
        deps = await self.env.deps()
        case = await submit(deps, caller(COMMUNE), petition(key))
        cmd = RecordAction(case.case_id, ActionKind.ACCEPT, on, basis="LKN Art. 27")
        await act(deps, caller(COMMUNE, role="handler"), cmd, f"accept-{key}")
        await wait_for(lambda: (r := self.row(case.case_id, SETTLEMENT)) is not None and r.state == "running")
        return case.case_id


@pytest.fixture
async def escalation(intake_env: IntakeEnv, tmp_path: Path) -> AsyncIterator[Escalation]:
    url = f"sqlite:///{tmp_path / 'escalation.db'}"
    migrate(url, [PLATFORM_MIGRATIONS, ("escalation.migrations", "alembic_version_escalation")])
    deps = await intake_env.deps()
    engine = create_engine(url)
    yield Escalation(intake_env, deps.log, engine, url)
    engine.dispose()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


async def test_warnings_then_exactly_one_miss_and_one_escalation(escalation: Escalation) -> None:
    clock = escalation.env.clock
    async with running(escalation.runner()):
        # Received Mon 6 Jul 2026, accepted Tue 7 Jul: first-time settlement, 30 days -> last day Thu 6 Aug.
        case_id = await escalation.accepted_complaint("t1", date(2026, 7, 7))
        row = escalation.row(case_id, SETTLEMENT)
        assert row is not None and row.due == date(2026, 8, 6)
        timers = escalation.timers()
        assert await timers.tick() == 0  # 6 Jul: a month to go
        # Thu 30 Jul: working days after it up to 6 Aug: 31 Jul, 3, 4, 5, 6 Aug = 5 -> the 5-day warning.
        clock.set(at("2026-07-30T09:00:00+07:00"))
        assert await timers.tick() == 1
        assert await timers.tick() == 0  # the same warning again, table caught up or not
        await escalation.caught_up()
        assert await timers.tick() == 0
        # Wed 5 Aug: one working day left (6 Aug) -> the 1-day warning.
        clock.set(at("2026-08-05T08:00:00+07:00"))
        assert await timers.tick() == 1
        await escalation.caught_up()
        # Thu 6 Aug, 23:59:59 in Vietnam: the last day has not ended.
        clock.set(at("2026-08-06T23:59:59+07:00"))
        assert await timers.tick() == 0
        # Midnight: missed, and escalated to the province's people's committee.
        clock.set(at("2026-08-07T00:00:00+07:00"))
        assert await timers.tick() == 2
        assert await timers.tick() == 0
        await escalation.caught_up()
        clock.set(at("2026-09-30T10:00:00+07:00"))
        assert await timers.tick() == 0
        row = escalation.row(case_id, SETTLEMENT)
        assert row is not None and row.missed and row.warned_lead == 1

    events = await escalation.timer_events(case_id)
    assert [(e.type, e.payload.get("lead")) for e in events] == [
        ("DeadlineApproaching", 5),
        ("DeadlineApproaching", 1),
        ("DeadlineMissed", None),
        ("CaseEscalated", None),
    ]
    missed, escalated = events[2], events[3]
    assert missed.payload["due"] == "2026-08-06" and missed.payload["clock"] == SETTLEMENT
    assert missed.occurred_at == at("2026-08-07T00:00:00+07:00")
    assert escalated.payload["to_agency"] == "2tier/52/ubnd"
    assert escalated.payload["from_agency"] == COMMUNE
    assert SETTLEMENT in escalated.payload["reason"] and "2026-08-06" in escalated.payload["reason"]


async def test_stopped_over_the_due_moment_catches_up_once(escalation: Escalation) -> None:
    clock = escalation.env.clock
    async with running(escalation.runner()):
        case_id = await escalation.accepted_complaint("t2", date(2026, 7, 7))
        on_time = await escalation.accepted_complaint("t3", date(2026, 7, 7))
        deps = await escalation.env.deps()
        decide = RecordAction(
            on_time, ActionKind.ISSUE_DECISION, date(2026, 8, 3), decision_number="7/QĐ", decision_result="rejected"
        )
        await act(deps, caller(COMMUNE, role="handler"), decide, "decide-t3")
        await wait_for(lambda: (r := escalation.row(on_time, SETTLEMENT)) is not None and r.state == "stopped")
    # The whole service is down from 3 Aug to 20 Sep; it starts again with the clock past the due moment.
    clock.set(at("2026-09-20T10:00:00+07:00"))
    for _ in range(2):  # started, stopped and started again: nothing twice
        async with running(escalation.runner()):
            stop = asyncio.Event()
            loop = asyncio.create_task(escalation.timers(interval=0.05).run(stop))
            await wait_for(lambda: (r := escalation.row(case_id, SETTLEMENT)) is not None and bool(r.missed))
            await asyncio.sleep(0.3)  # a few more ticks
            stop.set()
            await loop
    # Redelivery of everything to the projection changes nothing either.
    with escalation.engine.begin() as conn:
        write_position(conn, NAME, 0)
    async with running(escalation.runner()):
        await escalation.caught_up()
        assert await escalation.timers().tick() == 0
    events = Counter(e.type for e in await escalation.timer_events(case_id))
    # Past the due date when it woke up: no warnings any more, one miss, one escalation.
    assert events == Counter({"DeadlineMissed": 1, "CaseEscalated": 1})
    assert await escalation.timer_events(on_time) == []
