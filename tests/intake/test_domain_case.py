"""Intake's pure domain: every legal act allowed or refused by the case's state (given / when / then)."""

from __future__ import annotations

from datetime import date

import pytest
from casereg.log.events import DomainEvent
from hypothesis import given as hypothesis_given
from hypothesis import strategies as st
from intake.domain import case as c
from intake.domain import events as ev
from intake.domain.model import CaseStatus, ComplicatedCriterion, Outcome, PetitionKind, RefusalGround
from intake.domain.submission import CounterState, SubmissionMismatch, case_id_for, decide_submission

from tests.intake.domain_support import AGENCY, OTHER, TEXT, given, proposed, received

D = date(2026, 7, 3)


def test_received_case_belongs_to_its_agency() -> None:
    state = given(received())
    assert state.status == CaseStatus.RECEIVED
    assert state.handling_agency == AGENCY and state.visible_to == {AGENCY}


def test_confirm_requires_a_matching_proposal_or_an_override() -> None:
    state = given(received())
    with pytest.raises(c.ActionRejected, match="no routing proposal"):
        c.confirm_outcome(state, AGENCY, Outcome.ARCHIVE, None, "Art. 6")
    state = given(received(), proposed("forward", OTHER))
    with pytest.raises(c.ActionRejected, match="differs"):
        c.confirm_outcome(state, AGENCY, Outcome.GUIDE, OTHER, "Art. 6")
    event = c.confirm_outcome(state, AGENCY, Outcome.FORWARD, OTHER, "Circular 05/2021 Art. 14")
    assert isinstance(event, ev.PetitionForwarded) and event.proposal_rule == "rule-7@1"
    overridden = c.confirm_outcome(state, AGENCY, Outcome.GUIDE, OTHER, "Art. 6", override_reason=TEXT)
    assert isinstance(overridden, ev.CitizenGuided) and overridden.proposal_rule is None


def test_forwarded_case_moves_to_the_target_and_is_forwarded_once() -> None:
    state = given(received(), proposed("forward", OTHER), ev.PetitionForwarded(to_agency=OTHER, basis="x"))
    assert state.status == CaseStatus.FORWARDED and state.handling_agency == OTHER
    assert state.visible_to == {AGENCY, OTHER}
    with pytest.raises(c.ActionRejected):
        c.confirm_outcome(state, AGENCY, Outcome.FORWARD, "x", "y", override_reason=TEXT)
    with pytest.raises(c.ActionRejected, match="only once"):
        c.confirm_outcome(state, OTHER, Outcome.FORWARD, "z", "y", override_reason=TEXT)
    accepted = c.accept(state, OTHER, D, "LKN Art. 27")
    assert accepted.handling_agency == OTHER


def test_only_the_handling_agency_acts() -> None:
    state = given(received(), proposed("archive"))
    with pytest.raises(c.ActionRejected, match="handling agency"):
        c.confirm_outcome(state, OTHER, Outcome.ARCHIVE, None, "x")
    with pytest.raises(c.ActionRejected):
        c.accept(state, OTHER, D, "x")


def test_recommendations_are_not_accepted_for_settlement() -> None:
    state = given(received(PetitionKind.RECOMMENDATION))
    with pytest.raises(c.ActionRejected, match="complaints and denunciations"):
        c.accept(state, AGENCY, D, "x")


def test_settlement_lifecycle_of_a_complaint() -> None:
    s0 = given(received())
    with pytest.raises(c.ActionRejected, match="not under settlement"):
        c.issue_decision(s0, AGENCY, number="1", decided_on=D, result="upheld")
    s1 = given(received(), c.accept(s0, AGENCY, D, "LKN Art. 27"))
    assert s1.status == CaseStatus.ACCEPTED
    with pytest.raises(c.ActionRejected, match="denunciation"):
        c.extend(s1, AGENCY, days=10, reason=TEXT)
    with pytest.raises(c.ActionRejected, match="upheld"):
        c.issue_decision(s1, AGENCY, number="5/QĐ", decided_on=D, result="unfounded")
    decision = c.issue_decision(s1, AGENCY, number="5/QĐ", decided_on=D, result="upheld")
    s2 = given(received(), c.accept(s0, AGENCY, D, "b"), decision)
    with pytest.raises(c.ActionRejected, match="before its decision"):
        c.withdraw(s2, AGENCY, withdrawn_on=D)
    s3 = given(received(), c.accept(s0, AGENCY, D, "b"), decision, c.publish_decision(s2, AGENCY, D))
    with pytest.raises(c.ActionRejected, match="already published"):
        c.publish_decision(s3, AGENCY, D)
    assert isinstance(c.close(s3, AGENCY, D), ev.CaseClosed)
    second = c.open_second_round(s3, AGENCY, "2tier/52/ubnd", D)
    s4 = given(received(), c.accept(s0, AGENCY, D, "b"), decision, second)
    assert s4.round == 2 and s4.handling_agency == "2tier/52/ubnd" and s4.status == CaseStatus.RECEIVED
    with pytest.raises(c.ActionRejected, match="already open"):
        c.open_second_round(s4, AGENCY, "elsewhere", D)


