"""Given/when/then helpers for intake's pure domain tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import reduce
from typing import Any

from casereg.crypto.fields import Encrypted
from casereg.log.envelope import Actor, Envelope
from casereg.log.events import DomainEvent
from intake.domain.case import NEW, CaseState, evolve
from intake.domain.events import PetitionReceived, SubjectMatter, Submitter
from intake.domain.model import Channel, PetitionKind, SubjectMatterKind

AGENCY = "2tier/52/ubnd-xa-a"
OTHER = "2tier/52/ubnd-xa-b"
TEXT = Encrypted(kid="case-x", nonce="bm9uY2U=", ct="Y3Q=")


def envelope(event: DomainEvent | tuple[str, dict[str, Any]], seq: int = 1) -> Envelope:
    kind, payload = (event.event_type, event.model_dump(mode="json")) if isinstance(event, DomainEvent) else event
    when = datetime(2026, 7, 1, tzinfo=UTC)
    return Envelope(
        event_id=f"e{seq}",
        case_id="c1",
        type=kind,
        schema_version=1,
        seq=seq,
        occurred_at=when,
        recorded_at=when,
        actor=Actor(agency=AGENCY),
        payload=payload,
        prev_hash="p",
        hash="h",
    )


def given(*events: DomainEvent | tuple[str, dict[str, Any]]) -> CaseState:
    return reduce(evolve, (envelope(e, i + 1) for i, e in enumerate(events)), NEW)


def received(
    kind: PetitionKind = PetitionKind.COMPLAINT, agency: str = AGENCY, receipt_no: int = 1
) -> PetitionReceived:
    return PetitionReceived(
        receipt_no=receipt_no,
        received_by=agency,
        channel=Channel.POST,
        received_on=date(2026, 7, 1),
        declared_kind=kind,
        unit_code="21583",
        subject_matter=SubjectMatter(kind=SubjectMatterKind.DECISION, decision_number="12/QĐ-UBND"),
        round=1,
        summary=TEXT,
        submitters=(Submitter(person_id="p1"),),
        people_count=1,
        request_hash="hash-1",
    )


def proposed(outcome: str | None, to_agency: str | None = None) -> tuple[str, dict[str, Any]]:
    return ("OutcomeProposed", {"outcome": outcome, "to_agency": to_agency, "rule_id": "rule-7@1"})
