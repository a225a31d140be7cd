"""Reconciliation on real pieces: intake's events on a real log, the ledger, the pushers through the real HTTP
adapter to the real simulator process; then every kind of difference is listed, and none when all agree."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from casereg.log.canonical import canonical_bytes
from casereg.projections.deadletters import list_dead_letters
from intake.domain.model import PetitionKind
from intake.handlers.submit import submit
from national_sync.adapter import HttpNationalAdapter
from national_sync.ledger import NAME
from national_sync.projections import registry
from national_sync.pusher import Pusher
from national_sync.reconcile import Latest, LedgerView, LogView, compare, from_ledger, from_log, from_national, lines
from national_sync.settings import NationalSyncSettings
from national_sync.tables import REJECTED, outbox
from nats.aio.client import Client as NATS

from tests.intake.conftest import IntakeEnv, caller, petition
from tests.intake.conftest import intake_env as intake_env
from tests.national_sync.ledger_support import ledger_engine, project
from tests.national_sync.simulator_support import SimulatorProcess, simulator_process
from tests.projections.conftest import running, wait_for


@pytest.fixture
def simulator(tmp_path: Path) -> Iterator[SimulatorProcess]:
    (tmp_path / "sim").mkdir()
    with simulator_process(tmp_path / "sim") as process:
        yield process


async def test_differences_are_listed_and_none_when_all_agree(
    intake_env: IntakeEnv, simulator: SimulatorProcess, tmp_path: Path, admin_nc: NATS
) -> None:
    settings = intake_env.settings
    deps = await intake_env.deps()
    cases = [await submit(deps, caller(), petition(f"r{i}", kind=PetitionKind.DENUNCIATION)) for i in range(4)]
    garbage = f"reg.{settings.province}.case.garbage"
    await admin_nc.jetstream().publish(garbage, b"not a commit")  # the ledger dead-letters it
    engine = ledger_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    own = NationalSyncSettings(national_url=simulator.url, retry_attempts=2, retry_initial=0.01, retry_max=0.05)
    adapter = HttpNationalAdapter(own, settings.province)

    async def differences() -> list[str]:
        log = await from_log(
            deps.log.js,
            settings.stream,
            settings.seals_stream,
            settings.province,
            registry(),
            from_ledger(engine).position,
            0,
        )
        return lines(compare(log, from_ledger(engine), await from_national(adapter.holdings())))

    try:
        await project(intake_env, engine)
        async with running(Pusher(engine, adapter, poll_interval=0.05)):
            await wait_for(lambda: from_ledger(engine).unpushed == {} and len(from_ledger(engine).latest) == 4)
        assert [d.subject for d in list_dead_letters(engine, projection=NAME)] == [garbage]
        assert await differences() == [
            f"log {garbage}: unreadable-event (log -, ledger -, national -); "
            f"stream seq {cases[-1].stream_seq + 1}: CorruptCommit; dead-lettered"
        ]

        first, second, third = (c.case_id for c in cases[:3])
        with engine.begin() as conn:  # the ledger lost the record of one case, and thinks another was rejected
            conn.execute(outbox.delete().where(outbox.c.record_id == first))
            conn.execute(outbox.update().where(outbox.c.record_id == second).values(state=REJECTED))
        async with httpx.AsyncClient(base_url=simulator.url) as http:  # the national side got a foreign version
            body = canonical_bytes({"version": 2, "previous_version": 1, "payload": {"forged": True}})
            path = f"/v1/provinces/{settings.province}/records/case/{third}/versions/2"
            answer = await http.put(
                path, content=body, headers={"Idempotency-Key": "x", "Content-Type": "application/json"}
            )
            assert answer.status_code == 201, answer.text
        found = await differences()
        expected = sorted(
            [f"case {first}: missing-in-ledger", f"case {second}: not-pushed", f"case {third}: national-differs"]
        )
        assert [line.split(" (")[0] for line in found] == [f"log {garbage}: unreadable-event", *expected]
        assert all("v1" in line for line in found[1:])
    finally:
        await adapter.aclose()
        engine.dispose()


def test_an_unreadable_event_and_a_record_only_the_national_side_holds_are_differences() -> None:
    national = {("case", "ghost"): Latest(1, "a" * 64)}
    found = compare(LogView({}, [(7, "reg.52.case.x", "CorruptCommit")]), LedgerView({}, {}, 0, 0), national)
    assert [(d.kind, d.record_id, d.what) for d in found] == [
        ("log", "reg.52.case.x", "unreadable-event"),
        ("case", "ghost", "not-in-log"),
    ]
