"""A case's state (evolve: event → state) and the legal acts on it (decide: state + command → events).

Pure functions: no I/O, no clock. Every rejected act says why, and nothing is appended for it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from casereg.crypto.fields import Encrypted
from casereg.log.envelope import Envelope

from intake.domain import events as ev
from intake.domain.model import (
    FIRST_HANDLING_DONE,
    FIRST_HANDLING_OPEN,
    SETTLEABLE_KINDS,
    CaseStatus,
    ComplicatedCriterion,
    Outcome,
    PetitionKind,
)


class ActionRejected(Exception):
    """The case's state forbids the act (HTTP 409). The message is safe to show: no personal data."""


@dataclass(frozen=True)
class Proposal:
    outcome: Outcome | None  # None: routing proposes handling here (acceptance)
    to_agency: str | None
    rule_id: str | None
    article: str | None = None
    #: Routing's outcome as it wrote it (e.g. "refuse", "handle"): intake confirms only the outcomes it knows.
    proposed: str | None = None


@dataclass(frozen=True)
class CaseState:
    exists: bool = False
    status: CaseStatus = CaseStatus.RECEIVED
    kind: PetitionKind | None = None
    received_by: str | None = None
    received_on: date | None = None
    receipt_no: int | None = None
    request_hash: str | None = None
    #: Agencies that may act: the receiving one, then whoever it was forwarded to or accepted by.
    handling_agency: str | None = None
    visible_to: frozenset[str] = frozenset()
    round: int = 1
    proposal: Proposal | None = None
    complicated: tuple[ComplicatedCriterion, ...] = ()
    extensions: int = 0
    suspended_from: CaseStatus | None = None
    decided: bool = False
    published: bool = False
    events: int = 0
    #: The receiving clerk's redacted summary (clear text without identifying details), if one was recorded.
    redacted_summary: str | None = None
    #: The case's people by person id, in the order they appear (pseudonym numbers are positions + 1).
    persons: tuple[str, ...] = ()


NEW = CaseState()

_OUTCOME_STATUS = {
    ev.PetitionForwarded.event_type: CaseStatus.FORWARDED,
    ev.CitizenGuided.event_type: CaseStatus.GUIDED,
    ev.PetitionReturned.event_type: CaseStatus.RETURNED,
    ev.PetitionArchived.event_type: CaseStatus.ARCHIVED,
    ev.TransferredToInvestigation.event_type: CaseStatus.TRANSFERRED,
}


def evolve(state: CaseState, envelope: Envelope) -> CaseState:
    """Fold one stored event into the state. Unknown types (other services' events) only count."""
    p, t = envelope.payload, envelope.type
    state = replace(state, events=state.events + 1)
    if t == ev.PetitionReceived.event_type:
        agency = str(p["received_by"])
        return replace(
            state,
            exists=True,
            status=CaseStatus.RECEIVED,
            kind=PetitionKind(p["declared_kind"]),
            received_by=agency,
            received_on=date.fromisoformat(p["received_on"]),
            receipt_no=int(p["receipt_no"]),
            request_hash=str(p["request_hash"]),
            handling_agency=agency,
            visible_to=frozenset({agency}),
            round=int(p.get("round", 1)),
            redacted_summary=p.get("redacted_summary"),
            persons=tuple(str(s["person_id"]) for s in p.get("submitters", ())),
        )
    if t == ev.OUTCOME_PROPOSED:
        outcome = p.get("outcome")
        proposal = Proposal(
            outcome=Outcome(outcome) if outcome in set(Outcome) else None,
            to_agency=p.get("to_agency"),
            rule_id=p.get("rule_id"),
            article=p.get("article"),
            proposed=outcome,
        )
        return replace(state, proposal=proposal)
    if t in _OUTCOME_STATUS:
        target = p.get("to_agency")
        visible = state.visible_to | {target} if target else state.visible_to
        handler = target if t == ev.PetitionForwarded.event_type and target else state.handling_agency
        return replace(state, status=_OUTCOME_STATUS[t], visible_to=visible, handling_agency=handler, proposal=None)
    if t == ev.CaseAccepted.event_type:
        agency = str(p["handling_agency"])
        return replace(
            state, status=CaseStatus.ACCEPTED, handling_agency=agency, visible_to=state.visible_to | {agency}
        )
    if t == ev.AcceptanceRefused.event_type:
        return replace(state, status=CaseStatus.REFUSED)
    if t == ev.CaseMarkedComplicated.event_type:
        return replace(state, complicated=tuple(ComplicatedCriterion(c) for c in p["criteria"]))
    if t == ev.DeadlineExtended.event_type:
        return replace(state, extensions=state.extensions + 1)
    if t == ev.CaseSuspended.event_type:
        return replace(state, status=CaseStatus.SUSPENDED, suspended_from=state.status)
    if t == ev.CaseResumed.event_type:
        return replace(state, status=state.suspended_from or CaseStatus.ACCEPTED, suspended_from=None)
    if t == ev.DecisionIssued.event_type:
        return replace(state, status=CaseStatus.DECIDED, decided=True)
    if t == ev.DecisionPublished.event_type:
        return replace(state, published=True)
    if t == ev.CaseClosed.event_type:
        return replace(state, status=CaseStatus.CLOSED)
    if t == ev.CaseWithdrawn.event_type:
        return replace(state, status=CaseStatus.WITHDRAWN)
    if t == ev.SecondRoundOpened.event_type:
        agency = str(p["to_agency"])
        return replace(
            state,
            status=CaseStatus.RECEIVED,
            round=2,
            handling_agency=agency,
            visible_to=state.visible_to | {agency},
            proposal=None,
            complicated=(),
            extensions=0,
            decided=False,
            published=False,
        )
    return state