def test_denunciation_extensions_follow_complication() -> None:
    s0 = given(received(PetitionKind.DENUNCIATION))
    acc = c.accept(s0, AGENCY, D, "LTC Art. 29")
    s1 = given(received(PetitionKind.DENUNCIATION), acc)
    with pytest.raises(c.ActionRejected, match="complicated"):
        c.extend(s1, AGENCY, days=30, reason=TEXT)
    one = c.mark_complicated(s1, AGENCY, criteria=[ComplicatedCriterion.SEVERAL_PLACES], reason=TEXT)
    s2 = given(received(PetitionKind.DENUNCIATION), acc, one)
    ext = c.extend(s2, AGENCY, days=30, reason=TEXT)
    s3 = given(received(PetitionKind.DENUNCIATION), acc, one, ext)
    with pytest.raises(c.ActionRejected, match="no extension left"):
        c.extend(s3, AGENCY, days=30, reason=TEXT)
    two = c.mark_complicated(
        s1, AGENCY, criteria=[ComplicatedCriterion.SEVERAL_PLACES, ComplicatedCriterion.FOREIGN_ELEMENT], reason=TEXT
    )
    s4 = given(received(PetitionKind.DENUNCIATION), acc, two, ext)
    assert isinstance(c.extend(s4, AGENCY, days=30, reason=TEXT), ev.DeadlineExtended)
    with pytest.raises(c.ActionRejected, match="already marked"):
        c.mark_complicated(s4, AGENCY, criteria=[ComplicatedCriterion.SEVERAL_PLACES], reason=TEXT)


def test_suspend_and_resume() -> None:
    s0 = given(received())
    acc = c.accept(s0, AGENCY, D, "b")
    sus = c.suspend(given(received(), acc), AGENCY, suspended_on=D, reason=TEXT)
    s1 = given(received(), acc, sus)
    assert s1.status == CaseStatus.SUSPENDED
    with pytest.raises(c.ActionRejected):
        c.issue_decision(s1, AGENCY, number="1", decided_on=D, result="upheld")
    s2 = given(received(), acc, sus, c.resume(s1, AGENCY, D))
    assert s2.status == CaseStatus.ACCEPTED
    with pytest.raises(c.ActionRejected, match="not suspended"):
        c.resume(s2, AGENCY, D)


def test_refusal_needs_an_open_first_handling() -> None:
    s0 = given(received())
    refused = c.refuse_acceptance(s0, AGENCY, ground=RefusalGround.TIME_LIMIT_EXPIRED, basis="LKN Art. 11(6)")
    s1 = given(received(), refused)
    assert s1.status == CaseStatus.REFUSED
    with pytest.raises(c.ActionRejected):
        c.accept(s1, AGENCY, D, "b")
    assert isinstance(c.close(s1, AGENCY, D), ev.CaseClosed)


def test_submission_numbers_and_replays() -> None:
    cid = case_id_for(AGENCY, "key-1")
    assert cid == case_id_for(AGENCY, "key-1") != case_id_for(OTHER, "key-1")
    decision = decide_submission(
        c.NEW, CounterState(41), case_id=cid, agency=AGENCY, year=2026, request_hash="h1", petition=received()
    )
    assert decision.petition is not None and decision.petition.receipt_no == 42
    assert decision.receipt is not None and decision.receipt.number == 42
    existing = given(decision.petition)
    again = decide_submission(
        existing, CounterState(42), case_id=cid, agency=AGENCY, year=2026, request_hash="h1", petition=received()
    )
    assert again.existing and again.petition is None
    with pytest.raises(SubmissionMismatch):
        decide_submission(
            existing, CounterState(42), case_id=cid, agency=AGENCY, year=2026, request_hash="h2", petition=received()
        )


ACTS = st.sampled_from(["accept", "suspend", "resume", "decide", "publish", "close", "withdraw", "refuse"])


def act_on(act: str, s: c.CaseState) -> DomainEvent:
    if act == "accept":
        return c.accept(s, AGENCY, D, "b")
    if act == "suspend":
        return c.suspend(s, AGENCY, suspended_on=D, reason=TEXT)
    if act == "resume":
        return c.resume(s, AGENCY, D)
    if act == "decide":
        return c.issue_decision(s, AGENCY, number="1", decided_on=D, result="upheld")
    if act == "publish":
        return c.publish_decision(s, AGENCY, D)
    if act == "close":
        return c.close(s, AGENCY, D)
    if act == "withdraw":
        return c.withdraw(s, AGENCY, withdrawn_on=D)
    return c.refuse_acceptance(s, AGENCY, ground="other", basis="b")


@hypothesis_given(st.lists(ACTS, max_size=12))
def test_any_sequence_of_acts_keeps_the_state_consistent(acts: list[str]) -> None:
    """Whatever officers try, applying only the accepted acts never yields an impossible state."""
    history: list[DomainEvent] = [received()]
    for act in acts:
        try:
            history.append(act_on(act, given(*history)))
        except c.ActionRejected:
            continue
    final = given(*history)
    assert not (final.published and not final.decided)
    if final.status == CaseStatus.CLOSED:
        assert final.decided or any(isinstance(e, ev.AcceptanceRefused) for e in history)
