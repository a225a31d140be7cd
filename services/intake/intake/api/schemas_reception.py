"""Request and response bodies of the reception endpoints (``/v1/reception-sessions``). No identity is ever
answered: the book's lines carry counts, serial numbers, dates and case ids.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from intake.api.schemas import MAX_CONTENT, MAX_SUBMITTERS, PetitionBody
from intake.domain.reception import ReceptionType

MAX_NOTE = 10_000  # prior handling, requests, result
OFFICER_PATTERN = r"^[A-Za-z0-9._@-]{1,64}$"


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class SessionBody(_In):
    """A reception session (LTCD Art. 2(1)): the day, its type, who receives, where."""

    held_on: date = Field(description="The day of the session (not in the future)")
    reception_type: ReceptionType = Field(description="regular | periodic | ad_hoc")
    host_officer: str = Field(pattern=OFFICER_PATTERN, description="The official who receives (as X-Officer-Id)")
    location: str | None = Field(default=None, min_length=1, max_length=200, description="A place; not personal")
    online: bool = Field(default=False, description="Held online (recorded as such from 1 July 2026)")


class CitizenBody(_In):
    """A citizen received. From 1 July 2026 an ID number (citizen ID, personal ID or passport) is required."""

    full_name: str = Field(min_length=1, max_length=200)
    id_number: str | None = Field(default=None, pattern=r"^[0-9A-Z]{6,20}$")
    address: str | None = Field(default=None, min_length=1, max_length=500)
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9 ]{6,20}$")


class EntryBody(_In):
    """One line of the reception book (LTCD Art. 25(2)); with ``petition``, the reception also opens a case."""

    citizens: list[CitizenBody] = Field(min_length=1, max_length=MAX_SUBMITTERS, description="Citizens named")
    people_count: int | None = Field(default=None, ge=1, le=10_000, description="Default: number of citizens")
    representatives: list[Annotated[int, Field(ge=0)]] = Field(
        default_factory=list,
        max_length=MAX_SUBMITTERS,
        description="Indexes into `citizens` of a crowded group's representatives (LTCD Art. 29): none below "
        "5 people, 1 or 2 for 5 to 10 people, 1 to 5 for more than 10",
    )
    content: str = Field(min_length=1, max_length=MAX_CONTENT, description="What the citizens raised")
    prior_handling: str | None = Field(default=None, max_length=MAX_NOTE, description="Earlier handling, if any")
    requests: str | None = Field(default=None, max_length=MAX_NOTE, description="What the citizens ask for")
    result: str | None = Field(default=None, max_length=MAX_NOTE, description="Summary of the result")
    petition: PetitionBody | None = Field(
        default=None,
        description="A petition handed in at this reception (as POST /v1/petitions): opens a case. Its "
        "received_on is the session's day, its channel in_person (online for an online session); its "
        "reception_entry is set to this entry.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> EntryBody:
        if self.people_count is not None and self.people_count < len(self.citizens):
            raise ValueError("people_count cannot be less than the number of citizens")
        return self


class CloseBody(_In):
    closed_on: date = Field(description="The day the session closed (not before it was held, not in the future)")


class SessionOpenedOut(BaseModel):
    session_id: str
    agency: str
    held_on: date
    reception_type: ReceptionType
    host_officer: str
    online: bool
    status: str = Field(description="open | closed")
    created: bool = Field(description="False when this answers a retry of an earlier request")


class SessionOut(BaseModel):
    session_id: str
    agency: str
    held_on: date
    reception_type: ReceptionType
    host_officer: str
    location: str | None
    online: bool
    status: str = Field(description="open | closed")
    closed_on: date | None
    entries: int
    people_count: int
    crowded_groups: int = Field(description="Entries of five people or more")
    cases_opened: int


class EntryOut(BaseModel):
    entry_id: str
    session_id: str
    serial_no: int = Field(description="Serial number in the agency's reception book for the year")
    year: int
    case_id: str | None
    receipt_no: int | None
    created: bool = Field(description="False when this answers a retry of an earlier request")


class ClosedOut(BaseModel):
    session_id: str
    status: str
    closed_on: date


class BookLine(BaseModel):
    """A line of the book as it may be shown: no identity, no text; whether the texts exist."""

    serial_no: int
    year: int
    entry_id: str
    held_on: date
    reception_type: ReceptionType
    host_officer: str
    people_count: int
    citizens: int = Field(description="How many citizens are named (their identities are sealed)")
    representatives: int
    crowded: bool
    has_prior_handling: bool
    has_requests: bool
    has_result: bool
    case_id: str | None
    recorded_at: datetime


class BookOut(BaseModel):
    session: SessionOut
    items: list[BookLine]
    total: int
    limit: int
    offset: int