# --- decide --------------------------------------------------------------------------------------------------


def _require(condition: bool, reason: str) -> None:
    if not condition:
        raise ActionRejected(reason)


def require_handler(state: CaseState, agency: str) -> None:
    _require(state.exists, "the case does not exist")
    _require(state.handling_agency == agency, "only the handling agency may act on this case")


def confirm_outcome(
    state: CaseState,
    agency: str,
    outcome: Outcome,
    to_agency: str | None,
    basis: str,
    reason: Encrypted | None = None,
    override_reason: Encrypted | None = None,
) -> ev.FirstHandlingOutcome:
    """Confirm routing's proposal (or override it: ``override_reason`` in ``texts``)."""
    require_handler(state, agency)
    _require(state.status in FIRST_HANDLING_OPEN, f"the first handling is over (status {state.status.value})")
    needs_target = outcome in (Outcome.FORWARD, Outcome.GUIDE, Outcome.TRANSFER)
    _require(not needs_target or bool(to_agency), f"{outcome.value} needs the target agency")
    _require(to_agency != agency, "a case cannot be forwarded or guided to its own handling agency")
    if outcome == Outcome.FORWARD:
        _require(state.status != CaseStatus.FORWARDED, "a petition is forwarded only once (Circular 05/2021 Art. 14)")
    overriding = override_reason is not None
    proposal = state.proposal
    if not overriding:
        _require(proposal is not None, "no routing proposal to confirm; give an override reason to decide anyway")
        assert proposal is not None
        _require(
            proposal.outcome == outcome and (proposal.to_agency or None) == (to_agency or None),
            "this differs from routing's proposal; give an override reason",
        )
    event_cls = {
        Outcome.FORWARD: ev.PetitionForwarded,
        Outcome.GUIDE: ev.CitizenGuided,
        Outcome.RETURN: ev.PetitionReturned,
        Outcome.ARCHIVE: ev.PetitionArchived,
        Outcome.TRANSFER: ev.TransferredToInvestigation,
    }[outcome]
    return event_cls(
        to_agency=to_agency,
        basis=basis,
        reason=reason,
        proposal_rule=proposal.rule_id if proposal and not overriding else None,
        override_reason=override_reason,
    )


def accept(state: CaseState, agency: str, accepted_on: date, basis: str) -> ev.CaseAccepted:
    _require(state.exists, "the case does not exist")
    _require(agency in state.visible_to, "only an agency the case was received by or forwarded to may accept it")
    _require(
        state.status in FIRST_HANDLING_OPEN,
        f"only a received or forwarded petition can be accepted (status {state.status.value})",
    )
    _require(state.kind in SETTLEABLE_KINDS, "only complaints and denunciations are accepted for settlement")
    if state.status == CaseStatus.RECEIVED:
        _require(state.handling_agency == agency, "only the handling agency may accept this case")
    _require(state.received_on is None or accepted_on >= state.received_on, "acceptance cannot precede receipt")
    return ev.CaseAccepted(accepted_on=accepted_on, handling_agency=agency, basis=basis)


