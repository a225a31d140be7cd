"""Citizen-reception sessions and the legal reception book (DOMAIN §8; LTCD Art. 25, Circular 06/2014 Art. 16).

A reception session is its own aggregate (``reg.<p>.session.<id>``): opened by an agency on a day with a host
official, it collects the book's entries and is closed. Each entry takes the next serial number of the agency's
book for the year from a counter aggregate (``<agency>_book-<year>``), written in one atomic batch with the entry
as receipt numbers are: gap-free, never wasted by a retry.

Citizens' identities are sealed per person and the entry's free texts (content, prior handling, requests,
result) are ciphertext; the place, the date, the type, the host and the counts stay in clear for the book and
for statistics. Pure functions: no I/O, no clock.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from typing import ClassVar

from casereg.crypto.fields import Encrypted
from casereg.log.envelope import Envelope
from casereg.log.events import DomainEvent
from pydantic import Field

from intake.domain.case import ActionRejected
from intake.domain.events import Submitter
from intake.domain.submission import CounterState, SubmissionMismatch, counter_id

SESSION_NAMESPACE = uuid.UUID("4d2b8e61-7c3a-5f19-b0e4-6a81c2d9f357")
ENTRY_NAMESPACE = uuid.UUID("e7a15c38-92d4-5b60-8f2e-1c3b7d4a9e06")

CROWDED_FROM = 5  # LTCD Art. 29: five people or more raising one content appoint representatives
SMALL_GROUP_MAX = 10  # 5-10 people: 1 or 2 representatives; more than 10: at most 5
SMALL_GROUP_REPRESENTATIVES = 2
LARGE_GROUP_REPRESENTATIVES = 5
#: From this day a citizen received gives an ID number: citizen ID, personal ID or passport (DOMAIN §8).
ID_NUMBER_REQUIRED_FROM = date(2026, 7, 1)


class ReceptionType(StrEnum):
    """LTCD Art. 2(1)."""

    REGULAR = "regular"  # tiếp công dân thường xuyên
    PERIODIC = "periodic"  # định kỳ (the head receives in person)
    AD_HOC = "ad_hoc"  # đột xuất (acute, complex or crowded cases, Art. 18(3))


def session_id_for(agency: str, idempotency_key: str) -> str:
    """A session's id from (agency, idempotency key): a retry days later finds the same session."""
    return str(uuid.uuid5(SESSION_NAMESPACE, f"{agency}\x00{idempotency_key}"))


def entry_id_for(agency: str, session_id: str, idempotency_key: str) -> str:
    return str(uuid.uuid5(ENTRY_NAMESPACE, f"{agency}\x00{session_id}\x00{idempotency_key}"))


def book_counter_id(agency: str, year: int) -> str:
    """The counter aggregate of an agency's reception book for one year: ``<agency>_book-<year>``."""
    return counter_id(f"{agency}_book", year)


# --- events ---------------------------------------------------------------------------------------------------


class ReceptionSessionOpened(DomainEvent):
    event_type: ClassVar[str] = "ReceptionSessionOpened"
    schema_version: ClassVar[int] = 1

    agency: str
    held_on: date
    reception_type: ReceptionType
    host_officer: str = Field(min_length=1, max_length=64, description="The official who receives")
    location: str | None = Field(default=None, max_length=200, description="A place, not personal: in clear")
    online: bool = False
    request_hash: str


class ReceptionSerialIssued(DomainEvent):
    """On the counter aggregate ``<agency>_book-<year>``: the book's next serial number went to an entry."""

    event_type: ClassVar[str] = "ReceptionSerialIssued"
    schema_version: ClassVar[int] = 1

    number: int = Field(ge=1)
    session_id: str
    entry_id: str
    agency: str
    year: int


class ReceptionEntryRecorded(DomainEvent):
    """One line of the reception book (LTCD Art. 25(2))."""

    event_type: ClassVar[str] = "ReceptionEntryRecorded"
    schema_version: ClassVar[int] = 1

    entry_id: str
    serial_no: int = Field(description="Serial number in the agency's book for the year (gap-free, from 1)")
    year: int = Field(description="The book's year: the session's")
    citizens: tuple[Submitter, ...] = Field(min_length=1, description="Sealed identities, one per named citizen")
    people_count: int = Field(ge=1)
    representatives: tuple[int, ...] = Field(default=(), description="Indexes into citizens (LTCD Art. 29)")
    content: Encrypted
    prior_handling: Encrypted | None = None
    requests: Encrypted | None = None
    result: Encrypted | None = None
    case_id: str | None = Field(default=None, description="The case this reception opened, if any")
    request_hash: str


class ReceptionSessionClosed(DomainEvent):
    event_type: ClassVar[str] = "ReceptionSessionClosed"
    schema_version: ClassVar[int] = 1

    closed_on: date


RECEPTION_EVENTS: tuple[type[DomainEvent], ...] = (
    ReceptionSessionOpened,
    ReceptionSerialIssued,
    ReceptionEntryRecorded,
    ReceptionSessionClosed,
)


# --- state ----------------------------------------------------------------------------------------------------


