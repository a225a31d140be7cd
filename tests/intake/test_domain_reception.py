"""Reception sessions and the book, pure: what may be recorded in a session, and how it is numbered."""

from __future__ import annotations

from datetime import date
from functools import reduce

import pytest
from casereg.crypto.person import SealedIdentity
from casereg.log.events import DomainEvent
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st
from intake.domain.case import ActionRejected
from intake.domain.events import Submitter
from intake.domain.reception import (
    NO_SESSION,
    EntryRejected,
    ReceptionEntryRecorded,
    ReceptionSessionClosed,
    ReceptionSessionOpened,
    ReceptionType,
    SessionState,
    book_counter_id,
    close_session,
    decide_entry,
    entry_id_for,
    evolve_session,
    open_session,
    representatives_problem,
    session_id_for,
)
from intake.domain.submission import CounterState, SubmissionMismatch

from tests.intake.domain_support import AGENCY, OTHER, TEXT, envelope

DAY = date(2026, 7, 6)
SESSION = "s1"


def given(*events: DomainEvent) -> SessionState:
    return reduce(evolve_session, (envelope(e, i + 1) for i, e in enumerate(events)), NO_SESSION)


def opened(agency: str = AGENCY, held_on: date = DAY, request_hash: str = "h-open") -> ReceptionSessionOpened:
    return ReceptionSessionOpened(
        agency=agency,
        held_on=held_on,
        reception_type=ReceptionType.PERIODIC,
        host_officer="chu-tich",
        location="Trụ sở tiếp công dân xã",
        request_hash=request_hash,
    )


def citizen(i: int, representative: bool = False, id_number: bool = True) -> Submitter:
    identity = SealedIdentity(person_key=f"person-{i}", full_name=TEXT, id_number=TEXT if id_number else None)
    return Submitter(person_id=f"p{i}", identity=identity, representative=representative)


def entry(
    entry_id: str = "e1",
    people: int = 1,
    citizens: int = 1,
    representatives: tuple[int, ...] = (),
    request_hash: str = "h-e1",
    serial_no: int = 0,
    id_numbers: bool = True,
) -> ReceptionEntryRecorded:
    return ReceptionEntryRecorded(
        entry_id=entry_id,
        serial_no=serial_no,
        year=0,
        citizens=tuple(citizen(i, i in representatives, id_numbers) for i in range(citizens)),
        people_count=people,
        representatives=representatives,
        content=TEXT,
        request_hash=request_hash,
    )


def decide(
    state: SessionState, e: ReceptionEntryRecorded, last: int = 0, agency: str = AGENCY
) -> ReceptionEntryRecorded:
    decision = decide_entry(state, CounterState(last), agency=agency, session_id=SESSION, entry=e)
    assert decision.entry is not None and decision.serial is not None
    assert decision.serial.number == decision.entry.serial_no
    return decision.entry


def test_a_session_opens_once_per_request() -> None:
    decision = open_session(NO_SESSION, opened())
    assert not decision.existing and decision.event == opened()
    state = given(opened())
    assert state.exists and state.agency == AGENCY and state.held_on == DAY and not state.closed
    assert open_session(state, opened()).existing
    with pytest.raises(SubmissionMismatch):
        open_session(state, opened(request_hash="other"))


def test_ids_are_deterministic_per_agency_and_key() -> None:
    assert session_id_for(AGENCY, "k") == session_id_for(AGENCY, "k") != session_id_for(OTHER, "k")
    assert entry_id_for(AGENCY, "s1", "k") != entry_id_for(AGENCY, "s2", "k")
    # the book's counter is its own subject token, beside the receipt counter "<agency>-<year>"
    assert book_counter_id(AGENCY, 2026) == "2tier_52_ubnd-xa-a_book-2026"


def test_an_entry_takes_the_next_serial_of_the_sessions_year() -> None:
    recorded = decide(given(opened()), entry(), last=41)
    assert (recorded.serial_no, recorded.year) == (42, 2026)
    state = given(opened(), recorded)
    assert state.entries["e1"].serial_no == 42 and state.people == 1


