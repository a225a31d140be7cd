"""Recording a submission: the case and its receipt number land together, or not at all."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from functools import partial
from zoneinfo import ZoneInfo

from casereg.crypto.fields import encrypt_text
from casereg.log.envelope import Actor, AggregateRef, command_event_id
from casereg.log.errors import ConcurrencyConflict
from casereg.log.events import NewEvent
from casereg.log.store import Head

from intake.commands import Caller, SubmitPetition
from intake.domain.case import NEW, evolve
from intake.domain.events import PetitionReceived, ReceiptNumberIssued, SubjectMatter
from intake.domain.model import CaseStatus
from intake.domain.submission import CounterState, case_id_for, counter_id, decide_submission
from intake.handlers.deps import IntakeDeps
from intake.handlers.sealing import case_key, person_key_ids, seal_attachments, seal_submitters, seal_text

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_ATTEMPTS = 200


@dataclass(frozen=True)
class SubmitResult:
    case_id: str
    receipt_no: int
    status: CaseStatus
    created: bool
    stream_seq: int


def business_time(day: date, now: datetime) -> datetime:
    """When the petition arrived: now if it arrived today (Vietnam time), else that day's start in Vietnam."""
    if now.astimezone(VIETNAM).date() == day:
        return now
    return datetime.combine(day, time(0), tzinfo=VIETNAM).astimezone(UTC)


def _petition(deps: IntakeDeps, caller: Caller, cmd: SubmitPetition, case_id: str) -> PetitionReceived:
    subject = cmd.subject_matter
    return PetitionReceived(
        receipt_no=0,  # the decision gives it the counter's next number
        received_by=caller.agency,
        channel=cmd.channel,
        received_on=cmd.received_on,
        declared_kind=cmd.declared_kind,
        unit_code=cmd.unit_code,
        subject_matter=SubjectMatter(
            kind=subject.kind,
            decision_number=subject.decision_number,
            decision_date=subject.decision_date,
            agency=subject.agency,
            description=seal_text(deps.keys, case_id, subject.description, "case.subject.description"),
        ),
        round=cmd.round,
        addressed_to=cmd.addressed_to,
        forwarded_by=cmd.forwarded_by,
        summary=encrypt_text(deps.keys, case_key(case_id), cmd.summary, "case.summary"),
        content=seal_text(deps.keys, case_id, cmd.content, "case.content"),
        attachments=seal_attachments(deps.keys, case_id, cmd.attachments),
        redacted_summary=cmd.redacted_summary,
        submitters=seal_submitters(deps.keys, case_id, cmd.submitters),
        people_count=cmd.people_count,
        identity_protection=cmd.identity_protection,
        request_hash=cmd.request_hash,
        reception_entry=cmd.reception_entry,
    )


async def submit(deps: IntakeDeps, caller: Caller, cmd: SubmitPetition) -> SubmitResult:
    """Record a petition; a retry with the same key returns the case it made (or raises SubmissionMismatch)."""
    case_id = case_id_for(caller.agency, cmd.idempotency_key)
    ref = AggregateRef.case(case_id)
    counter_ref = AggregateRef(kind="counter", id=counter_id(caller.agency, cmd.received_on.year))
    await deps.keys.prepare_async([case_key(case_id), *person_key_ids(case_id, len(cmd.submitters))])
    petition = await asyncio.to_thread(_petition, deps, caller, cmd, case_id)
    actor = Actor(agency=caller.agency, officer=caller.officer, role=caller.role, service="intake")
    occurred = business_time(cmd.received_on, deps.clock.now())
    scope = f"{caller.agency}/submit"
    # Outside the counter lock: a retry finds its case without queueing behind the agency's new submissions.
    case = await deps.log.load(ref, evolve, NEW)
    if not case.state.exists:
        ticket = Ticket(
            case_id=case_id,
            agency=caller.agency,
            year=cmd.received_on.year,
            request_hash=cmd.request_hash,
            petition=petition,
            receipt_id=command_event_id(scope, cmd.idempotency_key, ReceiptNumberIssued.event_type),
            received_id=command_event_id(scope, cmd.idempotency_key, PetitionReceived.event_type),
            occurred=occurred,
            actor=actor,
        )
        grouped: SubmitResult | None = await deps.numbering.enqueue(
            counter_ref.id, ticket, partial(_write_group, deps, counter_ref)
        )
        if grouped is not None:
            return grouped
    # One by one: a replay, a twin made the case meanwhile, or another process took the numbers.
    async with deps.counter_locks[counter_ref.id]:
        for attempt in range(MAX_ATTEMPTS):
            if attempt > 0:
                case = await deps.log.load(ref, evolve, NEW)
            counter_head, counter = await _counter(deps, counter_ref, refresh=attempt > 0)
            decision = decide_submission(
                case.state,
                counter,
                case_id=case_id,
                agency=caller.agency,
                year=cmd.received_on.year,
                request_hash=cmd.request_hash,
                petition=petition,
            )
            if decision.existing:
                assert case.state.receipt_no is not None
                return SubmitResult(case_id, case.state.receipt_no, case.state.status, False, case.head.stream_seq)
            assert decision.petition is not None and decision.receipt is not None
            receipt = NewEvent.of(
                decision.receipt,
                event_id=command_event_id(scope, cmd.idempotency_key, decision.receipt.event_type),
                occurred_at=occurred,
                actor=actor,
            )
            received = NewEvent.of(
                decision.petition,
                event_id=command_event_id(scope, cmd.idempotency_key, decision.petition.event_type),
                occurred_at=occurred,
                actor=actor,
                causation_id=receipt.event_id,
            )
            try:
                results = await deps.log.append_atomic(
                    [(counter_ref, [receipt], counter_head), (ref, [received], Head.genesis(case_id))]
                )
            except ConcurrencyConflict:
                deps.counter_heads.pop(counter_ref.id, None)
                continue  # another process took the number, or made this very case: decide again
            issued = results[0].events[0]
            deps.counter_heads[counter_ref.id] = (results[0].head, int(issued.payload["number"]))
            written = results[1].events[0]
            created = not results[1].already_written  # False: a concurrent twin of this request got there first
            return SubmitResult(
                case_id, int(written.payload["receipt_no"]), CaseStatus.RECEIVED, created, results[1].stream_seq
            )
    raise ConcurrencyConflict(ref.subject(deps.log.province), 0, None)


