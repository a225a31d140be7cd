"""Escalation's clocks reaction on a real log: DeadlineSet on receipt and acceptance, nothing twice on redelivery."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.log.commit import StoredCommit
from casereg.log.envelope import AggregateRef, Envelope, reaction_event_id
from casereg.projections.positions import read_position, write_position
from casereg.projections.projection import ApplyContext, Projection
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from escalation.projections import NAME, registry
from escalation.reactions import KeepClocks
from intake.commands import RecordAction
from intake.domain.model import ActionKind, PetitionKind
from intake.handlers.act import act
from intake.handlers.submit import submit

from tests.escalation.support import policy
from tests.intake.conftest import IntakeEnv, caller, petition
from tests.intake.conftest import intake_env as intake_env
from tests.projections.conftest import running, wait_for


def _nothing(ctx: ApplyContext, commit: StoredCommit) -> None:
    """The reaction alone (the due-date table has its own tests)."""


CLOCK_TYPES = ("DeadlineSet", "DeadlineMoved", "DeadlinePaused", "DeadlineStopped")


async def clock_events(env: IntakeEnv, case_id: str) -> list[Envelope]:
    deps = await env.deps()
    return [e for e in await deps.log.events(AggregateRef.case(case_id)) if e.type in CLOCK_TYPES]


async def test_clocks_set_on_receipt_and_acceptance_once_even_after_redelivery(
    intake_env: IntakeEnv, tmp_path: Path
) -> None:
    deps = await intake_env.deps()
    complaint = await submit(deps, caller(), petition("c1"))
    denunciation = await submit(deps, caller(), petition("d1", kind=PetitionKind.DENUNCIATION))
    url = f"sqlite:///{tmp_path / 'escalation.db'}"
    migrate(url, [PLATFORM_MIGRATIONS])
    engine = create_engine(url)
    projection = Projection(NAME, [f"reg.{intake_env.settings.province}.case.*"], [], _nothing)
    reacting = Projection(projection.name, projection.subjects, [], _nothing, react=KeepClocks(deps.log, policy()))

    def make() -> ProjectionRunner:
        return ProjectionRunner(
            reacting,
            engine,
            deps.log.js,
            intake_env.settings.stream,
            registry(),
            options=RunnerOptions(batch_size=10, fetch_timeout=0.2),
        )

    async def stream_last() -> int:
        return int((await deps.log.js.stream_info(intake_env.settings.stream)).state.last_seq)

    def position() -> int:
        with engine.connect() as conn:
            return read_position(conn, NAME)

    async def settled(case_id: str, count: int) -> bool:
        return len(await clock_events(intake_env, case_id)) >= count

    handler = caller(role="handler")
    async with running(make()):
        # Received Mon 6 Jul 2026 (Decree 155/2026 in force): complaint acceptance, 7 working days: 7-10 Jul (4),
        # 13-15 Jul (7) -> Wed 15 Jul.
        await wait_for(lambda: settled(complaint.case_id, 1))
        await wait_for(lambda: settled(denunciation.case_id, 1))
        # Accepted Tue 7 Jul: the acceptance clock stops on time and first-time settlement starts.
        await act(deps, handler, RecordAction(complaint.case_id, ActionKind.ACCEPT, date(2026, 7, 7), basis="LKN"), "a")
        await wait_for(lambda: settled(complaint.case_id, 3))
        last = await stream_last()
        await wait_for(lambda: position() >= last)

    events = await clock_events(intake_env, complaint.case_id)
    assert [(e.type, e.payload["clock"]) for e in events] == [
        ("DeadlineSet", "complaint.acceptance"),
        ("DeadlineStopped", "complaint.acceptance"),
        ("DeadlineSet", "complaint.settlement.first"),
    ]
    acceptance, stopped, settlement = (e.payload for e in events)
    assert (acceptance["start"], acceptance["due"], acceptance["unit"]) == ("2026-07-06", "2026-07-15", "working")
    assert stopped["on_time"] is True
    # First-time settlement from Tue 7 Jul, 30 days: 8 Jul + 29 = Thu 6 Aug (a working day).
    assert (settlement["start"], settlement["due"], settlement["days"]) == ("2026-07-07", "2026-08-06", 30)
    # Ids derive from the cause; the cause is recorded.
    for e in events:
        assert e.causation_id is not None
        assert e.event_id in {reaction_event_id(e.causation_id, e.type, i) for i in range(3)}
        assert e.actor.service == "escalation"
    denunciation_clocks = [e.payload["clock"] for e in await clock_events(intake_env, denunciation.case_id)]
    assert denunciation_clocks and all(c.startswith("denunciation.") for c in denunciation_clocks)

    # Redelivery: the position goes back to the start; a restarted service reads everything again.
    with engine.begin() as conn:
        write_position(conn, NAME, 0)
    async with running(make()):
        await wait_for(lambda: position() >= last)
    assert await stream_last() == last
    assert len(await clock_events(intake_env, complaint.case_id)) == 3
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from dead_letters")).scalar() == 0