def test_a_recorded_entry_answers_its_retry_and_refuses_another_request_under_its_key() -> None:
    state = given(opened(), decide(given(opened()), entry(), last=0))
    again = decide_entry(state, CounterState(5), agency=AGENCY, session_id=SESSION, entry=entry())
    assert again.existing is not None and again.existing.serial_no == 1 and again.entry is None
    with pytest.raises(SubmissionMismatch):
        decide_entry(state, CounterState(5), agency=AGENCY, session_id=SESSION, entry=entry(request_hash="x"))


def test_entries_only_in_an_open_session_of_the_callers_agency() -> None:
    with pytest.raises(ActionRejected, match="does not exist"):
        decide(NO_SESSION, entry())
    with pytest.raises(ActionRejected, match="own reception book"):
        decide(given(opened()), entry(), agency=OTHER)
    closed = given(opened(), ReceptionSessionClosed(closed_on=DAY))
    with pytest.raises(ActionRejected, match="closed"):
        decide(closed, entry())


def test_crowded_group_of_seven_with_two_representatives() -> None:
    recorded = decide(given(opened()), entry(people=7, citizens=3, representatives=(0, 2)))
    assert recorded.representatives == (0, 2)
    assert [c.representative for c in recorded.citizens] == [True, False, True]


def test_twelve_people_with_six_representatives_is_refused() -> None:
    with pytest.raises(EntryRejected, match="1 to 5") as refused:
        decide(given(opened()), entry(people=12, citizens=6, representatives=(0, 1, 2, 3, 4, 5)))
    assert refused.value.field == "representatives"


@pytest.mark.parametrize(
    ("people", "citizens", "representatives", "ok"),
    [
        (1, 1, (), True),
        (4, 2, (0,), False),  # not a crowded group: no representatives
        (5, 1, (), False),  # a crowded group appoints representatives
        (5, 1, (0,), True),
        (10, 3, (0, 1), True),
        (10, 3, (0, 1, 2), False),  # 5-10 people: 1 or 2
        (11, 5, (0, 1, 2, 3, 4), True),
        (11, 6, (0, 1, 2, 3, 4, 5), False),  # more than 10: at most 5
        (7, 2, (0, 2), False),  # representatives are among the citizens
        (7, 2, (1, 1), False),  # named once
    ],
)
def test_representatives_follow_ltcd_art_29(
    people: int, citizens: int, representatives: tuple[int, ...], ok: bool
) -> None:
    assert (representatives_problem(people, citizens, representatives) is None) is ok


@hypothesis_given(st.integers(1, 200), st.integers(0, 8))
def test_representatives_rule_is_the_statutes_bounds(people: int, n: int) -> None:
    allowed = n == 0 if people < 5 else (1 <= n <= 2 if people <= 10 else 1 <= n <= 5)
    assert (representatives_problem(people, max(n, 1), tuple(range(n))) is None) is allowed


def test_people_count_covers_the_citizens_named() -> None:
    with pytest.raises(EntryRejected) as refused:
        decide(given(opened()), entry(people=1, citizens=2))
    assert refused.value.field == "people_count"


def test_from_july_2026_citizens_give_an_id_number() -> None:
    with pytest.raises(EntryRejected) as refused:
        decide(given(opened()), entry(citizens=2, people=2, id_numbers=False))
    assert refused.value.field == "citizens[0].id_number"
    earlier = given(opened(held_on=date(2026, 6, 30)))
    assert decide(earlier, entry(id_numbers=False)).serial_no == 1


def test_close_once_by_its_agency_not_before_the_day() -> None:
    state = given(opened())
    assert close_session(state, AGENCY, DAY) == ReceptionSessionClosed(closed_on=DAY)
    with pytest.raises(ActionRejected, match="only the agency"):
        close_session(state, OTHER, DAY)
    with pytest.raises(ActionRejected, match="before"):
        close_session(state, AGENCY, date(2026, 7, 5))
    closed = given(opened(), ReceptionSessionClosed(closed_on=DAY))
    assert closed.closed and closed.closed_on == DAY and closed.closed_by_event == "e2"
    with pytest.raises(ActionRejected, match="already closed"):
        close_session(closed, AGENCY, DAY)
    with pytest.raises(ActionRejected, match="does not exist"):
        close_session(NO_SESSION, AGENCY, DAY)
