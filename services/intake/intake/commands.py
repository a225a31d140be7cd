"""Commands as intake's handlers receive them: clear values that exist only in memory until sealed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from casereg.crypto.person import PersonIdentity

from intake.domain.model import ActionKind, Channel, PetitionKind, SubjectMatterKind


@dataclass(frozen=True)
class Caller:
    agency: str
    officer: str
    role: str


@dataclass(frozen=True)
class SubmitterIn:
    identity: PersonIdentity | None  # None: anonymous
    representative: bool = False


@dataclass(frozen=True)
class SubjectMatterIn:
    kind: SubjectMatterKind
    decision_number: str | None = None
    decision_date: date | None = None
    agency: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class SubmitPetition:
    idempotency_key: str
    request_hash: str
    channel: Channel
    received_on: date
    declared_kind: PetitionKind
    unit_code: str
    subject_matter: SubjectMatterIn
    summary: str
    submitters: tuple[SubmitterIn, ...]
    people_count: int
    round: int = 1
    addressed_to: str | None = None
    forwarded_by: str | None = None
    content: str | None = None
    attachments: tuple[str, ...] = ()
    identity_protection: bool = False
    #: The receiving clerk's summary without identifying details: the only text shown in clear.
    redacted_summary: str | None = None
    reception_entry: str | None = None

    def __repr__(self) -> str:  # never print personal data by accident
        return f"SubmitPetition(key={self.idempotency_key!r}, kind={self.declared_kind}, <redacted>)"


@dataclass(frozen=True)
class RecordAction:
    case_id: str
    kind: ActionKind
    on: date
    outcome: str | None = None
    to_agency: str | None = None
    basis: str | None = None
    reason: str | None = None
    override_reason: str | None = None
    ground: str | None = None
    criteria: tuple[str, ...] = ()
    days: int | None = None
    decision_number: str | None = None
    decision_result: str | None = None
    decision_summary: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"RecordAction(case_id={self.case_id!r}, kind={self.kind}, <redacted>)"
