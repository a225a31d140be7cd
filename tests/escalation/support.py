"""Shared helpers for escalation's tests: the shipped rule table and calendar, and intake's events as envelopes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import Any

from casereg.crypto.fields import Encrypted
from casereg.log.envelope import Actor, Envelope
from casereg.log.events import DomainEvent
from escalation.adapters.rule_files import load_calendar, load_rule_table
from escalation.domain.calendar import WorkingCalendar
from escalation.domain.clocks import Policy
from escalation.domain.rules import RuleTable
from intake.domain import events as ev
from intake.domain.model import Channel, ComplicatedCriterion, PetitionKind, SubjectMatterKind

VIETNAM = timezone(timedelta(hours=7))
TEXT = Encrypted(kid="case-x", nonce="bm9uY2U=", ct="Y3Q=")


@cache
def table() -> RuleTable:
    return load_rule_table()


@cache
def calendar() -> WorkingCalendar:
    return load_calendar()


def policy(remote_units: frozenset[str] = frozenset()) -> Policy:
    return Policy(table=table(), calendar=calendar(), remote_units=remote_units)


def d(text: str) -> date:
    return date.fromisoformat(text)


def envelope(event: DomainEvent | tuple[str, dict[str, Any]], seq: int = 1, on: date | None = None) -> Envelope:
    """``on``: the business day of the event (its ``occurred_at`` at noon in Vietnam)."""
    kind, payload = (event.event_type, event.model_dump(mode="json")) if isinstance(event, DomainEvent) else event
    when = datetime.combine(on or date(2026, 7, 1), time(12), tzinfo=VIETNAM).astimezone(UTC)
    return Envelope(
        event_id=f"e{seq}",
        case_id="c1",
        type=kind,
        schema_version=1,
        seq=seq,
        occurred_at=when,
        recorded_at=when,
        actor=Actor(agency="2tier/52/ubnd-xa-a"),
        payload=payload,
        prev_hash="p",
        hash="h",
    )


def received(
    on: str,
    kind: PetitionKind = PetitionKind.COMPLAINT,
    round: int = 1,
    unit_code: str = "21583",
    reception_entry: str | None = None,
) -> ev.PetitionReceived:
    return ev.PetitionReceived(
        receipt_no=1,
        received_by="2tier/52/ubnd-xa-a",
        channel=Channel.IN_PERSON if reception_entry else Channel.POST,
        received_on=d(on),
        declared_kind=kind,
        unit_code=unit_code,
        subject_matter=ev.SubjectMatter(kind=SubjectMatterKind.DECISION, decision_number="12/QĐ-UBND"),
        round=round,
        summary=TEXT,
        submitters=(ev.Submitter(person_id="p1"),),
        people_count=1,
        request_hash="hash-1",
        reception_entry=reception_entry,
    )


def accepted(on: str) -> ev.CaseAccepted:
    return ev.CaseAccepted(accepted_on=d(on), handling_agency="2tier/52/ubnd-xa-a", basis="LKN Art. 27")


def complicated(*criteria: ComplicatedCriterion) -> ev.CaseMarkedComplicated:
    return ev.CaseMarkedComplicated(criteria=criteria or (ComplicatedCriterion.SEVERAL_CONTENTS,), reason=TEXT)


def extended(days: int = 30) -> ev.DeadlineExtended:
    return ev.DeadlineExtended(days=days, reason=TEXT)


def suspended(on: str) -> ev.CaseSuspended:
    return ev.CaseSuspended(suspended_on=d(on), reason=TEXT)


def resumed(on: str) -> ev.CaseResumed:
    return ev.CaseResumed(resumed_on=d(on))


def decided(on: str, result: ev.DecisionResult = ev.DecisionResult.REJECTED) -> ev.DecisionIssued:
    return ev.DecisionIssued(number="5/QĐ-UBND", decided_on=d(on), result=result)


def forwarded(to: str = "2tier/52/ubnd-tinh") -> ev.PetitionForwarded:
    return ev.PetitionForwarded(to_agency=to, basis="LTC Art. 24(2)")
