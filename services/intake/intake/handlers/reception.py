"""Reception sessions: open one, record entries in the agency's book (an entry may open a case), close it.

Every id is derived from the caller's idempotency key, so a retry (also after a crash half-way) finds what the
first attempt wrote: the session, the entry with its serial number, and the case an entry opened.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import date

from casereg.crypto.fields import Encrypted, encrypt_text
from casereg.crypto.keystore import KeyStore
from casereg.log.envelope import Actor, AggregateRef, Envelope, command_event_id
from casereg.log.errors import ConcurrencyConflict
from casereg.log.events import NewEvent
from casereg.log.store import Aggregate, Head

from intake.commands import Caller, SubmitPetition, SubmitterIn
from intake.domain import reception as rules
from intake.domain.case import NEW, ActionRejected, evolve
from intake.domain.model import Channel
from intake.domain.reception import (
    NO_SESSION,
    EntryRejected,
    ReceptionEntryRecorded,
    ReceptionSessionOpened,
    ReceptionType,
    SessionState,
    book_counter_id,
    entry_id_for,
    evolve_session,
    session_id_for,
)
from intake.domain.submission import CounterState, case_id_for
from intake.handlers.act import ACTING_ROLES, NotAllowed
from intake.handlers.deps import IntakeDeps
from intake.handlers.sealing import case_key, seal_submitters
from intake.handlers.submit import MAX_ATTEMPTS, business_time, submit

READ_ALL_ROLES = frozenset({"inspector", "auditor"})


class SessionNotFound(LookupError):
    """No such session, or not one this agency may see (the same answer, so existence does not leak)."""


@dataclass(frozen=True)
class OpenSession:
    idempotency_key: str
    request_hash: str
    held_on: date
    reception_type: ReceptionType
    host_officer: str
    location: str | None = None
    online: bool = False


@dataclass(frozen=True)
class RecordEntry:
    session_id: str
    idempotency_key: str
    request_hash: str
    citizens: tuple[SubmitterIn, ...]
    people_count: int
    content: str
    representatives: tuple[int, ...] = ()
    prior_handling: str | None = None
    requests: str | None = None
    result: str | None = None
    #: A case to open from this reception; its key, request hash and ``reception_entry`` are set here.
    petition: SubmitPetition | None = None

    def __repr__(self) -> str:  # never print personal data by accident
        return f"RecordEntry(session_id={self.session_id!r}, key={self.idempotency_key!r}, <redacted>)"


@dataclass(frozen=True)
class SessionResult:
    session_id: str
    state: SessionState
    created: bool


@dataclass(frozen=True)
class EntryResult:
    session_id: str
    entry_id: str
    serial_no: int
    year: int
    case_id: str | None
    receipt_no: int | None
    created: bool


def _actor(caller: Caller) -> Actor:
    return Actor(agency=caller.agency, officer=caller.officer, role=caller.role, service="intake")


def _require_acting(caller: Caller) -> None:
    if caller.role not in ACTING_ROLES:
        raise NotAllowed(f"role {caller.role!r} does not keep a reception book")


def _fold(state: SessionState, events: tuple[Envelope, ...]) -> SessionState:
    for envelope in events:
        state = evolve_session(state, envelope)
    return state


def session_ref(session_id: str) -> AggregateRef:
    try:
        return AggregateRef(kind="session", id=session_id)
    except ValueError:
        raise SessionNotFound(session_id) from None


def can_see(state: SessionState, caller: Caller) -> bool:
    return state.exists and (caller.role in READ_ALL_ROLES or state.agency == caller.agency)


async def load_visible(deps: IntakeDeps, caller: Caller, session_id: str) -> Aggregate[SessionState]:
    aggregate = await deps.log.load(session_ref(session_id), evolve_session, NO_SESSION)
    if not can_see(aggregate.state, caller):
        raise SessionNotFound(session_id)
    return aggregate


# --- open -----------------------------------------------------------------------------------------------------


async def open_session(deps: IntakeDeps, caller: Caller, cmd: OpenSession) -> SessionResult:
    """Open a session; a retry with the same key returns it (or raises SubmissionMismatch for another request)."""
    _require_acting(caller)
    session_id = session_id_for(caller.agency, cmd.idempotency_key)
    ref = session_ref(session_id)
    opened = ReceptionSessionOpened(
        agency=caller.agency,
        held_on=cmd.held_on,
        reception_type=cmd.reception_type,
        host_officer=cmd.host_officer,
        location=cmd.location,
        online=cmd.online,
        request_hash=cmd.request_hash,
    )
    new = NewEvent.of(
        opened,
        event_id=command_event_id(f"{caller.agency}/reception-session", cmd.idempotency_key, opened.event_type),
        occurred_at=business_time(cmd.held_on, deps.clock.now()),
        actor=_actor(caller),
    )
    for _ in range(5):
        aggregate = await deps.log.load(ref, evolve_session, NO_SESSION)
        decision = rules.open_session(aggregate.state, opened)
        if decision.existing:
            return SessionResult(session_id, aggregate.state, False)
        try:
            result = await deps.log.append(ref, [new], aggregate.head)
        except ConcurrencyConflict:
            continue  # a concurrent twin of this request opened it: decide again
        return SessionResult(session_id, _fold(aggregate.state, result.events), not result.already_written)
    raise ConcurrencyConflict(ref.subject(deps.log.province), 0, None)


# --- entries --------------------------------------------------------------------------------------------------


def _seal(keys: KeyStore, key_id: str, text: str | None, name: str) -> Encrypted | None:
    return None if text is None else encrypt_text(keys, key_id, text, f"reception.{name}")


def _draft(deps: IntakeDeps, cmd: RecordEntry, entry_id: str, case_id: str | None) -> ReceptionEntryRecorded:
    """The entry with identities sealed and texts encrypted; serial number and year come with the decision.

    Texts are encrypted under the case's key when the entry opens a case (erasing the case erases them too),
    else under the entry's own key; each citizen's identity under that person's key.
    """
    key_id = case_key(case_id) if case_id else f"reception-{entry_id}"
    citizens = tuple(replace(c, representative=i in cmd.representatives) for i, c in enumerate(cmd.citizens))
    content = _seal(deps.keys, key_id, cmd.content, "content")
    assert content is not None
    return ReceptionEntryRecorded(
        entry_id=entry_id,
        serial_no=0,
        year=0,
        citizens=seal_submitters(deps.keys, entry_id, citizens),
        people_count=cmd.people_count,
        representatives=tuple(sorted(cmd.representatives)),
        content=content,
        prior_handling=_seal(deps.keys, key_id, cmd.prior_handling, "prior_handling"),
        requests=_seal(deps.keys, key_id, cmd.requests, "requests"),
        result=_seal(deps.keys, key_id, cmd.result, "result"),
        case_id=case_id,
        request_hash=cmd.request_hash,
    )


def petition_key(entry_id: str) -> str:
    """The idempotency key under which an entry's case is submitted: one case per entry, whatever the retries."""
    return f"reception-entry-{entry_id}"


