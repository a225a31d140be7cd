"""The pushers' ordering logic against an in-memory national side: per record strictly in order, in parallel
across records; conflicts, rejections and outages handled as the ledger says. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from casereg.projections.watch import PositionWatch
from national_sync.operations import ledger_status, retry
from national_sync.pusher import Pusher
from national_sync.tables import PENDING, PUSHED, REJECTED, outbox

from tests.national_sync.ledger_support import FakeNational, add_versions, rows
from tests.national_sync.ledger_support import engine as engine
from tests.projections.conftest import running, wait_for


def all_pushed(engine: sa.Engine) -> bool:
    return ledger_status(engine).backlog == 0


def pusher(engine: sa.Engine, national: FakeNational, workers: int = 4) -> Pusher:
    return Pusher(engine, national, workers=workers, poll_interval=0.05, backoff_initial=0.05, backoff_max=0.2)


def in_order(national: FakeNational) -> dict[tuple[str, str], list[int]]:
    seen: dict[tuple[str, str], list[int]] = {}
    for kind, record_id, version in national.received:
        seen.setdefault((kind, record_id), []).append(version)
    return seen


async def test_every_record_in_order_in_parallel_across_records(engine: sa.Engine) -> None:
    for r in range(30):
        add_versions(engine, "case", f"c{r}", range(1, 6))
    national = FakeNational()
    async with running(pusher(engine, national, workers=6)):
        await wait_for(lambda: all_pushed(engine))
    assert all(versions == [1, 2, 3, 4, 5] for versions in in_order(national).values())
    assert len(in_order(national)) == 30
    assert all(r["state"] == PUSHED and r["attempts"] == 1 and r["pushed_at"] for r in rows(engine))


async def test_versions_added_while_running_follow_in_order(engine: sa.Engine) -> None:
    national = FakeNational()
    async with running(pusher(engine, national)):
        for step in range(1, 6):
            add_versions(engine, "case", "c1", range(step, step + 1))
            await asyncio.sleep(0.01)
        await wait_for(lambda: all_pushed(engine) and national.held.get(("case", "c1"), (0,))[0] == 5)
    assert in_order(national)[("case", "c1")] == [1, 2, 3, 4, 5]


async def test_a_conflict_skips_what_the_national_side_holds_or_pushes_again_what_it_lost(engine: sa.Engine) -> None:
    add_versions(engine, "case", "ahead", range(1, 6))
    add_versions(engine, "case", "lost", range(1, 5))
    national = FakeNational(held={("case", "ahead"): (3, {}), ("case", "lost"): (1, {})})
    national.history[("case", "lost", 1)] = {"record": "lost", "v": 1}
    # The ledger believes v1..v3 of "lost" arrived; the national side kept only v1.
    with engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.record_id == "lost", outbox.c.version <= 3).values(state=PUSHED))
    async with running(pusher(engine, national)):
        await wait_for(lambda: all_pushed(engine))
        await wait_for(lambda: national.held[("case", "lost")][0] == 4)
    assert national.held[("case", "ahead")][0] == 5
    assert in_order(national)[("case", "ahead")] == [1, 4, 5]  # v1 answered 409 held=3: v2, v3 marked pushed
    assert in_order(national)[("case", "lost")] == [4, 2, 3, 4]  # 409 held=1: pushed again from v2
    assert [r["state"] for r in rows(engine)] == [PUSHED] * 9


async def test_a_rejected_version_stops_its_record_until_retried(engine: sa.Engine) -> None:
    add_versions(engine, "case", "bad", range(1, 4))
    add_versions(engine, "case", "good", range(1, 3))
    national = FakeNational(reject={("bad", 2)})
    async with running(pusher(engine, national)):
        await wait_for(lambda: ledger_status(engine).rejected == 1 and ledger_status(engine).backlog == 1)
        status = ledger_status(engine)
        assert status.backlog == 1 and status.last_error == "HTTP 422"  # bad v3 waits behind v2
        assert [r["state"] for r in rows(engine) if r["record_id"] == "bad"] == [PUSHED, REJECTED, PENDING]
        national.reject.clear()
        assert retry(engine) == 1
        await wait_for(lambda: all_pushed(engine) and ledger_status(engine).rejected == 0)
    assert in_order(national)[("case", "bad")] == [1, 2, 2, 3]


async def test_an_outage_is_recorded_and_backed_off_then_everything_arrives_in_order(engine: sa.Engine) -> None:
    for r in range(5):
        add_versions(engine, "case", f"c{r}", range(1, 4))
    national = FakeNational(fail_next=12)
    async with running(pusher(engine, national, workers=2)):
        await wait_for(lambda: all_pushed(engine))
    assert all(versions == [1, 2, 3] for versions in in_order(national).values())
    assert sum(r["attempts"] for r in rows(engine)) == 15 + 12
    assert all(r["last_error"] is None for r in rows(engine))


async def test_new_ledger_rows_wake_an_idle_dispatcher_before_its_poll(engine: sa.Engine) -> None:
    """With the ledger's position watch, an idle pusher does not wait out its (here very long) poll interval."""
    national, ledger = FakeNational(), PositionWatch()
    idle = Pusher(engine, national, workers=2, poll_interval=600.0, ledger=ledger)
    async with running(idle):
        await wait_for(lambda: ledger.waiting == 1)  # the dispatcher found nothing and sits in its long wait
        add_versions(engine, "case", "c1", range(1, 3))
        ledger.advance(1)  # what the ledger projection's runner does after committing those rows
        await wait_for(lambda: all_pushed(engine), limit=120.0)
    assert in_order(national)[("case", "c1")] == [1, 2]
