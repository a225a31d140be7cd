"""Intake's events. Free text (summaries, contents, reasons) is always ciphertext under the case's data key;
identities are sealed per person. Structured facts (kinds, dates, agency and unit codes) stay in clear for
routing, deadlines and statistics.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any, ClassVar

from casereg.crypto.fields import Encrypted
from casereg.crypto.person import SealedIdentity
from casereg.log.events import DomainEvent, Upcaster
from pydantic import BaseModel, ConfigDict, Field

from intake.domain.model import Channel, ComplicatedCriterion, PetitionKind, RefusalGround, SubjectMatterKind


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SubjectMatter(_Value):
    """What the petition is about."""

    kind: SubjectMatterKind
    decision_number: str | None = Field(default=None, max_length=100)
    decision_date: date | None = None
    agency: str | None = Field(default=None, max_length=100, description="Agency concerned (directory id)")
    description: Encrypted | None = None


class Submitter(_Value):
    person_id: str
    identity: SealedIdentity | None = Field(default=None, description="None for an anonymous submitter")
    representative: bool = False


def _petition_v1_to_v2(payload: dict[str, Any]) -> dict[str, Any]:
    """v1 kept attachment references in clear: they stay readable as ``legacy_attachments`` (never rewritten)."""
    return {
        **payload,
        "attachments": [],
        "legacy_attachments": list(payload.get("attachments", [])),
        "redacted_summary": None,
    }


class PetitionReceived(DomainEvent):
    """A petition entered the registry (DESIGN §7). Deadlines count from the envelope's ``occurred_at``.

    v2: attachment references are ciphertext under the case's key, and the receiving clerk's redacted summary
    (clear text without identifying details) is what routing, the feed and national sync may show.
    """

    event_type: ClassVar[str] = "PetitionReceived"
    schema_version: ClassVar[int] = 2
    upcasters: ClassVar[Mapping[int, Upcaster]] = {1: _petition_v1_to_v2}

    receipt_no: int
    received_by: str
    channel: Channel
    received_on: date
    declared_kind: PetitionKind
    unit_code: str
    subject_matter: SubjectMatter
    round: int = Field(ge=1, le=2)
    addressed_to: str | None = None
    forwarded_by: str | None = None
    summary: Encrypted
    content: Encrypted | None = None
    attachments: tuple[Encrypted, ...] = ()
    #: Attachment references of v1 events, recorded in clear before v2 (none are written any more).
    legacy_attachments: tuple[str, ...] = ()
    #: The receiving clerk's summary without names, addresses or other identifying details (clear text).
    redacted_summary: str | None = Field(default=None, max_length=2000)
    submitters: tuple[Submitter, ...]
    people_count: int = Field(ge=1)
    identity_protection: bool = False
    request_hash: str
    reception_entry: str | None = None


class ReceiptNumberIssued(DomainEvent):
    """On the counter aggregate ``<agency>-<year>``: the next gap-free receipt number went to a case."""

    event_type: ClassVar[str] = "ReceiptNumberIssued"
    schema_version: ClassVar[int] = 1

    number: int = Field(ge=1)
    case_id: str
    agency: str
    year: int


class FirstHandlingOutcome(DomainEvent):
    """Common shape of the first-handling outcomes confirmed by an officer."""

    to_agency: str | None = None
    basis: str = Field(max_length=200, description="Legal basis (article)")
    reason: Encrypted | None = None
    proposal_rule: str | None = Field(default=None, description="Routing rule whose proposal was confirmed")
    override_reason: Encrypted | None = Field(default=None, description="Set when the officer overrode routing")


class PetitionForwarded(FirstHandlingOutcome):
    event_type: ClassVar[str] = "PetitionForwarded"


class CitizenGuided(FirstHandlingOutcome):
    event_type: ClassVar[str] = "CitizenGuided"


class PetitionReturned(FirstHandlingOutcome):
    event_type: ClassVar[str] = "PetitionReturned"


class PetitionArchived(FirstHandlingOutcome):
    event_type: ClassVar[str] = "PetitionArchived"


class TransferredToInvestigation(FirstHandlingOutcome):
    event_type: ClassVar[str] = "TransferredToInvestigation"


class CaseAccepted(DomainEvent):
    event_type: ClassVar[str] = "CaseAccepted"
    accepted_on: date
    handling_agency: str
    basis: str = Field(max_length=200)


class AcceptanceRefused(DomainEvent):
    event_type: ClassVar[str] = "AcceptanceRefused"
    ground: RefusalGround
    basis: str = Field(max_length=200)
    reason: Encrypted | None = None


class CaseMarkedComplicated(DomainEvent):
    event_type: ClassVar[str] = "CaseMarkedComplicated"
    criteria: tuple[ComplicatedCriterion, ...] = Field(min_length=1)
    reason: Encrypted


class DeadlineExtended(DomainEvent):
    event_type: ClassVar[str] = "DeadlineExtended"
    days: int = Field(ge=1, le=30)
    reason: Encrypted


class CaseSuspended(DomainEvent):
    event_type: ClassVar[str] = "CaseSuspended"
    suspended_on: date
    reason: Encrypted


class CaseResumed(DomainEvent):
    event_type: ClassVar[str] = "CaseResumed"
    resumed_on: date


class DecisionResult(StrEnum):
    UPHELD = "upheld"  # complaint right
    PARTLY_UPHELD = "partly_upheld"
    REJECTED = "rejected"  # complaint wrong
    WELL_FOUNDED = "well_founded"  # denunciation right
    PARTLY_WELL_FOUNDED = "partly_well_founded"
    UNFOUNDED = "unfounded"


class DecisionIssued(DomainEvent):
    event_type: ClassVar[str] = "DecisionIssued"
    number: str = Field(min_length=1, max_length=100)
    decided_on: date
    result: DecisionResult
    summary: Encrypted | None = None


class DecisionPublished(DomainEvent):
    event_type: ClassVar[str] = "DecisionPublished"
    published_on: date


class CaseClosed(DomainEvent):
    event_type: ClassVar[str] = "CaseClosed"
    closed_on: date


class CaseWithdrawn(DomainEvent):
    event_type: ClassVar[str] = "CaseWithdrawn"
    withdrawn_on: date
    reason: Encrypted | None = None


class SecondRoundOpened(DomainEvent):
    event_type: ClassVar[str] = "SecondRoundOpened"
    to_agency: str
    received_on: date


#: Routing's proposal (owned by the routing service); intake reads only these payload keys.
OUTCOME_PROPOSED = "OutcomeProposed"

FIRST_HANDLING_EVENTS: tuple[type[FirstHandlingOutcome], ...] = (
    PetitionForwarded,
    CitizenGuided,
    PetitionReturned,
    PetitionArchived,
    TransferredToInvestigation,
)

INTAKE_EVENTS: tuple[type[DomainEvent], ...] = (
    PetitionReceived,
    ReceiptNumberIssued,
    *FIRST_HANDLING_EVENTS,
    CaseAccepted,
    AcceptanceRefused,
    CaseMarkedComplicated,
    DeadlineExtended,
    CaseSuspended,
    CaseResumed,
    DecisionIssued,
    DecisionPublished,
    CaseClosed,
    CaseWithdrawn,
    SecondRoundOpened,
)
