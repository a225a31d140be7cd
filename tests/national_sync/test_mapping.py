"""The fold from the log's events to national records: pure, given events / then versions."""

from __future__ import annotations

from typing import Any

from casereg.log.envelope import Envelope
from hypothesis import given, settings
from hypothesis import strategies as st
from intake.domain.model import PetitionKind
from national_sync.domain.mapping import CASE, RECEPTION, SESSION, Tracked, Update, fold
from national_sync.domain.records import NationalCase

from tests.intake.domain_support import AGENCY, OTHER, envelope, received

PROVINCE = "52"


def run(*events: Any, aggregate: str = "case") -> tuple[dict[tuple[str, str], Tracked], list[Update]]:
    """Fold events (DomainEvent or (type, payload)) in order; the final states and every update."""
    states: dict[tuple[str, str], Tracked] = {}
    updates: list[Update] = []
    for i, e in enumerate(events):
        env = e if isinstance(e, Envelope) else envelope(e, i + 1)
        for u in fold(lambda k, r: states.get((k, r)), aggregate, env, PROVINCE):
            states[(u.kind, u.record_id)] = Tracked(u.version, u.state)
            updates.append(u)
    return states, updates


def case(states: dict[tuple[str, str], Tracked]) -> NationalCase:
    return NationalCase.model_validate(states[(CASE, "c1")].state)


def clock(event: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    base = {"clock": "complaint.first.accept", "rule_id": "r1", "rule_version": 1, "article": "LKN Art. 27"}
    return (event, base | fields)


def test_a_received_petition_is_version_1_without_any_identity() -> None:
    states, updates = run(received(PetitionKind.DENUNCIATION))
    assert [(u.kind, u.record_id, u.version, u.previous_version, u.push) for u in updates] == [(CASE, "c1", 1, 0, True)]
    record = case(states)
    assert record.type == "denunciation" and record.status == "received" and record.eligible is None
    text = str(updates[0].state)
    assert "p1" not in text and "person" not in text and "submitters" not in text and "summary" not in text


def test_each_change_is_the_next_version_and_no_change_is_no_version() -> None:
    states, updates = run(
        received(PetitionKind.RECOMMENDATION),
        ("ReceiptNumberIssued", {"number": 1}),  # not on the national record: no version
        ("PetitionClassified", {"classification": "complaint", "split_into": []}),
        ("OutcomeProposed", {"outcome": None}),
        ("OutcomeProposed", {"outcome": None}),  # same judgement again: no version
        ("CaseAccepted", {"accepted_on": "2026-07-03", "handling_agency": AGENCY, "basis": "LKN Art. 27"}),
        clock("DeadlineSet", due="2026-08-01"),
        clock("DeadlineApproaching", due="2026-08-01"),  # a warning: no change
        ("SomethingNewerThanThisCode", {"x": 1}),  # unknown types are ignored
        ("DecisionIssued", {"number": "7/QĐ", "decided_on": "2026-07-20", "result": "upheld"}),
        clock("DeadlineStopped", due="2026-08-01", on_time=True, stopped_on="2026-07-20"),
    )
    assert [u.version for u in updates] == [1, 2, 3, 4, 5, 6, 7]
    assert [u.previous_version for u in updates] == [0, 1, 2, 3, 4, 5, 6]
    record = case(states)
    assert record.type == "complaint" and record.declared_type == "recommendation_reflection"
    assert record.eligible is True and record.within_competence is True
    assert record.acceptance is not None and record.acceptance.accepted and record.handling_agency == AGENCY
    assert record.settlement is not None and record.settlement.result == "upheld" and record.status == "settled"
    assert [(d.clock, d.status, d.on_time) for d in record.deadlines] == [("complaint.first.accept", "stopped", True)]
    assert record.last_change.event_id == "e11"


def test_a_forwarded_petition_is_outside_competence_and_names_where_it_went() -> None:
    states, _ = run(
        received(),
        ("OutcomeProposed", {"outcome": "forward"}),
        ("PetitionForwarded", {"to_agency": OTHER, "basis": "TT 05/2021 Art. 14"}),
    )
    record = case(states)
    assert record.within_competence is False and record.forwarded_to == OTHER and record.status == "forwarded"
    assert record.first_handling is not None and record.first_handling.outcome == "forwarded"


def test_events_before_the_petition_exist_change_nothing() -> None:
    _, updates = run(("OutcomeProposed", {"outcome": None}))
    assert updates == []


def test_reception_entries_carry_their_session_and_no_identity() -> None:
    opened = (
        "ReceptionSessionOpened",
        {"agency": AGENCY, "held_on": "2026-07-02", "reception_type": "regular", "online": False},
    )
    entry = {
        "entry_id": "en1",
        "serial_no": 4,
        "year": 2026,
        "people_count": 6,
        "representatives": [0, 1],
        "citizens": [{"person_id": "p9"}],
        "case_id": "c7",
    }
    _, updates = run(opened, ("ReceptionEntryRecorded", entry), aggregate="session")
    assert [(u.kind, u.version, u.push) for u in updates] == [(SESSION, 0, False), (RECEPTION, 1, True)]
    pushed = updates[1].state
    assert pushed["agency"] == AGENCY and pushed["serial_no"] == 4 and pushed["representatives"] == 2
    assert pushed["case_id"] == "c7" and "p9" not in str(pushed) and "citizens" not in pushed


EVENTS = st.sampled_from(
    [
        ("PetitionClassified", {"classification": "denunciation"}),
        ("OutcomeProposed", {"outcome": None}),
        ("OutcomeProposed", {"outcome": "forward"}),
        ("CaseAccepted", {"accepted_on": "2026-07-03", "handling_agency": AGENCY, "basis": "b"}),
        ("CaseSuspended", {"suspended_on": "2026-07-04"}),
        ("CaseResumed", {"resumed_on": "2026-07-05"}),
        ("CaseFlagged", {"flag": "crowded", "reason": "r"}),
        clock("DeadlineSet", due="2026-08-01"),
        clock("DeadlinePaused", paused_on="2026-07-04", previous_due="2026-08-01", days_used=1, days_left=9),
        ("ReceiptNumberIssued", {"number": 1}),
    ]
)


@settings(max_examples=60, deadline=None)
@given(st.lists(EVENTS, max_size=12))
def test_versions_are_gap_free_and_replaying_gives_the_same_records(events: list[Any]) -> None:
    first_states, first = run(received(), *events)
    again_states, again = run(received(), *events)
    assert [u.version for u in first] == list(range(1, len(first) + 1))
    assert [(u.version, u.state) for u in first] == [(u.version, u.state) for u in again]
    assert first_states == again_states


def test_a_mixed_petition_is_split_into_national_types_once_each() -> None:
    split = {"classification": "mixed", "split_into": ["recommendation", "reflection", "complaint"]}
    states, _ = run(received(), ("PetitionClassified", split))
    assert case(states).type == "mixed"
    assert case(states).split_into == ("recommendation_reflection", "complaint")
