"""Deciding a submission: a new case with the next gap-free receipt number, or the case a retry already made."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from intake.domain.case import ActionRejected, CaseState
from intake.domain.events import PetitionReceived, ReceiptNumberIssued

#: Namespace of case ids derived from (agency, idempotency key): a retry days later finds the same case.
CASE_NAMESPACE = uuid.UUID("0b7c2f4e-3d5a-5b8e-9c61-4a2e8f1d7b30")


def case_id_for(agency: str, idempotency_key: str) -> str:
    return str(uuid.uuid5(CASE_NAMESPACE, f"{agency}\x00{idempotency_key}"))


def counter_id(agency: str, year: int) -> str:
    """The counter aggregate of an agency's receipt numbers for one year (``<agency>-<year>``)."""
    return f"{agency.replace('/', '_').replace('.', '_')}-{year}"


class SubmissionMismatch(Exception):
    """The idempotency key was used before with a different request (HTTP 422)."""


@dataclass(frozen=True)
class CounterState:
    last_number: int = 0


def evolve_counter(state: CounterState, number: int) -> CounterState:
    return CounterState(last_number=max(state.last_number, number))


@dataclass(frozen=True)
class SubmissionDecision:
    """Either the existing case (a replay) or the two events to write atomically."""

    existing: bool
    petition: PetitionReceived | None = None
    receipt: ReceiptNumberIssued | None = None


def decide_submission(
    case: CaseState,
    counter: CounterState,
    *,
    case_id: str,
    agency: str,
    year: int,
    request_hash: str,
    petition: PetitionReceived,
) -> SubmissionDecision:
    """``petition`` comes with ``receipt_no`` 0; the decision gives it the counter's next number."""
    if case.exists:
        if case.request_hash != request_hash:
            raise SubmissionMismatch("this idempotency key was used for a different request")
        return SubmissionDecision(existing=True)
    if petition.received_by != agency:
        raise ActionRejected("a petition is recorded by the agency that received it")
    number = counter.last_number + 1
    return SubmissionDecision(
        existing=False,
        petition=petition.model_copy(update={"receipt_no": number, "request_hash": request_hash}),
        receipt=ReceiptNumberIssued(number=number, case_id=case_id, agency=agency, year=year),
    )
