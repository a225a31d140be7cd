"""A case's clocks as given (events) / when (an event) / then (escalation's events). Dates worked by hand.

2026 days off: Tết 16-20 Feb; 26-27 Apr; 30 Apr, 1 May; 31 Aug (for Sat 22 Aug, worked); 1-2 Sep; 24 Nov.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from casereg.log.events import DomainEvent
from escalation.domain.clocks import NEW, CaseClocks, Policy, decide, evolve, react, replay
from escalation.domain.events import DeadlineMoved, DeadlinePaused, DeadlineSet, DeadlineStopped, MoveReason
from escalation.domain.rules import PauseRule
from intake.domain.model import ComplicatedCriterion, PetitionKind

from tests.escalation.support import (
    accepted,
    complicated,
    d,
    decided,
    envelope,
    extended,
    forwarded,
    policy,
    received,
    resumed,
    suspended,
)

Event = DomainEvent | tuple[str, dict[str, Any]]
Dated = tuple[Event, str]  # an event and its business day (occurred_at)


def given(*events: Dated, rules: Policy | None = None) -> CaseClocks:
    state, _ = replay((envelope(e, i + 1, d(on)) for i, (e, on) in enumerate(events)), rules or policy())
    return state


def when(state: CaseClocks, event: Event, on: str, rules: Policy | None = None) -> list[DomainEvent]:
    return decide(state, envelope(event, 99, d(on)), rules or policy())


def one(events: list[DomainEvent], kind: type[DomainEvent], clock: str) -> Any:
    found = [e for e in events if isinstance(e, kind) and getattr(e, "clock", None) == clock]
    assert len(found) == 1, events
    return found[0]


def test_a_complaint_received_starts_its_acceptance_clock() -> None:
    # Received Wed 1 Jul 2026 (new rule): 7 working days -> Fri 10 Jul.
    events = when(NEW, received("2026-07-01"), "2026-07-01")
    assert events == [
        DeadlineSet(
            clock="complaint.acceptance",
            rule_id="complaint.acceptance.nd155-2026",
            rule_version=1,
            article="Decree 155/2026/ND-CP Art. 10 (amending Decree 124/2020/ND-CP Art. 16(1))",
            start=d("2026-07-01"),
            due=d("2026-07-10"),
            unit="working",
            days=7,
            law_date=d("2026-07-01"),
            owed_by="agency",
            cause="PetitionReceived",
        )
    ]


def test_received_before_1_july_and_accepted_after() -> None:
    # Received Thu 25 Jun: old rule, 10 working days: 26 Jun (1), 29, 30 Jun (3), 1-3 Jul (6), 6-9 Jul (10) ->
    # Thu 9 Jul. Accepted Mon 6 Jul: on time; first-time settlement from 6 Jul, chosen by the acceptance date:
    # 30 days: 25 to 31 Jul, +5 = Wed 5 Aug.
    state = given((received("2026-06-25"), "2026-06-25"))
    acceptance = state.get("complaint.acceptance")
    assert acceptance is not None
    assert (acceptance.due, acceptance.rule_id) == (d("2026-07-09"), "complaint.acceptance.tt07-2013")
    events = when(state, accepted("2026-07-06"), "2026-07-06")
    stop = one(events, DeadlineStopped, "complaint.acceptance")
    assert (stop.on_time, stop.due, stop.cause) == (True, d("2026-07-09"), "CaseAccepted")
    settle = one(events, DeadlineSet, "complaint.settlement.first")
    assert (settle.start, settle.due, settle.days, settle.law_date) == (
        d("2026-07-06"),
        d("2026-08-05"),
        30,
        d("2026-07-06"),
    )


def test_a_late_acceptance_stops_the_clock_late() -> None:
    # Received Wed 1 Jul, due Fri 10 Jul; accepted Mon 13 Jul: late.
    state = given((received("2026-07-01"), "2026-07-01"))
    stop = one(when(state, accepted("2026-07-13"), "2026-07-13"), DeadlineStopped, "complaint.acceptance")
    assert stop.on_time is False


def test_marked_complicated_lengthens_a_complaint_settlement() -> None:
    # Accepted Wed 15 Jul: 30 days -> Fri 14 Aug; complicated: 45 -> Sat 29 Aug -> (30 Aug Sun, 31 Aug
    # substituted, 1-2 Sep National Day) Thu 3 Sep.
    state = given((received("2026-07-01"), "2026-07-01"), (accepted("2026-07-15"), "2026-07-15"))
    moved = one(when(state, complicated(), "2026-07-20"), DeadlineMoved, "complaint.settlement.first")
    assert (moved.reason, moved.previous_due, moved.due, moved.days) == (
        MoveReason.RECLASSIFIED,
        d("2026-08-14"),
        d("2026-09-03"),
        45,
    )


def test_remote_units_lengthen_from_the_start() -> None:
    # The unit is configured remote: 45 days from Mon 16 Mar -> Thu 30 Apr, 1 May, weekend -> Mon 4 May.
    rules = policy(frozenset({"21583"}))
    state = given((received("2026-03-02"), "2026-03-02"), rules=rules)
    settle = one(when(state, accepted("2026-03-16"), "2026-03-16", rules), DeadlineSet, "complaint.settlement.first")
    assert (settle.days, settle.due) == (45, d("2026-05-04"))


def test_suspension_stops_the_clock_and_the_days_left_count_from_the_resumption() -> None:
    # Accepted Wed 15 Jul, 30 days, due Fri 14 Aug. Suspended Fri 24 Jul: 9 days used (16-24 Jul), 21 left.
    # Resumed Mon 10 Aug: 21 days -> Mon 31 Aug (substituted day off), 1-2 Sep National Day -> Thu 3 Sep.
    state = given((received("2026-07-01"), "2026-07-01"), (accepted("2026-07-15"), "2026-07-15"))
    paused = one(when(state, suspended("2026-07-24"), "2026-07-24"), DeadlinePaused, "complaint.settlement.first")
    assert (paused.days_used, paused.days_left, paused.previous_due, paused.mode) == (
        9,
        21,
        d("2026-08-14"),
        "continue",
    )
    assert "Art. 28b" in paused.article
    state = given(
        (received("2026-07-01"), "2026-07-01"),
        (accepted("2026-07-15"), "2026-07-15"),
        (suspended("2026-07-24"), "2026-07-24"),
    )
    clock = state.get("complaint.settlement.first")
    assert clock is not None and clock.paused and clock.due is None
    moved = one(when(state, resumed("2026-08-10"), "2026-08-10"), DeadlineMoved, "complaint.settlement.first")
    assert (moved.reason, moved.due, moved.counting_from, moved.days_used) == (
        MoveReason.RESUMED,
        d("2026-09-03"),
        d("2026-08-10"),
        9,
    )


def test_restart_mode_counts_the_whole_period_again() -> None:
    # Configured reading "restart": 30 days from Mon 10 Aug -> Wed 9 Sep.
    table = policy().table
    clocks = tuple(
        c.model_copy(update={"pauses": tuple(p.model_copy(update={"mode": "restart"}) for p in c.pauses)})
        for c in table.clocks
    )
    rules = replace(policy(), table=table.model_copy(update={"clocks": clocks}))
    state = given(
        (received("2026-07-01"), "2026-07-01"),
        (accepted("2026-07-15"), "2026-07-15"),
        (suspended("2026-07-24"), "2026-07-24"),
        rules=rules,
    )
    moved = one(when(state, resumed("2026-08-10"), "2026-08-10", rules), DeadlineMoved, "complaint.settlement.first")
    assert (moved.due, moved.days_used) == (d("2026-09-09"), 0)
    assert isinstance(rules.table.clock("complaint.settlement.first").pauses[0], PauseRule)


def test_a_complaint_suspended_before_1_july_2026_does_not_pause() -> None:
    # Suspension of complaint settlement exists from 1 July 2026 (Decree 155/2026): a June suspension moves nothing.
    state = given((received("2026-05-20"), "2026-05-20"), (accepted("2026-06-01"), "2026-06-01"))
    assert when(state, suspended("2026-06-10"), "2026-06-10") == []


def test_a_complaint_accepted_before_1_july_and_suspended_after_pauses() -> None:
    # Transitional Decree 155/2026 Art. 22(1). Accepted Mon 15 Jun: 30 days -> Wed 15 Jul. Suspended Thu 2 Jul:
    # 17 days used (16-30 Jun = 15, 1-2 Jul = 2), 13 left.
    state = given((received("2026-06-01"), "2026-06-01"), (accepted("2026-06-15"), "2026-06-15"))
    paused = one(when(state, suspended("2026-07-02"), "2026-07-02"), DeadlinePaused, "complaint.settlement.first")
    assert (paused.days_used, paused.days_left) == (17, 13)


def test_denunciation_extensions_add_30_days_each() -> None:
    # Accepted Fri 10 Jul: 30 days -> Sun 9 Aug -> Mon 10 Aug. Marked complicated (one criterion): the length stays
    # 30 (extensions are decisions). Extended 30: 60 days -> Tue 8 Sep (21 to 31 Jul, 31 Aug = 52, +8).
    # A second extension with one criterion is beyond LTC Art. 30(2): recorded (90 days -> Thu 8 Oct), not lawful.
    rules = policy()
    history = [
        (received("2026-07-01", PetitionKind.DENUNCIATION), "2026-07-01"),
        (accepted("2026-07-10"), "2026-07-10"),
    ]
    state = given(*history)
    clock = state.get("denunciation.settlement")
    assert clock is not None and clock.due == d("2026-08-10")
    assert when(state, complicated(), "2026-07-20") == []
    state = given(*history, (complicated(), "2026-07-20"))
    first = one(when(state, extended(), "2026-08-05", rules), DeadlineMoved, "denunciation.settlement")
    assert (first.reason, first.days, first.due, first.extensions, first.lawful) == (
        MoveReason.EXTENDED,
        60,
        d("2026-09-08"),
        1,
        True,
    )
    state = given(*history, (complicated(), "2026-07-20"), (extended(), "2026-08-05"))
    second = one(when(state, extended(), "2026-09-01"), DeadlineMoved, "denunciation.settlement")
    assert (second.days, second.due, second.extensions, second.lawful) == (90, d("2026-10-08"), 2, False)


def test_especially_complicated_denunciation_has_two_lawful_extensions() -> None:
    # Two criteria: especially complicated (Decree 31/2019 Art. 3(3)): 90 days from Fri 10 Jul -> Thu 8 Oct.
    criteria = (ComplicatedCriterion.SEVERAL_PLACES, ComplicatedCriterion.SEVERAL_CONTENTS)
    state = given(
        (received("2026-07-01", PetitionKind.DENUNCIATION), "2026-07-01"),
        (accepted("2026-07-10"), "2026-07-10"),
        (complicated(*criteria), "2026-07-20"),
        (extended(), "2026-08-05"),
    )
    second = one(when(state, extended(), "2026-09-01"), DeadlineMoved, "denunciation.settlement")
    assert (second.days, second.due, second.lawful) == (90, d("2026-10-08"), True)


def test_an_extension_during_a_suspension_waits_for_the_resumption() -> None:
    # Denunciation accepted Fri 10 Jul (30 days). Suspended Mon 20 Jul: 10 days used. Extended by 30 while
    # suspended: 60 days, no due yet. Resumed Mon 3 Aug: 50 left -> 3 Aug + 50 = Tue 22 Sep (28 to 31 Aug, +22).
    state = given(
        (received("2026-07-01", PetitionKind.DENUNCIATION), "2026-07-01"),
        (accepted("2026-07-10"), "2026-07-10"),
        (complicated(), "2026-07-15"),
        (suspended("2026-07-20"), "2026-07-20"),
    )
    moved = one(when(state, extended(), "2026-07-25"), DeadlineMoved, "denunciation.settlement")
    assert (moved.due, moved.days) == (None, 60)
    state = given(
        (received("2026-07-01", PetitionKind.DENUNCIATION), "2026-07-01"),
        (accepted("2026-07-10"), "2026-07-10"),
        (complicated(), "2026-07-15"),
        (suspended("2026-07-20"), "2026-07-20"),
        (extended(), "2026-07-25"),
    )
    again = one(when(state, resumed("2026-08-03"), "2026-08-03"), DeadlineMoved, "denunciation.settlement")
    assert (again.due, again.days, again.days_used) == (d("2026-09-22"), 60, 10)


def test_a_decision_stops_settlement_and_starts_the_second_round_filing_window() -> None:
    # Decision Wed 1 Apr: second-round filing 30 days -> Fri 1 May (Labour Day), weekend -> Mon 4 May.
    state = given((received("2026-03-02"), "2026-03-02"), (accepted("2026-03-09"), "2026-03-09"))
    events = when(state, decided("2026-04-01"), "2026-04-01")
    stop = one(events, DeadlineStopped, "complaint.settlement.first")
    assert stop.on_time is True  # due 8 Apr (9 Mar + 30)
    window = one(events, DeadlineSet, "complaint.second_round_filing")
    assert (window.due, window.owed_by) == (d("2026-05-04"), "citizen")


def test_second_round_acceptance_and_settlement() -> None:
    # Second round opened Mon 20 Apr (old rule): 10 working days: 21-24 Apr (4); 25-27 Apr off; 28, 29 (6);
    # 30 Apr - 3 May off; 4-7 May (10) -> Thu 7 May. Accepted Mon 4 May: 45 days: 27 to 31 May, +18 -> Thu 18 Jun.
    history = [
        (received("2026-03-02"), "2026-03-02"),
        (accepted("2026-03-09"), "2026-03-09"),
        (decided("2026-04-01"), "2026-04-01"),
    ]
    opened = ("SecondRoundOpened", {"to_agency": "2tier/52/ubnd-tinh", "received_on": "2026-04-20"})
    events = when(given(*history), opened, "2026-04-20")
    assert one(events, DeadlineStopped, "complaint.second_round_filing").on_time is True
    acceptance = one(events, DeadlineSet, "complaint.acceptance")
    assert (acceptance.due, acceptance.rule_id) == (d("2026-05-07"), "complaint.acceptance.tt07-2013")
    state = given(*history, (opened, "2026-04-20"))
    events = when(state, accepted("2026-05-04"), "2026-05-04")
    settle = one(events, DeadlineSet, "complaint.settlement.second")
    assert (settle.days, settle.due) == (45, d("2026-06-18"))
    assert not [e for e in events if isinstance(e, DeadlineSet) and e.clock == "complaint.settlement.first"]


def test_a_forwarded_denunciation() -> None:
    # Received Fri 24 Apr: intake 7 working days (28, 29 Apr, 4-8 May) -> Fri 8 May. Routing proposes forwarding:
    # 5 working days from the receipt -> Wed 6 May. Forwarded Tue 5 May: both stop on time; the agency it goes to
    # has its own 7 working days from 5 May: 6, 7, 8, 11, 12, 13, 14 May -> Thu 14 May.
    state = given((received("2026-04-24", PetitionKind.DENUNCIATION), "2026-04-24"))
    intake = state.get("denunciation.intake")
    assert intake is not None and intake.due == d("2026-05-08")
    proposal = ("OutcomeProposed", {"outcome": "forward", "to_agency": "2tier/52/ubnd-tinh", "rule_id": "r@1"})
    forward = one(when(state, proposal, "2026-04-27"), DeadlineSet, "denunciation.forward")
    assert (forward.start, forward.due) == (d("2026-04-24"), d("2026-05-06"))
    state = given((received("2026-04-24", PetitionKind.DENUNCIATION), "2026-04-24"), (proposal, "2026-04-27"))
    events = when(state, forwarded(), "2026-05-05")
    assert one(events, DeadlineStopped, "denunciation.forward").on_time is True
    assert one(events, DeadlineStopped, "denunciation.intake").on_time is True
    assert one(events, DeadlineSet, "denunciation.intake").due == d("2026-05-14")


def test_a_proposal_other_than_forwarding_starts_nothing() -> None:
    state = given((received("2026-04-24", PetitionKind.DENUNCIATION), "2026-04-24"))
    assert when(state, ("OutcomeProposed", {"outcome": None, "to_agency": None}), "2026-04-27") == []


def test_a_reception_entry_starts_the_reply_clock() -> None:
    # A recommendation received at a reception session on Tue 17 Nov: 10 working days, 24 Nov off -> Wed 2 Dec.
    events = when(NEW, received("2026-11-17", PetitionKind.RECOMMENDATION, reception_entry="s1-3"), "2026-11-17")
    assert [(e.clock, e.due) for e in events if isinstance(e, DeadlineSet)] == [("reception.reply", d("2026-12-02"))]
    assert when(NEW, received("2026-11-17", PetitionKind.RECOMMENDATION), "2026-11-17") == []


def test_withdrawal_stops_every_running_clock() -> None:
    state = given(
        (received("2026-07-01", PetitionKind.DENUNCIATION, reception_entry="s1-1"), "2026-07-01"),
    )
    events = when(state, ("CaseWithdrawn", {"withdrawn_on": "2026-07-03", "reason": None}), "2026-07-03")
    assert sorted(e.clock for e in events if isinstance(e, DeadlineStopped)) == [
        "denunciation.intake",
        "reception.reply",
    ]


def test_own_events_fold_to_the_same_state_as_reacting() -> None:
    # Replaying the stored stream (intake's events with escalation's in between) rebuilds the same clocks.
    intake_events = [
        (received("2026-07-01", PetitionKind.DENUNCIATION), "2026-07-01"),
        (accepted("2026-07-10"), "2026-07-10"),
        (complicated(), "2026-07-15"),
        (suspended("2026-07-20"), "2026-07-20"),
        (extended(), "2026-07-25"),
        (resumed("2026-08-03"), "2026-08-03"),
    ]
    state, stream, seq = NEW, [], 0
    for event, on in intake_events:
        seq += 1
        stored = envelope(event, seq, d(on))
        state, decided_events = react(state, stored, policy())
        stream.append(stored)
        for own in decided_events:
            seq += 1
            stream.append(envelope(own, seq, d(on)))
    folded = NEW
    for stored in stream:
        folded = evolve(folded, stored)
    assert folded == state
    assert decide(state, stream[-1], policy()) == []  # escalation's own events decide nothing
