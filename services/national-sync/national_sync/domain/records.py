"""The push contract: what the province sends to the national database (Decree 55/2022/ND-CP Art. 8).

Every record is keyed by (kind, record_id) and sent as versions 1, 2, 3... (``version``; ``previous_version`` =
version - 1). These models are the contract: ``docs/national-sync.md`` carries their JSON schemas, exported by
``python -m national_sync.export_schemas`` and compared with the code by a test.

No identity is ever sent: no names, addresses, ID numbers, not even the registry's pseudonymous person ids;
free text (summaries, contents, reasons) is ciphertext in the log and is not sent either.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NationalType = Literal["complaint", "denunciation", "recommendation_reflection", "mixed"]
RecordKind = Literal["case", "reception", "seal"]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LastChange(_Record):
    event_id: str = Field(description="The province's event that last changed this record")
    recorded_at: datetime = Field(description="When the province recorded that event (UTC)")


class FirstHandling(_Record):
    outcome: Literal["forwarded", "guided", "returned", "archived", "transferred"]
    to_agency: str | None = Field(description="Directory id of the agency it went to, where it went somewhere")
    basis: str = Field(description="Legal basis cited by the officer")


class Acceptance(_Record):
    accepted: bool = Field(description="True: accepted for settlement; false: acceptance refused")
    on: date | None = Field(description="Day of the acceptance notice or decision (null for a refusal)")
    agency: str | None = Field(description="The settling agency (accepted only)")
    ground: str | None = Field(description="Refusal ground code (refused only)")
    basis: str


class Deadline(_Record):
    clock: str = Field(description="Which legal period (e.g. complaint.first.settle)")
    status: Literal["running", "paused", "stopped", "missed"]
    due: date | None = Field(description="Last day of the period (null while paused)")
    on_time: bool | None = Field(description="For a stopped clock: whether the duty was done in time")
    rule_id: str
    rule_version: int
    article: str


class Settlement(_Record):
    decision_number: str | None = None
    decided_on: date | None = None
    result: str | None = Field(default=None, description="upheld, partly_upheld, rejected, well_founded...")
    published_on: date | None = None
    closed_on: date | None = None
    withdrawn_on: date | None = None


class NationalCase(_Record):
    """The national record of one petition (case), keyed by the province's case id."""

    case_id: str
    province: str
    receipt_no: int
    received_by: str = Field(description="Directory id of the receiving agency")
    received_on: date
    channel: str
    round: int = Field(description="1: first-time complaint; 2: second-time")
    unit_code: str = Field(description="Administrative unit the petition concerns")
    people_count: int
    type: NationalType = Field(description="As classified (routing), else as declared")
    declared_type: NationalType
    split_into: tuple[NationalType, ...] = Field(default=(), description="Mixed: the kinds it is split into")
    eligible: bool | None = Field(default=None, description="Null until known")
    within_competence: bool | None = Field(default=None, description="Null until known")
    forwarded_to: str | None = Field(default=None, description="Agency it was forwarded or transferred to")
    handling_agency: str | None = None
    first_handling: FirstHandling | None = None
    acceptance: Acceptance | None = None
    suspended: bool = False
    deadlines: tuple[Deadline, ...] = ()
    escalated_to: tuple[str, ...] = Field(default=(), description="Supervising authorities told of a missed deadline")
    flags: tuple[str, ...] = Field(default=(), description="crowded, over_level, repeat, prolonged")
    settlement: Settlement | None = None
    status: str = Field(description="received, forwarded, accepted, refused, settled, closed, withdrawn...")
    last_change: LastChange


class NationalReception(_Record):
    """The national record of one reception-book entry (LTCD Art. 25(2)), keyed by the entry id."""

    entry_id: str
    province: str
    session_id: str
    agency: str = Field(description="Directory id of the agency that held the session")
    held_on: date
    reception_type: str = Field(description="regular, periodic or ad_hoc")
    online: bool
    serial_no: int = Field(description="Serial number in the agency's book for the year")
    year: int
    people_count: int
    representatives: int = Field(description="How many of the citizens represent the others")
    case_id: str | None = Field(description="The case this reception opened, if any")
    last_change: LastChange


class NationalSeal(_Record):
    """A seal of the audit trail, as signed by the province: sent whole (version = seal_no)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    seal_no: int = Field(ge=1, description="Gap-free from 1; the record's version")


class PushEnvelope(_Record):
    """What one push carries: the record, keyed and versioned."""

    province: str
    kind: RecordKind
    record_id: str = Field(description="case: case id; reception: entry id; seal: the province code")
    version: int = Field(ge=1, description="Gap-free count of pushed changes of this record")
    previous_version: int = Field(ge=0, description="version - 1; the national side must hold it")
    payload: dict[str, Any] = Field(
        description="The record as of this version: a NationalCase, NationalReception or NationalSeal, by kind"
    )
