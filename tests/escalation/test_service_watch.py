"""Escalation's watch reaction on a real log: routing's flags recorded once each as CaseFlagged, and ``prolonged``
on a settled case re-submitted N times (not before; repeats of the still open case do not count), also when the
repeats arrive in one batch; nothing twice on redelivery."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.log.envelope import Actor, AggregateRef, Envelope
from casereg.log.errors import ConcurrencyConflict
from casereg.log.events import DomainEvent, NewEvent
from casereg.log.store import EventLog
from casereg.projections.positions import read_position, write_position
from casereg.projections.projection import Projection
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from escalation.domain.events import WatchFlag
from escalation.projections import NAME, registry
from escalation.reactions import KeepClocks, load_case
from escalation.tables import TABLES, apply, watch_repeats
from escalation.watch import KeepWatch, Reactions, flag_id, prolonged_id
from intake.handlers.submit import submit
from routing.domain.events import FlagRaised, OutcomeProposed
from routing.domain.model import FlagKind, Procedure

from tests.escalation.support import decided, policy
from tests.intake.conftest import IntakeEnv, caller, petition
from tests.intake.conftest import intake_env as intake_env
from tests.projections.conftest import running, wait_for

AGENCY = "2tier/52/ubnd-xa-a"
THRESHOLD = 3


def proposal(repeat_of: tuple[str, ...] = (), *extra: FlagKind) -> OutcomeProposed:
    """Routing's proposal as routing writes it: a repeat flag when it repeats something, and ``extra`` flags."""
    kinds = ([FlagKind.REPEAT] if repeat_of else []) + list(extra)
    return OutcomeProposed(
        outcome=None,
        procedure=Procedure.SETTLEMENT,
        to_agency=None,
        assigned_agency=AGENCY,
        competent_agency=AGENCY,
        rule_id="handling.complaint.accept",
        rule_version=1,
        article="LKN Art. 27",
        flags=tuple(FlagRaised(flag=k, article=f"article of {k.value}", detail={"people": 7}) for k in kinds),
        repeat_of=repeat_of,
        rules_version="test",
    )


async def write(log: EventLog, case_id: str, event: DomainEvent) -> str:
    """Append one event to a case as its author would (retrying a conflict with escalation's own appends)."""
    event_id = str(uuid.uuid4())
    new = NewEvent.of(event, event_id=event_id, occurred_at=datetime.now(UTC), actor=Actor(agency=AGENCY))
    ref = AggregateRef.case(case_id)
    while True:
        try:
            await log.append(ref, [new], (await load_case(log, ref)).head)
            return event_id
        except ConcurrencyConflict:
            continue


async def flags(log: EventLog, case_id: str) -> list[Envelope]:
    return [e for e in await log.events(AggregateRef.case(case_id)) if e.type == "CaseFlagged"]