@dataclass(frozen=True)
class Ticket:
    """A new petition waiting for its receipt number in its agency's next group."""

    case_id: str
    agency: str
    year: int
    request_hash: str
    petition: PetitionReceived
    receipt_id: str
    received_id: str
    occurred: datetime
    actor: Actor


async def _write_group(
    deps: IntakeDeps, counter_ref: AggregateRef, tickets: list[Ticket]
) -> list[SubmitResult | None] | None:
    """Number a group of new petitions and write them with one counter commit in one atomic batch.

    Group commit: while one batch is being written, the agency's next petitions gather, so the counter's
    serialisation costs one round trip per group, not per petition. ``None`` (nothing written) when the batch
    conflicts; the callers then go one by one.
    """
    unique = list({t.case_id: t for t in reversed(tickets)}.values())[::-1]  # twins of one request: once
    async with deps.counter_locks[counter_ref.id]:
        counter_head, counter = await _counter(deps, counter_ref, refresh=False)
        receipts: list[NewEvent] = []
        writes: list[tuple[AggregateRef, Sequence[NewEvent], Head]] = []
        for ticket in unique:
            decision = decide_submission(
                NEW,
                counter,
                case_id=ticket.case_id,
                agency=ticket.agency,
                year=ticket.year,
                request_hash=ticket.request_hash,
                petition=ticket.petition,
            )
            assert decision.petition is not None and decision.receipt is not None
            counter = CounterState(decision.receipt.number)
            receipts.append(
                NewEvent.of(
                    decision.receipt, event_id=ticket.receipt_id, occurred_at=ticket.occurred, actor=ticket.actor
                )
            )
            received = NewEvent.of(
                decision.petition,
                event_id=ticket.received_id,
                occurred_at=ticket.occurred,
                actor=ticket.actor,
                causation_id=ticket.receipt_id,
            )
            writes.append((AggregateRef.case(ticket.case_id), [received], Head.genesis(ticket.case_id)))
        try:
            results = await deps.log.append_atomic([(counter_ref, receipts, counter_head), *writes])
        except ConcurrencyConflict:
            deps.counter_heads.pop(counter_ref.id, None)
            return None
        deps.counter_heads[counter_ref.id] = (results[0].head, int(results[0].events[-1].payload["number"]))
    written = {
        ticket.case_id: SubmitResult(
            ticket.case_id,
            int(result.events[0].payload["receipt_no"]),
            CaseStatus.RECEIVED,
            not result.already_written,
            result.stream_seq,
        )
        for ticket, result in zip(unique, results[1:], strict=True)
    }
    by_case = {t.case_id: t for t in unique}
    out: list[SubmitResult | None] = []
    for ticket in tickets:
        result = written[ticket.case_id]
        if ticket is by_case[ticket.case_id]:
            out.append(result)
        elif ticket.request_hash == by_case[ticket.case_id].request_hash:
            out.append(replace(result, created=False))  # a twin of the same request: the same case
        else:
            out.append(None)  # same key, another request: decided one by one (a mismatch)
    return out


async def _counter(deps: IntakeDeps, ref: AggregateRef, *, refresh: bool) -> tuple[Head, CounterState]:
    """The counter's head and last number: remembered from this process's own last append, else read.

    A stale memory (another process appended since) only costs a conflict and a re-read.
    """
    known = None if refresh else deps.counter_heads.get(ref.id)
    if known is not None:
        return known[0], CounterState(known[1])
    last = await deps.log.last(ref)
    if last is None:
        return Head.genesis(ref.id), CounterState()
    return Head.after(last), CounterState(int(last.last.payload["number"]))