class EntryRejected(ActionRejected):
    """An entry that is invalid whatever the session's state (HTTP 422 naming ``field``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field


@dataclass(frozen=True)
class EntryRef:
    serial_no: int
    request_hash: str
    case_id: str | None


@dataclass(frozen=True)
class SessionState:
    exists: bool = False
    agency: str | None = None
    held_on: date | None = None
    reception_type: ReceptionType | None = None
    host_officer: str | None = None
    online: bool = False
    request_hash: str | None = None
    closed: bool = False
    closed_on: date | None = None
    closed_by_event: str | None = None
    entries: Mapping[str, EntryRef] = field(default_factory=dict)
    people: int = 0


NO_SESSION = SessionState()


def evolve_session(state: SessionState, envelope: Envelope) -> SessionState:
    p, t = envelope.payload, envelope.type
    if t == ReceptionSessionOpened.event_type:
        return replace(
            state,
            exists=True,
            agency=str(p["agency"]),
            held_on=date.fromisoformat(p["held_on"]),
            reception_type=ReceptionType(p["reception_type"]),
            host_officer=str(p["host_officer"]),
            online=bool(p.get("online", False)),
            request_hash=str(p["request_hash"]),
        )
    if t == ReceptionEntryRecorded.event_type:
        ref = EntryRef(int(p["serial_no"]), str(p["request_hash"]), p.get("case_id"))
        entries = {**state.entries, str(p["entry_id"]): ref}
        return replace(state, entries=entries, people=state.people + int(p["people_count"]))
    if t == ReceptionSessionClosed.event_type:
        return replace(
            state, closed=True, closed_on=date.fromisoformat(p["closed_on"]), closed_by_event=envelope.event_id
        )
    return state


# --- decide ---------------------------------------------------------------------------------------------------


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise ActionRejected(reason)


@dataclass(frozen=True)
class OpenDecision:
    existing: bool
    event: ReceptionSessionOpened | None = None


def open_session(state: SessionState, opened: ReceptionSessionOpened) -> OpenDecision:
    """A new session, or the one a retry with the same request already opened."""
    if state.exists:
        if state.request_hash != opened.request_hash:
            raise SubmissionMismatch("this idempotency key was used for a different request")
        return OpenDecision(existing=True)
    return OpenDecision(existing=False, event=opened)


def representatives_problem(people_count: int, citizens: int, representatives: Sequence[int]) -> str | None:
    """Why these representatives break LTCD Art. 29, or ``None``: the rule for crowded groups."""
    if len(set(representatives)) != len(representatives):
        return "a citizen is named a representative only once"
    if any(not 0 <= i < citizens for i in representatives):
        return "representatives must be among the citizens named in the entry (LTCD Art. 29)"
    n = len(representatives)
    if people_count < CROWDED_FROM:
        if n:
            return "representatives are appointed by a crowded group of five people or more (LTCD Art. 29)"
        return None
    if people_count <= SMALL_GROUP_MAX:
        if not 1 <= n <= SMALL_GROUP_REPRESENTATIVES:
            return "a group of 5 to 10 people appoints 1 or 2 representatives (LTCD Art. 29)"
        return None
    if not 1 <= n <= LARGE_GROUP_REPRESENTATIVES:
        return "a group of more than 10 people appoints 1 to 5 representatives (LTCD Art. 29)"
    return None


def require_id_numbers(state: SessionState, has_id_number: Sequence[bool]) -> None:
    """From 1 July 2026 every citizen named in the book gives an ID number."""
    if state.held_on is None or state.held_on < ID_NUMBER_REQUIRED_FROM:
        return
    for i, present in enumerate(has_id_number):
        if not present:
            raise EntryRejected(f"citizens[{i}].id_number", "from 1 July 2026 a citizen received gives an ID number")


@dataclass(frozen=True)
class EntryDecision:
    """Either the entry a retry already recorded, or the two events to write atomically."""

    existing: EntryRef | None = None
    serial: ReceptionSerialIssued | None = None
    entry: ReceptionEntryRecorded | None = None


def check_entry(
    state: SessionState, agency: str, *, people_count: int, citizens: int, representatives: Sequence[int]
) -> None:
    """May this agency record such an entry in this session now? (Also the dry run before a case is opened.)"""
    if people_count < citizens:
        raise EntryRejected("people_count", "people_count cannot be less than the number of citizens named")
    problem = representatives_problem(people_count, citizens, representatives)
    if problem:
        raise EntryRejected("representatives", problem)
    _require(state.exists, "the session does not exist")
    _require(state.agency == agency, "entries are recorded only in the agency's own reception book")
    _require(not state.closed, "the session is closed")


def decide_entry(
    state: SessionState, counter: CounterState, *, agency: str, session_id: str, entry: ReceptionEntryRecorded
) -> EntryDecision:
    """``entry`` comes with ``serial_no`` and ``year`` 0; the decision numbers it in the session's year's book."""
    known = state.entries.get(entry.entry_id)
    if known is not None:
        if known.request_hash != entry.request_hash:
            raise SubmissionMismatch("this idempotency key was used for a different request")
        return EntryDecision(existing=known)
    check_entry(
        state,
        agency,
        people_count=entry.people_count,
        citizens=len(entry.citizens),
        representatives=entry.representatives,
    )
    require_id_numbers(state, [c.identity is not None and c.identity.id_number is not None for c in entry.citizens])
    flagged = tuple(i for i, c in enumerate(entry.citizens) if c.representative)
    if flagged != tuple(sorted(entry.representatives)):
        raise EntryRejected("representatives", "the citizens marked representative differ from representatives")
    assert state.held_on is not None
    year, number = state.held_on.year, counter.last_number + 1
    return EntryDecision(
        serial=ReceptionSerialIssued(
            number=number, session_id=session_id, entry_id=entry.entry_id, agency=agency, year=year
        ),
        entry=entry.model_copy(update={"serial_no": number, "year": year}),
    )


def close_session(state: SessionState, agency: str, closed_on: date) -> ReceptionSessionClosed:
    _require(state.exists, "the session does not exist")
    _require(state.agency == agency, "only the agency that opened the session may close it")
    _require(not state.closed, "the session is already closed")
    assert state.held_on is not None
    _require(closed_on >= state.held_on, "a session cannot close before the day it was held")
    return ReceptionSessionClosed(closed_on=closed_on)