def flagged(log: EventLog, case_id: str, n: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(await flags(log, case_id)) >= n

    return check


async def test_flags_recorded_once_and_prolonged_after_n_resubmissions(intake_env: IntakeEnv, tmp_path: Path) -> None:
    deps = await intake_env.deps()
    log = deps.log
    url = f"sqlite:///{tmp_path / 'escalation.db'}"
    migrate(url, [PLATFORM_MIGRATIONS, ("escalation.migrations", "alembic_version_escalation")])
    engine = create_engine(url)

    def make() -> ProjectionRunner:
        react = Reactions((KeepClocks(log, policy()), KeepWatch(log, engine, THRESHOLD, NAME)))
        projection = Projection(NAME, [f"reg.{intake_env.settings.province}.case.*"], TABLES, apply, react=react)
        options = RunnerOptions(batch_size=50, fetch_timeout=0.2)
        return ProjectionRunner(projection, engine, log.js, intake_env.settings.stream, registry(), options=options)

    async def stream_last() -> int:
        return int((await log.js.stream_info(intake_env.settings.stream)).state.last_seq)

    def position() -> int:
        with engine.connect() as conn:
            return read_position(conn, NAME)

    async def caught_up() -> None:
        async def done() -> bool:
            return position() >= await stream_last()

        await wait_for(done)

    async def new_case(key: str) -> str:
        return (await submit(deps, caller(), petition(key))).case_id

    async with running(make()):
        original = await new_case("original")
        # Routing finds it repeats the original while the original is still open: flags recorded, no re-submission.
        early = await new_case("early")
        early_proposal = await write(log, early, proposal((original,), FlagKind.CROWDED, FlagKind.OVER_LEVEL))
        await wait_for(flagged(log, early, 3))
        await write(log, original, decided("2026-07-20"))
        # Two re-submissions after the decision (the second proposed twice): not yet prolonged.
        first = await new_case("first")
        await write(log, first, proposal((original,)))
        second = await new_case("second")
        await write(log, second, proposal((original,)))
        await write(log, second, proposal((original,)))
        await caught_up()
        assert await flags(log, original) == []
        # The third: prolonged, on the original case.
        third = await new_case("third")
        await write(log, third, proposal((original,)))
        await wait_for(flagged(log, original, 1))
        # A fourth changes nothing: the flag is once per case.
        fourth = await new_case("fourth")
        await write(log, fourth, proposal((original,)))
        await caught_up()

    early_flags = await flags(log, early)
    assert sorted(e.payload["flag"] for e in early_flags) == ["crowded", "over_level", "repeat"]
    assert {e.event_id for e in early_flags} == {
        flag_id(early_proposal, k) for k in (WatchFlag.CROWDED, WatchFlag.OVER_LEVEL, WatchFlag.REPEAT)
    }
    repeat_flag = next(e for e in early_flags if e.payload["flag"] == "repeat")
    assert repeat_flag.payload["related_cases"] == [original]
    assert repeat_flag.payload["article"] == "article of repeat"
    assert all(e.causation_id == early_proposal and e.actor.service == "escalation" for e in early_flags)
    for case_id in (first, third, fourth):
        assert [e.payload["flag"] for e in await flags(log, case_id)] == ["repeat"]
    # One per proposal and kind: the second case was proposed twice.
    assert [e.payload["flag"] for e in await flags(log, second)] == ["repeat", "repeat"]
    (prolonged,) = await flags(log, original)
    assert prolonged.event_id == prolonged_id(original)
    assert prolonged.payload["flag"] == "prolonged"
    assert prolonged.payload["count"] == THRESHOLD
    assert prolonged.payload["related_cases"] == [first, second, third]  # not the repeat of the open case
    assert prolonged.payload["rule_id"] == "escalation.watch.prolonged"

    # Re-submissions stored while escalation is down reach it in one batch: the table lags, the overlay counts.
    other = await new_case("other")
    await write(log, other, decided("2026-07-21"))
    batch = [await new_case(f"batch-{i}") for i in range(THRESHOLD)]
    for case_id in batch:
        await write(log, case_id, proposal((other,)))
    before = await stream_last()
    async with running(make()):
        await wait_for(flagged(log, other, 1))
        await caught_up()
    (other_prolonged,) = await flags(log, other)
    assert other_prolonged.payload["related_cases"] == batch
    assert before < (last := await stream_last())
    with engine.connect() as conn:
        counted = conn.execute(
            sa.select(sa.func.count()).select_from(watch_repeats).where(watch_repeats.c.original_case_id == original)
        ).scalar()
    assert counted == 4  # first, second, third, fourth (the early one came before the decision)

    # Redelivery from the start (tables kept): nothing is appended again.
    with engine.begin() as conn:
        write_position(conn, NAME, 0)
    async with running(make()):
        await caught_up()
    assert await stream_last() == last
    assert len(await flags(log, original)) == 1 and len(await flags(log, other)) == 1
    assert len(await flags(log, early)) == 3
    with engine.connect() as conn:
        assert conn.execute(sa.text("select count(*) from dead_letters")).scalar() == 0
