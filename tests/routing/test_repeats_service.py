"""The repeat index and automatic confirmation on a real log (issue 7, items 4 and 5).

Petitions go through intake's real submit handler (sealed identities, encrypted texts, a SQLite key store) and
routing runs as its service does: its own NATS user, its migrated database, the projection runner.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from casereg.crypto.person import person_key_id
from casereg.log.envelope import Envelope
from casereg.log.events import EventRegistry
from casereg.projections.positions import write_position
from casereg.projections.projection import Projection
from casereg.projections.rebuild import Rebuild
from intake.domain.case import NEW, evolve
from intake.domain.events import INTAKE_EVENTS
from intake.domain.model import CaseStatus
from intake.handlers.sealing import case_key, person_id
from intake.handlers.submit import submit
from routing.projections import NAME
from routing.settings import RoutingSettings

from tests.intake.conftest import IntakeEnv, caller
from tests.intake.conftest import intake_env as intake_env
from tests.projections.conftest import running, wait_for
from tests.routing.service_support import (
    BINH,
    CONTENT,
    CONTENT_AGAIN,
    HOA,
    HOA_AGAIN,
    HOA_NO_ID,
    OTHER_CONTENT,
    PROVINCE,
    RECEPTION,
    SUMMARY,
    WARD,
    RoutingRig,
    complaint,
    denunciation,
)

CLERK = caller(agency=RECEPTION)


def flags(proposal: Envelope | None) -> set[str]:
    assert proposal is not None
    return {f["flag"] for f in proposal.payload["flags"]}


def repeat_of(proposal: Envelope | None) -> list[str]:
    assert proposal is not None
    found: list[str] = proposal.payload["repeat_of"]
    return found


async def all_proposed(rig: RoutingRig, case_ids: list[str]) -> bool:
    return all([await rig.proposal(c) is not None for c in case_ids])


def clear_values() -> list[bytes]:
    """Everything personal the petitions carried, in the forms a careless index might have stored."""
    values: list[str] = []
    for person in (HOA, HOA_AGAIN, HOA_NO_ID, BINH):
        for value in (person.full_name, person.id_number, person.address):
            if value:
                values += [value, value.casefold(), value.replace(" ", "")]
    values += [SUMMARY, SUMMARY.casefold(), "thu hồi đất", "thu hoi dat", "bồi thường", "lấn chiếm", "052190001234"]
    values += [CONTENT[:40], OTHER_CONTENT[:40], "Nguyen Thi Hoa", "Hoa"]
    return sorted({v.encode() for v in values} | {v.encode("utf-16-le") for v in values})


def database_bytes(tmp_path: Path) -> bytes:
    """The routing database as it lies on disk: the main file, its write-ahead log and shared memory."""
    files = [tmp_path / name for name in ("routing.db", "routing.db-wal", "routing.db-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())


async def test_repeats_of_the_same_person_are_linked_and_nothing_clear_is_stored(
    intake_env: IntakeEnv, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rig = await RoutingRig.start(intake_env, tmp_path)
    first = await submit(rig.deps, CLERK, complaint("first", HOA))
    # In the same batch as the first: the reaction sees it before the runner has applied it.
    again = await submit(rig.deps, CLERK, complaint("again", HOA_AGAIN, CONTENT_AGAIN))
    async with running(rig.runner()):
        await wait_for(lambda: all_proposed(rig, [first.case_id, again.case_id]))
        await wait_for(rig.caught_up)
        # Later batches: the first two are in the tables now.
        by_name = await submit(rig.deps, CLERK, complaint("by-name", HOA_NO_ID, CONTENT.upper()))
        other_person = await submit(rig.deps, CLERK, complaint("binh", BINH))
        other_matter = await submit(rig.deps, CLERK, complaint("other", HOA, OTHER_CONTENT, summary="Lấn chiếm"))
        later = [by_name.case_id, other_person.case_id, other_matter.case_id]
        await wait_for(lambda: all_proposed(rig, later))
        await wait_for(rig.caught_up)

    assert "repeat" not in flags(await rig.proposal(first.case_id))
    # Circular 05/2021 Art. 14(1): the same content while the first is still open: archived, linked to it.
    second = await rig.proposal(again.case_id)
    assert "repeat" in flags(second) and repeat_of(second) == [first.case_id]
    assert second is not None and second.payload["rule_id"] == "archive.duplicate"
    # Found by name and address (no ID number given), the same content in capitals: a repeat of both.
    assert repeat_of(await rig.proposal(by_name.case_id)) == [first.case_id, again.case_id]
    # Another person with the very same text, and the same person about another matter: no repeat.
    assert "repeat" not in flags(await rig.proposal(other_person.case_id))
    assert "repeat" not in flags(await rig.proposal(other_matter.case_id))
    assert rig.dead_letters() == 0

    cases = {r.case_id: r for r in rig.rows("repeat_cases")}
    assert set(cases) == {first.case_id, again.case_id, by_name.case_id, other_person.case_id, other_matter.case_id}
    assert {r.status for r in cases.values()} == {"open"}
    people = {r.case_id: r for r in rig.rows("repeat_submitters")}
    assert people[first.case_id].id_hash == people[again.case_id].id_hash  # "052 190 001 234" is the same number
    assert people[by_name.case_id].id_hash is None
    assert people[by_name.case_id].name_address_hash == people[first.case_id].name_address_hash
    assert people[other_person.case_id].id_hash != people[first.case_id].id_hash

    # The index holds keyed hashes and sketches only: no name, number, address or word of the petitions.
    stored = database_bytes(tmp_path)
    assert stored
    leaked = [v for v in clear_values() if v in stored]
    assert leaked == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert [v for v in clear_values() if v.decode("utf-8", "replace") in logged] == []


async def test_redelivery_and_restart_append_nothing(intake_env: IntakeEnv, tmp_path: Path) -> None:
    rig = await RoutingRig.start(intake_env, tmp_path)
    cases = [await submit(rig.deps, CLERK, complaint(f"p{i}", HOA)) for i in range(3)]
    async with running(rig.runner()):
        await wait_for(lambda: all_proposed(rig, [c.case_id for c in cases]))
        await wait_for(rig.caught_up)
    last = await rig.stream_last()
    index = (rig.rows("repeat_cases"), rig.rows("repeat_submitters"))
    proposals = [await rig.proposal(c.case_id) for c in cases]
    assert [repeat_of(p) for p in proposals] == [[], [cases[0].case_id], [cases[0].case_id, cases[1].case_id]]
    # Everything delivered again from the start, to a restarted service (empty memory), in batches of two.
    with rig.engine.begin() as conn:
        write_position(conn, NAME, 0)
    async with running(rig.runner(batch_size=2)):
        await wait_for(rig.caught_up)
    assert await rig.stream_last() == last
    assert [await rig.proposal(c.case_id) for c in cases] == proposals
    assert (rig.rows("repeat_cases"), rig.rows("repeat_submitters")) == index
    assert rig.dead_letters() == 0
    # The tables are rebuildable: replayed from the log into shadow tables and swapped in, the same rows.
    projection = rig.projection()
    rebuilt = Rebuild(
        Projection(projection.name, projection.subjects, projection.tables, projection.apply),
        rig.engine,
        rig.log.js,
        intake_env.settings.stream,
        EventRegistry(INTAKE_EVENTS),
    )
    assert await rebuilt.run() == last
    assert (rig.rows("repeat_cases"), rig.rows("repeat_submitters")) == index


async def test_status_follows_the_case(intake_env: IntakeEnv, tmp_path: Path) -> None:
    """A forwarded first petition is what a repeat duplicates (Circular 05/2021 Art. 14(1)): archived, linked."""
    rig = await RoutingRig.start(intake_env, tmp_path)
    first = await submit(rig.deps, CLERK, denunciation("den-1", HOA))
    async with running(rig.runner(auto_confirm=[RECEPTION])):
        await wait_for(lambda: all_proposed(rig, [first.case_id]))
        await wait_for(rig.caught_up)
        again = await submit(rig.deps, CLERK, denunciation("den-2", HOA_AGAIN))
        await wait_for(lambda: all_proposed(rig, [again.case_id]))
        await wait_for(rig.caught_up)
    statuses = {r.case_id: r.status for r in rig.rows("repeat_cases")}
    assert statuses[first.case_id] == "forwarded"
    second = await rig.proposal(again.case_id)
    assert second is not None and second.payload["rule_id"] == "archive.duplicate"
    assert repeat_of(second) == [first.case_id]
    # Archiving is confirmable too: the receiving agency has automatic confirmation on.
    assert [e.type for e in await rig.events(again.case_id)][-1] == "PetitionArchived"
    assert statuses[again.case_id] == "closed"


async def test_auto_confirmation_per_agency(intake_env: IntakeEnv, tmp_path: Path) -> None:
    assert RoutingSettings().auto_confirm_agencies == []  # off by default
    rig = await RoutingRig.start(intake_env, tmp_path)
    on = await submit(rig.deps, CLERK, denunciation("on", HOA))
    off = await submit(rig.deps, caller(agency=PROVINCE), denunciation("off", BINH))
    async with running(rig.runner(auto_confirm=[RECEPTION])):
        await wait_for(lambda: all_proposed(rig, [on.case_id, off.case_id]))
        await wait_for(rig.caught_up)
    events = await rig.events(on.case_id)
    assert [e.type for e in events] == [
        "PetitionReceived",
        "PetitionClassified",
        "OutcomeProposed",
        "PetitionForwarded",
    ]
    proposed, forwarded = events[2], events[3]
    assert proposed.payload["outcome"] == "forward" and proposed.payload["to_agency"] == WARD
    assert forwarded.actor.model_dump() == {
        "agency": RECEPTION,
        "officer": None,
        "role": "auto-confirm",
        "service": "routing",
    }
    assert forwarded.payload["to_agency"] == WARD
    assert forwarded.payload["basis"] == proposed.payload["article"]
    assert forwarded.payload["proposal_rule"] == proposed.payload["rule_id"]
    assert forwarded.causation_id == proposed.event_id
    state = NEW
    for envelope in events:
        state = evolve(state, envelope)
    assert state.status is CaseStatus.FORWARDED and WARD in state.visible_to
    # The province's committee has it off: the proposal waits for an officer.
    assert [e.type for e in await rig.events(off.case_id)][-1] == "OutcomeProposed"

    # Delivered again from the start with the setting still on: nothing new, not a second confirmation.
    last = await rig.stream_last()
    with rig.engine.begin() as conn:
        write_position(conn, NAME, 0)
    async with running(rig.runner(auto_confirm=[RECEPTION, PROVINCE])):
        await wait_for(rig.caught_up)
    assert await rig.stream_last() == last
    assert [e.type for e in await rig.events(off.case_id)][-1] == "OutcomeProposed"


async def test_a_destroyed_key_is_an_unknown_person(intake_env: IntakeEnv, tmp_path: Path) -> None:
    rig = await RoutingRig.start(intake_env, tmp_path)
    first = await submit(rig.deps, CLERK, complaint("k1", HOA))
    async with running(rig.runner()):
        await wait_for(lambda: all_proposed(rig, [first.case_id]))
        await wait_for(rig.caught_up)
    # The second petition's submitter is erased before routing reads it; the third's texts are.
    erased = await submit(rig.deps, CLERK, complaint("k2", HOA))
    intake_env.keys.destroy(person_key_id(person_id(erased.case_id, 0)))
    no_text = await submit(rig.deps, CLERK, complaint("k3", HOA))
    intake_env.keys.destroy(case_key(no_text.case_id))
    async with running(rig.runner()):
        await wait_for(lambda: all_proposed(rig, [erased.case_id, no_text.case_id]))
        await wait_for(rig.caught_up)
    assert repeat_of(await rig.proposal(erased.case_id)) == []  # nobody known to compare with
    assert repeat_of(await rig.proposal(no_text.case_id)) == []  # the same person, no content to compare
    people = {r.case_id: r for r in rig.rows("repeat_submitters")}
    assert people[erased.case_id].id_hash is None and people[erased.case_id].name_address_hash is None
    assert people[no_text.case_id].id_hash == people[first.case_id].id_hash
    assert {r.case_id: r.sketch for r in rig.rows("repeat_cases")}[no_text.case_id] is None

    # Erasing the first petition's submitter later unlinks them too, before any rebuild drops the row.
    intake_env.keys.destroy(person_key_id(person_id(first.case_id, 0)))
    fourth = await submit(rig.deps, CLERK, complaint("k4", HOA))
    async with running(rig.runner()):
        await wait_for(lambda: all_proposed(rig, [fourth.case_id]))
        await wait_for(rig.caught_up)
    assert repeat_of(await rig.proposal(fourth.case_id)) == []
    assert rig.dead_letters() == 0