def _check_petition(state: SessionState, petition: SubmitPetition) -> None:
    """A petition handed in at a reception arrived that day, in person (or online, for an online session)."""
    if petition.received_on != state.held_on:
        raise EntryRejected("petition.received_on", "a petition handed in at a reception is received that day")
    expected = Channel.ONLINE if state.online else Channel.IN_PERSON
    if petition.channel != expected:
        raise EntryRejected("petition.channel", f"a petition handed in at this session comes {expected.value}")


async def _receipt_no(deps: IntakeDeps, case_id: str | None) -> int | None:
    if case_id is None:
        return None
    case = await deps.log.load(AggregateRef.case(case_id), evolve, NEW)
    return case.state.receipt_no


async def record_entry(deps: IntakeDeps, caller: Caller, cmd: RecordEntry) -> EntryResult:
    """Record one line of the book with the next serial number; open its case first when it brings a petition.

    Everything is checked before the case is submitted, so a refused entry opens no case either.
    """
    _require_acting(caller)
    aggregate = await load_visible(deps, caller, cmd.session_id)
    entry_id = entry_id_for(caller.agency, cmd.session_id, cmd.idempotency_key)
    case_id = case_id_for(caller.agency, petition_key(entry_id)) if cmd.petition else None
    if entry_id not in aggregate.state.entries:  # a replay answers below, even once the session is closed
        rules.check_entry(
            aggregate.state,
            caller.agency,
            people_count=cmd.people_count,
            citizens=len(cmd.citizens),
            representatives=cmd.representatives,
        )
        rules.require_id_numbers(
            aggregate.state, [c.identity is not None and bool(c.identity.id_number) for c in cmd.citizens]
        )
        if cmd.petition is not None:
            _check_petition(aggregate.state, cmd.petition)
    draft = await asyncio.to_thread(_draft, deps, cmd, entry_id, case_id)
    receipt_no: int | None = None
    if cmd.petition is not None and entry_id not in aggregate.state.entries:
        petition = replace(
            cmd.petition,
            idempotency_key=petition_key(entry_id),
            request_hash=cmd.request_hash,
            reception_entry=entry_id,
        )
        submitted = await submit(deps, caller, petition)
        assert submitted.case_id == case_id
        receipt_no = submitted.receipt_no
    held_on = aggregate.state.held_on
    assert held_on is not None
    counter_ref = AggregateRef(kind="counter", id=book_counter_id(caller.agency, held_on.year))
    ref = aggregate.ref
    actor = _actor(caller)
    occurred = business_time(held_on, deps.clock.now())
    scope = f"{caller.agency}/reception-entry"
    async with deps.counter_locks[counter_ref.id]:
        for _ in range(MAX_ATTEMPTS):
            aggregate = await deps.log.load(ref, evolve_session, NO_SESSION, after=aggregate)
            last = await deps.log.last(counter_ref)
            counter = CounterState(int(last.last.payload["number"])) if last else CounterState()
            decision = rules.decide_entry(
                aggregate.state, counter, agency=caller.agency, session_id=cmd.session_id, entry=draft
            )
            if decision.existing is not None:
                known = decision.existing
                number = receipt_no if receipt_no is not None else await _receipt_no(deps, known.case_id)
                return EntryResult(
                    cmd.session_id, entry_id, known.serial_no, held_on.year, known.case_id, number, False
                )
            assert decision.serial is not None and decision.entry is not None
            serial = NewEvent.of(
                decision.serial,
                event_id=command_event_id(scope, entry_id, decision.serial.event_type),
                occurred_at=occurred,
                actor=actor,
            )
            recorded = NewEvent.of(
                decision.entry,
                event_id=command_event_id(scope, entry_id, decision.entry.event_type),
                occurred_at=occurred,
                actor=actor,
                causation_id=serial.event_id,
            )
            counter_head = Head.after(last) if last else Head.genesis(counter_ref.id)
            try:
                results = await deps.log.append_atomic(
                    [(counter_ref, [serial], counter_head), (ref, [recorded], aggregate.head)]
                )
            except ConcurrencyConflict:
                continue  # another entry took the number or extended the session: decide again
            written = results[1].events[0]
            return EntryResult(
                cmd.session_id,
                entry_id,
                int(written.payload["serial_no"]),
                held_on.year,
                case_id,
                receipt_no if receipt_no is not None else await _receipt_no(deps, case_id),
                not results[1].already_written,
            )
    raise ConcurrencyConflict(ref.subject(deps.log.province), 0, None)


