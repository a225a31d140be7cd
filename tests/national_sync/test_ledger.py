"""The ledger on a real log: events become outbox versions with the position; a rebuild keeps the push state;
seals from their own stream become ``seal`` versions. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa
from casereg.crypto.person import PersonIdentity
from casereg.projections.rebuild import Rebuild
from intake.commands import RecordAction, SubmitterIn
from intake.domain.model import ActionKind, PetitionKind
from intake.domain.reception import ReceptionType
from intake.handlers.act import act
from intake.handlers.reception import OpenSession, RecordEntry, open_session, record_entry
from intake.handlers.submit import submit
from national_sync.projections import registry
from national_sync.seals import SealFollower
from national_sync.tables import PENDING, PUSHED, national_state, outbox
from nats.aio.client import Client as NATS
from nats.js.api import StreamConfig
from nats.js.errors import BadRequestError

from tests.intake.conftest import IntakeEnv, caller, petition
from tests.intake.conftest import intake_env as intake_env
from tests.national_sync.ledger_support import engine as engine
from tests.national_sync.ledger_support import project, rows
from tests.projections.conftest import running, wait_for


def states(engine: sa.Engine) -> list[tuple[str, str, int, str]]:
    with engine.connect() as conn:
        query = sa.select(national_state).order_by(national_state.c.kind, national_state.c.record_id)
        return [(r.kind, r.record_id, r.version, r.state) for r in conn.execute(query)]


async def test_events_become_gap_free_versions_and_a_rebuild_keeps_the_push_state(
    intake_env: IntakeEnv, engine: sa.Engine
) -> None:
    deps = await intake_env.deps()
    complaint = await submit(deps, caller(), petition("c1"))
    denunciation = await submit(deps, caller(), petition("d1", kind=PetitionKind.DENUNCIATION, name="Trần Văn Bảo"))
    accept = RecordAction(complaint.case_id, ActionKind.ACCEPT, date(2026, 7, 7), basis="LKN Art. 27")
    await act(deps, caller(role="handler"), accept, "accept-c1")
    projection = await project(intake_env, engine)

    ledger = rows(engine)
    versions = [(r["record_id"], r["version"], r["previous_version"]) for r in ledger]
    assert versions == sorted([(complaint.case_id, 1, 0), (complaint.case_id, 2, 1), (denunciation.case_id, 1, 0)])
    assert all(r["state"] == PENDING and r["kind"] == "case" for r in ledger)
    latest = json.loads(next(r["payload"] for r in ledger if r["record_id"] == complaint.case_id and r["version"] == 2))
    assert latest["status"] == "accepted" and latest["acceptance"]["accepted"] is True
    text = " ".join(r["payload"] for r in ledger)
    assert "Hoa" not in text and "Bảo" not in text and "052190001234" not in text and "person" not in text

    # The pushers had pushed v1 of the complaint (and, say, an operator removed the denunciation's row): a rebuild
    # replays everything into shadow tables and leaves the outbox exactly as it is.
    with engine.begin() as conn:
        conn.execute(
            outbox.update().where(outbox.c.record_id == complaint.case_id, outbox.c.version == 1).values(state=PUSHED)
        )
        conn.execute(outbox.delete().where(outbox.c.record_id == denunciation.case_id))
    before_rows, before_states = rows(engine), states(engine)
    await Rebuild(projection, engine, deps.log.js, intake_env.settings.stream, registry()).run()
    assert rows(engine) == before_rows
    assert states(engine) == before_states


async def test_seals_become_seal_versions_once(admin_nc: NATS, engine: sa.Engine, unique: str) -> None:
    province, stream = f"s{unique}", f"SEALS_{unique}"
    js = admin_nc.jetstream()
    try:
        await js.add_stream(StreamConfig(name=stream, subjects=[f"seal.{province}", f"seal.o{unique}"]))
    except BadRequestError:  # provisioning made the seals stream (seal.*) on this server already: use it
        stream = await js.find_stream_name_by_subject(f"seal.{province}")
    for n in (1, 2):
        await js.publish(f"seal.{province}", json.dumps({"seal_no": n, "merkle_root": f"r{n}"}).encode())
    await js.publish(f"seal.o{unique}", json.dumps({"seal_no": 1}).encode())  # another province's: not ours
    follower = SealFollower(engine, js, stream, province, poll_interval=0.05)
    async with running(follower):
        await wait_for(lambda: len(rows(engine)) == 2)
        await js.publish(f"seal.{province}", json.dumps({"seal_no": 3, "merkle_root": "r3"}).encode())
        await wait_for(lambda: len(rows(engine)) == 3)
    assert await follower.step() == follower.position()  # nothing new: no row twice
    seals = rows(engine)
    assert [(r["kind"], r["record_id"], r["version"], r["previous_version"]) for r in seals] == [
        ("seal", province, 1, 0),
        ("seal", province, 2, 1),
        ("seal", province, 3, 2),
    ]
    assert json.loads(seals[2]["payload"]) == {"seal_no": 3, "merkle_root": "r3"}


async def test_reception_book_entries_become_reception_versions(intake_env: IntakeEnv, engine: sa.Engine) -> None:
    deps = await intake_env.deps()
    opened = await open_session(
        deps,
        caller(),
        OpenSession("s1", "hash-s1", date(2026, 7, 6), ReceptionType.REGULAR, host_officer="chu-tich"),
    )
    citizen = SubmitterIn(PersonIdentity(full_name="Lê Văn Cường", id_number="052190009999"))
    entry = await record_entry(
        deps,
        caller(),
        RecordEntry(opened.session_id, "e1", "hash-e1", (citizen,), people_count=2, content="Hỏi về bồi thường"),
    )
    await project(intake_env, engine)
    ledger = rows(engine)
    assert [(r["kind"], r["record_id"], r["version"]) for r in ledger] == [("reception", entry.entry_id, 1)]
    record = json.loads(ledger[0]["payload"])
    assert record["session_id"] == opened.session_id and record["serial_no"] == entry.serial_no
    assert record["people_count"] == 2 and record["reception_type"] == "regular"
    assert "Cường" not in ledger[0]["payload"] and "052190009999" not in ledger[0]["payload"]