def refuse_acceptance(state: CaseState, agency: str, **fields: object) -> ev.AcceptanceRefused:
    require_handler(state, agency)
    _require(state.status in FIRST_HANDLING_OPEN, f"nothing to refuse (status {state.status.value})")
    _require(state.kind in SETTLEABLE_KINDS, "acceptance is refused only for complaints and denunciations")
    return ev.AcceptanceRefused.model_validate(fields)


def _require_open_settlement(state: CaseState, agency: str) -> None:
    require_handler(state, agency)
    _require(state.status == CaseStatus.ACCEPTED, f"the case is not under settlement (status {state.status.value})")


def mark_complicated(state: CaseState, agency: str, **fields: object) -> ev.CaseMarkedComplicated:
    _require_open_settlement(state, agency)
    _require(not state.complicated, "the case is already marked complicated")
    return ev.CaseMarkedComplicated.model_validate(fields)


def extend(state: CaseState, agency: str, **fields: object) -> ev.DeadlineExtended:
    """Denunciations only (LTC Art. 30): one extension when complicated, two when especially complicated."""
    _require_open_settlement(state, agency)
    _require(state.kind == PetitionKind.DENUNCIATION, "only a denunciation's settlement period is extended")
    allowed = 0 if not state.complicated else (2 if len(state.complicated) >= 2 else 1)
    _require(allowed > 0, "mark the case complicated (with its criteria) before extending")
    _require(state.extensions < allowed, f"no extension left ({state.extensions} of {allowed} used)")
    return ev.DeadlineExtended.model_validate(fields)


def suspend(state: CaseState, agency: str, **fields: object) -> ev.CaseSuspended:
    _require_open_settlement(state, agency)
    return ev.CaseSuspended.model_validate(fields)


def resume(state: CaseState, agency: str, resumed_on: date) -> ev.CaseResumed:
    require_handler(state, agency)
    _require(state.status == CaseStatus.SUSPENDED, "the case is not suspended")
    return ev.CaseResumed(resumed_on=resumed_on)


def issue_decision(state: CaseState, agency: str, **fields: object) -> ev.DecisionIssued:
    _require_open_settlement(state, agency)
    decision = ev.DecisionIssued.model_validate(fields)
    complaint_results = {ev.DecisionResult.UPHELD, ev.DecisionResult.PARTLY_UPHELD, ev.DecisionResult.REJECTED}
    if state.kind == PetitionKind.COMPLAINT:
        _require(decision.result in complaint_results, "a complaint decision is upheld, partly upheld or rejected")
    else:
        _require(decision.result not in complaint_results, "a denunciation conclusion is (partly) well-founded or not")
    return decision


def publish_decision(state: CaseState, agency: str, published_on: date) -> ev.DecisionPublished:
    require_handler(state, agency)
    _require(state.decided, "there is no decision to publish")
    _require(not state.published, "the decision is already published")
    return ev.DecisionPublished(published_on=published_on)


def close(state: CaseState, agency: str, closed_on: date) -> ev.CaseClosed:
    require_handler(state, agency)
    _require(
        state.status == CaseStatus.DECIDED or state.status in FIRST_HANDLING_DONE,
        f"only a decided case or a finished first handling can be closed (status {state.status.value})",
    )
    return ev.CaseClosed(closed_on=closed_on)


def withdraw(state: CaseState, agency: str, **fields: object) -> ev.CaseWithdrawn:
    require_handler(state, agency)
    _require(
        state.status in FIRST_HANDLING_OPEN | {CaseStatus.ACCEPTED, CaseStatus.SUSPENDED},
        f"a petition can be withdrawn only before its decision (status {state.status.value})",
    )
    return ev.CaseWithdrawn.model_validate(fields)


def open_second_round(state: CaseState, agency: str, to_agency: str, received_on: date) -> ev.SecondRoundOpened:
    """A second complaint against the first decision (LKN Art. 33), sent to the next level."""
    _require(state.exists, "the case does not exist")
    _require(agency in state.visible_to, "the case is not visible to this agency")
    _require(state.kind == PetitionKind.COMPLAINT, "only complaints have a second round")
    _require(state.round == 1, "the second round is already open")
    _require(state.decided, "the first-time decision has not been issued")
    _require(to_agency != state.handling_agency, "the second round goes to another agency")
    return ev.SecondRoundOpened(to_agency=to_agency, received_on=received_on)
