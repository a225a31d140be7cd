"""The HTTP contract: request and response bodies of ``/v1``. Limits are part of the contract (docs/api.md)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from intake.domain.model import ActionKind, CaseStatus, Channel, PetitionKind, SubjectMatterKind

MAX_SUBMITTERS = 50
MAX_SUMMARY = 2_000
MAX_CONTENT = 100_000
MAX_ATTACHMENTS = 20

Code = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9/_.-]+$")]
ShortText = Annotated[str, Field(min_length=1, max_length=MAX_SUMMARY)]


def _utc(value: datetime) -> datetime:
    """Times are UTC; the registry's SQLite database hands them back without their zone."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


#: A point in time as RFC 3339 requires it in JSON: with its offset (``Z``).
UtcDateTime = Annotated[datetime, AfterValidator(_utc)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SubmitterBody(_In):
    anonymous: bool = Field(default=False, description="True: no identity is given (a denunciation may be)")
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    id_number: str | None = Field(default=None, pattern=r"^[0-9A-Z]{6,20}$", description="Citizen ID/passport")
    address: str | None = Field(default=None, min_length=1, max_length=500)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ]{6,20}$")
    representative: bool = Field(default=False, description="Representative of a crowded group (LTCD Art. 29)")

    @model_validator(mode="after")
    def _named_unless_anonymous(self) -> SubmitterBody:
        if not self.anonymous and not self.full_name:
            raise ValueError("full_name is required unless anonymous is true")
        if self.anonymous and any((self.full_name, self.id_number, self.address, self.phone)):
            raise ValueError("an anonymous submitter carries no identity fields")
        return self


class SubjectMatterBody(_In):
    kind: SubjectMatterKind
    decision_number: str | None = Field(default=None, max_length=100)
    decision_date: date | None = None
    agency: Code | None = None
    description: str | None = Field(default=None, max_length=MAX_SUMMARY)


class PetitionBody(_In):
    """A petition as an agency's front end submits it."""

    channel: Channel
    received_on: date = Field(description="The day the petition arrived (not in the future)")
    declared_kind: PetitionKind
    unit_code: str = Field(min_length=1, max_length=10, pattern=r"^[0-9]+$", description="Commune/ward code")
    subject_matter: SubjectMatterBody
    summary: ShortText
    content: str | None = Field(default=None, max_length=MAX_CONTENT)
    submitters: list[SubmitterBody] = Field(min_length=1, max_length=MAX_SUBMITTERS)
    people_count: int | None = Field(default=None, ge=1, le=10_000, description="Default: number of submitters")
    round: int = Field(default=1, ge=1, le=2)
    addressed_to: Code | None = None
    forwarded_by: Code | None = None
    attachments: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=MAX_ATTACHMENTS
    )
    identity_protection: bool = Field(default=False, description="The denouncer asks for identity protection")
    redacted_summary: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_SUMMARY,
        description="The receiving clerk's summary without names, addresses, ID numbers or other identifying "
        "details: the only text of the petition stored and shown in clear (the summary, content and attachments "
        "are encrypted)",
    )
    reception_entry: str | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _consistent(self) -> PetitionBody:
        if self.people_count is not None and self.people_count < len(self.submitters):
            raise ValueError("people_count cannot be less than the number of submitters")
        return self


class SubmissionOut(BaseModel):
    case_id: str
    receipt_no: int
    status: CaseStatus
    created: bool = Field(description="False when this answers a retry of an earlier submission")


class ActionBody(_In):
    """One legal act. Which fields are needed depends on ``kind`` (docs/api.md); a missing one is a 409."""

    kind: ActionKind
    on: date = Field(description="The day of the act (its business date)")
    outcome: str | None = Field(default=None, max_length=20, description="confirm_outcome: forward|guide|...")
    to_agency: Code | None = None
    basis: str | None = Field(default=None, max_length=200, description="Legal basis, e.g. 'LKN Art. 27'")
    reason: str | None = Field(default=None, max_length=MAX_SUMMARY)
    override_reason: str | None = Field(default=None, max_length=MAX_SUMMARY)
    ground: str | None = Field(default=None, max_length=60)
    criteria: list[str] = Field(default_factory=list, max_length=7)
    days: int | None = Field(default=None, ge=1, le=30)
    decision_number: str | None = Field(default=None, max_length=100)
    decision_result: str | None = Field(default=None, max_length=30)
    decision_summary: str | None = Field(default=None, max_length=MAX_SUMMARY)


class ActionOut(BaseModel):
    case_id: str
    event_type: str
    status: CaseStatus


class ProposalOut(BaseModel):
    """Routing's proposal for the first handling, waiting for the handling agency to confirm or override it."""

    outcome: str | None = Field(description="forward, guide, return, archive, transfer, refuse, handle...")
    to_agency: str | None
    rule_id: str | None
    article: str | None


class CaseOut(BaseModel):
    case_id: str
    receipt_no: int
    received_by: str
    received_on: date
    handling_agency: str
    status: CaseStatus
    kind: PetitionKind
    unit_code: str
    round: int
    people_count: int
    crowded: bool
    complicated: bool
    last_event: str
    updated_at: UtcDateTime
    proposal: ProposalOut | None = None
    redacted_summary: str | None = Field(
        default=None, description="The receiving clerk's summary without identifying details (the only clear text)"
    )


class CaseList(BaseModel):
    items: list[CaseOut]
    total: int
    limit: int
    offset: int


class HistoryFact(BaseModel):
    field: str = Field(description="The payload field")
    label: str = Field(description="Its label in the requested language")
    value: Any = Field(description='Its value; encrypted parts appear as "đã mã hoá" (vi) or "<encrypted>" (en)')


class HistoryEvent(BaseModel):
    seq: int
    event_id: str
    type: str
    schema_version: int
    occurred_at: UtcDateTime
    recorded_at: UtcDateTime
    actor: dict[str, str | None]
    payload: dict[str, Any] = Field(description='Encrypted fields appear as {"encrypted": true}')
    label: str = Field(description="The event's name in the requested language (the raw type when it has none)")
    facts: list[HistoryFact] = Field(description="The facts that matter for this event type, labelled")
    rule: str | None = Field(description="The rule or legal article cited (rule id and version, article, basis)")
    trace_id: str | None = Field(description="The writer's trace id, when it had one")


class HistoryOut(BaseModel):
    case_id: str
    events: list[HistoryEvent]


class FeedItem(BaseModel):
    cursor: str
    case_id: str
    event_type: str
    status: CaseStatus
    recorded_at: UtcDateTime


class FeedOut(BaseModel):
    items: list[FeedItem]
    next: str | None = Field(description="Pass as `after` to read on; null when nothing is left now")
