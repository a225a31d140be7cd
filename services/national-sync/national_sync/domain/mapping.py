"""Fold the log's events into national records: pure functions, no I/O, no clock.

A case's events (intake's acts, routing's classification and proposal, escalation's clocks and flags) fold into
one :class:`NationalCase`; a reception session's events fold into one :class:`NationalReception` per book entry.
Each event that changes a record yields its next version; an event that leaves it unchanged yields none. Event
types this fold does not know are ignored (a newer producer must not stop the sync).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from casereg.log.envelope import Envelope
from pydantic import BaseModel

from national_sync.domain.records import (
    Acceptance,
    Deadline,
    FirstHandling,
    LastChange,
    NationalCase,
    NationalReception,
    NationalType,
    Settlement,
)

CASE = "case"
RECEPTION = "reception"
SEAL = "seal"
#: Fold state of a reception session (the context its entries carry); never pushed itself.
SESSION = "reception-session"

_FIRST_HANDLING = {
    "PetitionForwarded": "forwarded",
    "CitizenGuided": "guided",
    "PetitionReturned": "returned",
    "PetitionArchived": "archived",
    "TransferredToInvestigation": "transferred",
}


@dataclass(frozen=True)
class Tracked:
    """A record's fold state as last stored, with the version last given to it (0: none pushed)."""

    version: int
    state: dict[str, Any]


@dataclass(frozen=True)
class Update:
    """A record's new fold state; ``push`` when it is a new version to send (``state`` is then its payload)."""

    kind: str
    record_id: str
    version: int
    state: dict[str, Any]
    push: bool

    @property
    def previous_version(self) -> int:
        return self.version - 1


Lookup = Callable[[str, str], Tracked | None]


def national_type(kind: str) -> NationalType:
    if kind in ("recommendation", "reflection"):
        return "recommendation_reflection"
    if kind in ("complaint", "denunciation", "mixed"):
        return kind  # type: ignore[return-value]
    raise ValueError(f"unknown petition kind {kind!r}")


R = TypeVar("R", bound=BaseModel)


def _with(model: R, changes: dict[str, Any] | None = None, /, **more: Any) -> R:
    """A copy with changes, validated (dates from payloads become dates, as in a stored record read back)."""
    return type(model).model_validate({**dict(model), **(changes or {}), **more})


def _last(e: Envelope) -> LastChange:
    return LastChange(event_id=e.event_id, recorded_at=e.recorded_at)


def _received(e: Envelope, province: str) -> NationalCase:
    p = e.payload
    kind = national_type(p["declared_kind"])
    return NationalCase(
        case_id=e.case_id,
        province=province,
        receipt_no=p["receipt_no"],
        received_by=p["received_by"],
        received_on=p["received_on"],
        channel=p["channel"],
        round=p.get("round", 1),
        unit_code=p["unit_code"],
        people_count=p.get("people_count", 1),
        type=kind,
        declared_type=kind,
        handling_agency=p["received_by"],
        status="received",
        last_change=_last(e),
    )


def _deadline(rec: NationalCase, clock: str, **changes: Any) -> NationalCase:
    current = {d.clock: d for d in rec.deadlines}
    old = current.get(clock)
    if old is None:
        base = {"clock": clock, "status": "running", "due": None, "on_time": None}
        current[clock] = Deadline.model_validate({**base, **changes})
    else:
        current[clock] = _with(old, **changes)
    return _with(rec, {"deadlines": tuple(current[c] for c in sorted(current))})


def _settlement(rec: NationalCase, **changes: Any) -> Settlement:
    return _with(rec.settlement or Settlement(), **changes)


def _clock_fields(p: dict[str, Any]) -> dict[str, Any]:
    return {"rule_id": p["rule_id"], "rule_version": p["rule_version"], "article": p["article"]}


