"""Recording an officer's legal act on a case: decided from the case's folded state, appended with a retry."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from casereg.crypto.fields import Encrypted
from casereg.log.envelope import Actor, AggregateRef, command_event_id
from casereg.log.errors import ConcurrencyConflict
from casereg.log.events import DomainEvent, NewEvent
from casereg.log.store import Aggregate

from intake.commands import Caller, RecordAction
from intake.domain import case as rules
from intake.domain.case import NEW, ActionRejected, CaseState, evolve
from intake.domain.model import ActionKind, CaseStatus, Outcome
from intake.handlers.deps import IntakeDeps
from intake.handlers.sealing import seal_text
from intake.handlers.submit import business_time

#: Roles that may record legal acts; inspectors and auditors only read.
ACTING_ROLES = frozenset({"clerk", "handler"})


class CaseNotFound(LookupError):
    """No such case, or not one this agency may see (the same answer, so existence does not leak)."""


class NotAllowed(PermissionError):
    """The caller's role may not do this."""


@dataclass(frozen=True)
class ActResult:
    case_id: str
    event_type: str
    status: CaseStatus
    stream_seq: int
    already_recorded: bool


def can_see(state: CaseState, caller: Caller) -> bool:
    return state.exists and (caller.role in ("inspector", "auditor") or caller.agency in state.visible_to)


def _texts(deps: IntakeDeps, cmd: RecordAction, name: str, value: str | None) -> Encrypted | None:
    return seal_text(deps.keys, cmd.case_id, value, f"case.action.{cmd.kind.value}.{name}")


def _required(value: str | None, name: str) -> str:
    if not value:
        raise ActionRejected(f"this act needs {name}")
    return value


def decide(deps: IntakeDeps, state: CaseState, caller: Caller, cmd: RecordAction) -> DomainEvent:
    """Map the command onto the pure rule for its kind."""
    agency, k = caller.agency, cmd.kind
    reason = _texts(deps, cmd, "reason", cmd.reason)
    if k == ActionKind.CONFIRM_OUTCOME:
        try:
            outcome = Outcome(_required(cmd.outcome, "an outcome"))
        except ValueError:
            raise ActionRejected(f"unknown outcome {cmd.outcome!r}") from None
        override = _texts(deps, cmd, "override_reason", cmd.override_reason)
        return rules.confirm_outcome(
            state, agency, outcome, cmd.to_agency, _required(cmd.basis, "a legal basis"), reason, override
        )
    if k == ActionKind.ACCEPT:
        return rules.accept(state, agency, cmd.on, _required(cmd.basis, "a legal basis"))
    if k == ActionKind.REFUSE_ACCEPTANCE:
        return rules.refuse_acceptance(
            state,
            agency,
            ground=_required(cmd.ground, "a ground"),
            basis=_required(cmd.basis, "a legal basis"),
            reason=reason,
        )
    if k == ActionKind.MARK_COMPLICATED:
        return rules.mark_complicated(state, agency, criteria=list(cmd.criteria), reason=_required_text(reason))
    if k == ActionKind.EXTEND:
        return rules.extend(state, agency, days=cmd.days, reason=_required_text(reason))
    if k == ActionKind.SUSPEND:
        return rules.suspend(state, agency, suspended_on=cmd.on, reason=_required_text(reason))
    if k == ActionKind.RESUME:
        return rules.resume(state, agency, cmd.on)
    if k == ActionKind.ISSUE_DECISION:
        return rules.issue_decision(
            state,
            agency,
            number=_required(cmd.decision_number, "the decision number"),
            decided_on=cmd.on,
            result=_required(cmd.decision_result, "the decision result"),
            summary=_texts(deps, cmd, "decision_summary", cmd.decision_summary),
        )
    if k == ActionKind.PUBLISH_DECISION:
        return rules.publish_decision(state, agency, cmd.on)
    if k == ActionKind.CLOSE:
        return rules.close(state, agency, cmd.on)
    if k == ActionKind.WITHDRAW:
        return rules.withdraw(state, agency, withdrawn_on=cmd.on, reason=reason)
    if k == ActionKind.OPEN_SECOND_ROUND:
        return rules.open_second_round(
            state, agency, _required(cmd.to_agency, "the agency of the second round"), cmd.on
        )
    raise ActionRejected(f"unknown act {k}")


def _required_text(value: Encrypted | None) -> Encrypted:
    if value is None:
        raise ActionRejected("this act needs a reason")
    return value


async def load_visible(deps: IntakeDeps, caller: Caller, case_id: str) -> Aggregate[CaseState]:
    try:
        ref = AggregateRef.case(case_id)
    except ValueError:
        raise CaseNotFound(case_id) from None
    aggregate = await deps.log.load(ref, evolve, NEW)
    if not can_see(aggregate.state, caller):
        raise CaseNotFound(case_id)
    return aggregate


async def act(deps: IntakeDeps, caller: Caller, cmd: RecordAction, idempotency_key: str) -> ActResult:
    """Record one legal act. ``ActionRejected`` (409) leaves the log unchanged."""
    if caller.role not in ACTING_ROLES:
        raise NotAllowed(f"role {caller.role!r} may not record acts")
    ref = AggregateRef.case(cmd.case_id)
    aggregate = await load_visible(deps, caller, cmd.case_id)
    actor = Actor(agency=caller.agency, officer=caller.officer, role=caller.role, service="intake")
    event_id = command_event_id(f"{caller.agency}/act/{cmd.case_id}", idempotency_key, "act")
    for _ in range(20):
        try:
            event = await asyncio.to_thread(decide, deps, aggregate.state, caller, cmd)
        except ActionRejected:
            # A retry of an act already recorded (say, its response was lost) answers as the first time did.
            for envelope in await deps.log.events(ref):
                if envelope.event_id == event_id:
                    return ActResult(cmd.case_id, envelope.type, aggregate.state.status, 0, True)
            raise
        new = NewEvent.of(
            event,
            event_id=event_id,
            occurred_at=business_time(cmd.on, deps.clock.now()),
            actor=actor,
        )
        try:
            result = await deps.log.append(ref, [new], aggregate.head)
        except ConcurrencyConflict:
            aggregate = await deps.log.load(ref, evolve, NEW, after=aggregate)
            continue
        state = aggregate.state
        for envelope in result.events:
            state = evolve(state, envelope)
        return ActResult(cmd.case_id, event.event_type, state.status, result.stream_seq, result.already_written)
    raise ConcurrencyConflict(ref.subject(deps.log.province), aggregate.head.stream_seq, None)