# --- close ----------------------------------------------------------------------------------------------------


async def close_session(
    deps: IntakeDeps, caller: Caller, session_id: str, closed_on: date, idempotency_key: str
) -> SessionResult:
    """Close a session: no more entries. A retry of a close already recorded answers as the first time did."""
    _require_acting(caller)
    aggregate = await load_visible(deps, caller, session_id)
    event_id = command_event_id(f"{caller.agency}/reception-close/{session_id}", idempotency_key, "close")
    for _ in range(20):
        state = aggregate.state
        try:
            event = rules.close_session(state, caller.agency, closed_on)
        except ActionRejected:
            if state.closed_by_event == event_id:
                return SessionResult(session_id, state, False)
            raise
        new = NewEvent.of(
            event, event_id=event_id, occurred_at=business_time(closed_on, deps.clock.now()), actor=_actor(caller)
        )
        try:
            result = await deps.log.append(aggregate.ref, [new], aggregate.head)
        except ConcurrencyConflict:
            aggregate = await deps.log.load(aggregate.ref, evolve_session, NO_SESSION, after=aggregate)
            continue
        return SessionResult(session_id, _fold(state, result.events), not result.already_written)
    raise ConcurrencyConflict(aggregate.ref.subject(deps.log.province), aggregate.head.stream_seq, None)