def _evolve_case(rec: NationalCase, e: Envelope) -> NationalCase:
    p, t = e.payload, e.type
    if t == "PetitionClassified":
        return _with(
            rec,
            {
                "type": national_type(p["classification"]),
                "split_into": tuple(dict.fromkeys(national_type(k) for k in p.get("split_into", ()))),
            },
        )
    if t == "OutcomeProposed":
        outcome = p.get("outcome")
        # Routing's judgement; the officer's act (below) overrides it.
        return _with(
            rec,
            {
                "eligible": outcome not in ("refuse", "archive", "return"),
                "within_competence": outcome is None,
            },
        )
    if t in _FIRST_HANDLING:
        handled = FirstHandling(outcome=_FIRST_HANDLING[t], to_agency=p.get("to_agency"), basis=p["basis"])
        moved = handled.outcome in ("forwarded", "transferred")
        update: dict[str, Any] = {"first_handling": handled, "status": handled.outcome}
        if moved or handled.outcome in ("guided", "returned"):
            update["within_competence"] = False
        if moved:
            update["forwarded_to"] = p.get("to_agency")
            update["handling_agency"] = p.get("to_agency")
        if handled.outcome == "archived":
            update["eligible"] = False
        return _with(rec, update)
    if t == "CaseAccepted":
        acc = Acceptance(accepted=True, on=p["accepted_on"], agency=p["handling_agency"], ground=None, basis=p["basis"])
        return _with(
            rec,
            {
                "acceptance": acc,
                "eligible": True,
                "within_competence": True,
                "handling_agency": p["handling_agency"],
                "status": "accepted",
            },
        )
    if t == "AcceptanceRefused":
        acc = Acceptance(accepted=False, on=None, agency=None, ground=p["ground"], basis=p["basis"])
        return _with(rec, {"acceptance": acc, "eligible": False, "status": "refused"})
    if t == "CaseSuspended":
        return _with(rec, {"suspended": True, "status": "suspended"})
    if t == "CaseResumed":
        return _with(rec, {"suspended": False, "status": "accepted"})
    if t == "DecisionIssued":
        settled = _settlement(rec, decision_number=p["number"], decided_on=p["decided_on"], result=p["result"])
        return _with(rec, {"settlement": settled, "status": "settled"})
    if t == "DecisionPublished":
        return _with(rec, {"settlement": _settlement(rec, published_on=p["published_on"])})
    if t == "CaseClosed":
        return _with(rec, {"settlement": _settlement(rec, closed_on=p["closed_on"]), "status": "closed"})
    if t == "CaseWithdrawn":
        settled = _settlement(rec, withdrawn_on=p["withdrawn_on"])
        return _with(rec, {"settlement": settled, "status": "withdrawn"})
    if t == "SecondRoundOpened":
        return _with(
            rec,
            {
                "round": 2,
                "handling_agency": p["to_agency"],
                "acceptance": None,
                "settlement": None,
                "status": "received",
            },
        )
    if t == "DeadlineSet":
        return _deadline(rec, p["clock"], status="running", due=p["due"], on_time=None, **_clock_fields(p))
    if t == "DeadlineMoved":
        status = "running" if p.get("due") is not None else "paused"
        return _deadline(rec, p["clock"], status=status, due=p.get("due"), **_clock_fields(p))
    if t == "DeadlinePaused":
        return _deadline(rec, p["clock"], status="paused", due=None, **_clock_fields(p))
    if t == "DeadlineStopped":
        fields = {"status": "stopped", "due": p.get("due"), "on_time": p["on_time"]}
        return _deadline(rec, p["clock"], **fields, **_clock_fields(p))
    if t == "DeadlineMissed":
        return _deadline(rec, p["clock"], status="missed", due=p["due"], **_clock_fields(p))
    if t == "CaseEscalated" and p.get("to_agency"):
        return _with(rec, {"escalated_to": tuple(sorted({*rec.escalated_to, p["to_agency"]}))})
    if t == "CaseFlagged":
        return _with(rec, {"flags": tuple(sorted({*rec.flags, p["flag"]}))})
    return rec  # DeadlineApproaching, ReceiptNumberIssued, CaseMarkedComplicated, unknown types: no change


def _changed(old: Tracked | None, kind: str, record_id: str, new: NationalCase | NationalReception) -> Update | None:
    """The next version when ``new`` differs from the stored record in anything but ``last_change``."""
    if old is not None:
        before = type(new).model_validate(old.state)
        if new.model_copy(update={"last_change": before.last_change}) == before:
            return None
    version = (old.version if old else 0) + 1
    return Update(kind, record_id, version, new.model_dump(mode="json"), push=True)


def fold_case(tracked: Tracked | None, e: Envelope, province: str) -> Update | None:
    """One case event: the case record's next version, or None when the record does not change."""
    if tracked is None:
        if e.type != "PetitionReceived":
            return None  # nothing to update before the petition exists
        return _changed(None, CASE, e.case_id, _received(e, province))
    current = NationalCase.model_validate(tracked.state)
    new = _with(_evolve_case(current, e), last_change=_last(e))
    return _changed(tracked, CASE, e.case_id, new)


def fold_session(lookup: Lookup, e: Envelope, province: str) -> list[Update]:
    """One reception-session event: the session's context, and each book entry's next version."""
    p = e.payload
    if e.type == "ReceptionSessionOpened":
        context = {
            "session_id": e.case_id,
            "agency": p["agency"],
            "held_on": p["held_on"],
            "reception_type": p["reception_type"],
            "online": p.get("online", False),
        }
        if lookup(SESSION, e.case_id) is not None:
            return []
        return [Update(SESSION, e.case_id, 0, context, push=False)]
    if e.type != "ReceptionEntryRecorded":
        return []
    session = lookup(SESSION, e.case_id)
    if session is None:
        return []  # an entry before its session: cannot happen in a well-formed log
    entry = NationalReception(
        **session.state,
        entry_id=p["entry_id"],
        province=province,
        serial_no=p["serial_no"],
        year=p["year"],
        people_count=p["people_count"],
        representatives=len(p.get("representatives", ())),
        case_id=p.get("case_id"),
        last_change=_last(e),
    )
    update = _changed(lookup(RECEPTION, entry.entry_id), RECEPTION, entry.entry_id, entry)
    return [update] if update else []


def fold(lookup: Lookup, aggregate_kind: str, e: Envelope, province: str) -> list[Update]:
    """One event of the log, on an aggregate of ``aggregate_kind`` (case, session...)."""
    if aggregate_kind == "case":
        update = fold_case(lookup(CASE, e.case_id), e, province)
        return [update] if update else []
    if aggregate_kind == "session":
        return fold_session(lookup, e, province)
    return []
