"""A case's legal clocks: evolve (event -> state) and decide (state + intake's event -> escalation's events).

Pure: no I/O, no clock. The state folds intake's facts (kind, round, receipt, complicated criteria) and
escalation's own events, which carry each clock's whole state. ``decide`` reads the rule table (data) to see
which clocks an event starts, pauses, resumes, extends, reclassifies or stops.

Suspension: the days used up to and including the day of suspension stay used; the days left count again from
the day after the resumption (``continue``), or the whole period does (``restart``): the rule in force on the
day of suspension says which. A suspension after the period's last day changes nothing. An extension adds its
days to the period; reclassification (complicated) recomputes the period's length, extensions kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta, timezone
from typing import Any

from casereg.log.envelope import Envelope
from casereg.log.events import DomainEvent

from escalation.domain.calendar import WorkingCalendar
from escalation.domain.counting import Unit, days_elapsed, last_day
from escalation.domain.events import (
    ESCALATION_EVENTS,
    DeadlineMoved,
    DeadlinePaused,
    DeadlineSet,
    DeadlineStopped,
    MoveReason,
)
from escalation.domain.rules import Attributes, ClockRule, RuleTable

#: Business dates are Vietnamese calendar days (UTC+7, no daylight saving).
VIETNAM = timezone(timedelta(hours=7))
SEVERAL_PLACES = "verification_at_several_places"  # intake's ComplicatedCriterion.SEVERAL_PLACES

#: The payload field holding the business date of intake's events; others use ``occurred_at`` in Vietnam.
EVENT_DATE_FIELDS: Mapping[str, str] = {
    "PetitionReceived": "received_on",
    "CaseAccepted": "accepted_on",
    "CaseSuspended": "suspended_on",
    "CaseResumed": "resumed_on",
    "DecisionIssued": "decided_on",
    "DecisionPublished": "published_on",
    "CaseClosed": "closed_on",
    "CaseWithdrawn": "withdrawn_on",
    "SecondRoundOpened": "received_on",
}
_OWN: Mapping[str, type[DomainEvent]] = {e.event_type: e for e in ESCALATION_EVENTS}


@dataclass(frozen=True)
class Policy:
    """What decisions depend on besides the events: the rule table, the calendar, the remote units."""

    table: RuleTable
    calendar: WorkingCalendar
    remote_units: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Clock:
    clock: str
    rule_id: str
    rule_version: int
    article: str
    unit: Unit
    law_date: date
    start: date
    counting_from: date
    days: int
    days_used: int = 0
    extensions: int = 0
    extension_days: int = 0
    due: date | None = None
    paused_on: date | None = None
    pause_mode: str | None = None
    pause_article: str | None = None

    @property
    def paused(self) -> bool:
        return self.paused_on is not None


@dataclass(frozen=True)
class CaseClocks:
    kind: str | None = None
    round: int = 1
    received_on: date | None = None
    unit_code: str | None = None
    criteria: tuple[str, ...] = ()
    clocks: tuple[Clock, ...] = ()

    def get(self, clock: str) -> Clock | None:
        return next((c for c in self.clocks if c.clock == clock), None)

    def with_clock(self, clock: Clock) -> CaseClocks:
        return replace(self, clocks=(*(c for c in self.clocks if c.clock != clock.clock), clock))

    def without(self, clock: str) -> CaseClocks:
        return replace(self, clocks=tuple(c for c in self.clocks if c.clock != clock))


NEW = CaseClocks()


def event_date(envelope: Envelope) -> date:
    name = EVENT_DATE_FIELDS.get(envelope.type)
    value = envelope.payload.get(name) if name else None
    if isinstance(value, str):
        return date.fromisoformat(value)
    return envelope.occurred_at.astimezone(VIETNAM).date()


def attributes(state: CaseClocks, policy: Policy) -> Attributes:
    """Decree 31/2019 Art. 3 (and Decree 155/2026 Art. 3a): one criterion is complicated, two or more especially."""
    return Attributes(
        complicated=bool(state.criteria),
        especially_complicated=len(state.criteria) >= 2,
        remote=state.unit_code is not None and state.unit_code in policy.remote_units,
        several_places=SEVERAL_PLACES in state.criteria,
    )


# --- evolve ------------------------------------------------------------------------------------------------------


def _facts(state: CaseClocks, envelope: Envelope) -> CaseClocks:
    p, t = envelope.payload, envelope.type
    if t == "PetitionReceived":
        return replace(
            state,
            kind=str(p["declared_kind"]),
            round=int(p.get("round", 1)),
            received_on=event_date(envelope),
            unit_code=p.get("unit_code"),
            criteria=(),
        )
    if t == "PetitionForwarded":  # the agency it goes to receives it today
        return replace(state, received_on=event_date(envelope))
    if t == "SecondRoundOpened":
        return replace(state, round=2, received_on=event_date(envelope), criteria=())
    if t == "CaseMarkedComplicated":
        return replace(state, criteria=tuple(str(c) for c in p["criteria"]))
    return state


def apply(state: CaseClocks, event: DomainEvent) -> CaseClocks:
    """Fold one of escalation's own events."""
    if isinstance(event, DeadlineSet):
        return state.with_clock(
            Clock(
                clock=event.clock,
                rule_id=event.rule_id,
                rule_version=event.rule_version,
                article=event.article,
                unit=event.unit,
                law_date=event.law_date,
                start=event.start,
                counting_from=event.start,
                days=event.days,
                due=event.due,
            )
        )
    current = state.get(getattr(event, "clock", ""))
    if current is None:
        return state
    if isinstance(event, DeadlineStopped):
        return state.without(current.clock)
    if isinstance(event, DeadlinePaused):
        return state.with_clock(
            replace(
                current,
                due=None,
                paused_on=event.paused_on,
                days_used=event.days_used,
                pause_mode=event.mode,
                pause_article=event.article,
            )
        )
    if isinstance(event, DeadlineMoved):
        resumed = event.due is not None
        return state.with_clock(
            replace(
                current,
                due=event.due,
                days=event.days,
                counting_from=event.counting_from,
                days_used=event.days_used,
                extensions=event.extensions,
                extension_days=current.extension_days + (event.days - current.days)
                if event.reason is MoveReason.EXTENDED
                else current.extension_days,
                paused_on=None if resumed else current.paused_on,
                pause_mode=None if resumed else current.pause_mode,
                pause_article=None if resumed else current.pause_article,
            )
        )
    return state


def evolve(state: CaseClocks, envelope: Envelope) -> CaseClocks:
    """Fold one stored event of the case: escalation's own, or a fact from intake (others only pass)."""
    own = _OWN.get(envelope.type)
    if own is not None:
        return apply(state, own.model_validate(envelope.payload))
    return _facts(state, envelope)


# --- decide ------------------------------------------------------------------------------------------------------


def _applies(rule: ClockRule, state: CaseClocks, payload: Mapping[str, Any]) -> bool:
    if rule.kinds and state.kind not in rule.kinds:
        return False
    if rule.rounds and state.round not in rule.rounds:
        return False
    if any(payload.get(name) in (None, "") for name in rule.start_if_present):
        return False
    return all(str(payload.get(name)) in values for name, values in rule.start_if_equals.items())


def _start(rule: ClockRule, state: CaseClocks, day: date, cause: str, policy: Policy) -> DeadlineSet | None:
    start = state.received_on if rule.start_from == "receipt" and state.received_on else day
    law_date = state.received_on if rule.applies_by == "receipt" and state.received_on else start
    version = rule.version_on(law_date)
    if version is None:
        return None  # no law set this clock then
    days = version.length(attributes(state, policy))
    return DeadlineSet(
        clock=rule.id,
        rule_id=version.rule_id,
        rule_version=version.version,
        article=version.article,
        start=start,
        due=last_day(policy.calendar, start, days, version.unit),
        unit=version.unit,
        days=days,
        law_date=law_date,
        owed_by=rule.owed_by,
        cause=cause,
    )


def _due(calendar: WorkingCalendar, clock: Clock, days: int, counting_from: date, used: int) -> date:
    return last_day(calendar, counting_from, max(days - used, 0), clock.unit)


def _pause(rule: ClockRule, clock: Clock, day: date, cause: str, policy: Policy) -> DeadlinePaused | None:
    pause_rule = rule.pause_rule_on(day)
    if pause_rule is None or clock.paused or clock.due is None:
        return None
    used = clock.days_used + days_elapsed(policy.calendar, clock.counting_from, day, clock.unit)
    if used >= clock.days:
        return None  # suspended after the period's last day: nothing left to stop
    return DeadlinePaused(
        clock=clock.clock,
        rule_id=clock.rule_id,
        rule_version=clock.rule_version,
        article=pause_rule.article,
        paused_on=day,
        previous_due=clock.due,
        days_used=used,
        days_left=clock.days - used,
        mode=pause_rule.mode,
    )


def _moved(clock: Clock, reason: MoveReason, article: str, cause: str, **changes: Any) -> DeadlineMoved:
    fields: dict[str, Any] = {
        "clock": clock.clock,
        "rule_id": clock.rule_id,
        "rule_version": clock.rule_version,
        "article": article,
        "reason": reason,
        "previous_due": clock.due,
        "days": clock.days,
        "counting_from": clock.counting_from,
        "days_used": clock.days_used,
        "extensions": clock.extensions,
        "cause": cause,
    }
    fields.update(changes)
    return DeadlineMoved(**fields)


def _resume(clock: Clock, day: date, cause: str, policy: Policy) -> DeadlineMoved | None:
    if clock.paused_on is None:
        return None
    resumed_on = max(day, clock.paused_on)
    used = clock.days_used if clock.pause_mode == "continue" else 0
    return _moved(
        clock,
        MoveReason.RESUMED,
        clock.pause_article or clock.article,
        cause,
        due=_due(policy.calendar, clock, clock.days, resumed_on, used),
        counting_from=resumed_on,
        days_used=used,
    )


def _extend(
    rule: ClockRule, clock: Clock, state: CaseClocks, payload: Mapping[str, Any], cause: str, policy: Policy
) -> DeadlineMoved | None:
    version = rule.version_on(clock.law_date)
    extension = version.extension if version else None
    if extension is None:
        return None
    added = int(payload.get("days", extension.days))
    count = clock.extensions + 1
    days = clock.days + added
    return _moved(
        clock,
        MoveReason.EXTENDED,
        extension.article,
        cause,
        due=None if clock.paused else _due(policy.calendar, clock, days, clock.counting_from, clock.days_used),
        days=days,
        extensions=count,
        lawful=count <= extension.allowed(attributes(state, policy)) and added <= extension.days,
    )


def _reclassify(rule: ClockRule, clock: Clock, state: CaseClocks, cause: str, policy: Policy) -> DeadlineMoved | None:
    version = rule.version_on(clock.law_date)
    if version is None:
        return None
    days = version.length(attributes(state, policy)) + clock.extension_days
    if days == clock.days:
        return None
    return _moved(
        clock,
        MoveReason.RECLASSIFIED,
        version.article,
        cause,
        due=None if clock.paused else _due(policy.calendar, clock, days, clock.counting_from, clock.days_used),
        days=days,
    )


def decide(state: CaseClocks, envelope: Envelope, policy: Policy) -> list[DomainEvent]:
    """What escalation appends when ``envelope`` (one of the case's events) follows ``state``."""
    t = envelope.type
    if t in _OWN:
        return []
    day = event_date(envelope)
    facts = _facts(state, envelope)
    out: list[DomainEvent] = []
    for rule in policy.table.clocks:
        clock = state.get(rule.id)
        if clock is not None and t in rule.stop:
            out.append(
                DeadlineStopped(
                    clock=clock.clock,
                    rule_id=clock.rule_id,
                    rule_version=clock.rule_version,
                    article=clock.article,
                    stopped_on=day,
                    due=clock.due,
                    on_time=clock.due is None or day <= clock.due,
                    cause=t,
                )
            )
            clock = None
        event: DomainEvent | None = None
        if t in rule.start:
            if clock is None and _applies(rule, facts, envelope.payload):
                event = _start(rule, facts, day, t, policy)
        elif clock is None:
            continue
        elif t in rule.pause:
            event = _pause(rule, clock, day, t, policy)
        elif t in rule.resume:
            event = _resume(clock, day, t, policy)
        elif t in rule.extend:
            event = _extend(rule, clock, facts, envelope.payload, t, policy)
        elif t in rule.reclassify:
            event = _reclassify(rule, clock, facts, t, policy)
        if event is not None:
            out.append(event)
    return out


def react(state: CaseClocks, envelope: Envelope, policy: Policy) -> tuple[CaseClocks, list[DomainEvent]]:
    """Decide on one event, then fold it and the decided events (what the service will do per event)."""
    decided = decide(state, envelope, policy)
    state = evolve(state, envelope)
    for event in decided:
        state = apply(state, event)
    return state, decided


def replay(envelopes: Iterable[Envelope], policy: Policy) -> tuple[CaseClocks, list[DomainEvent]]:
    """React to a case's intake events in order; returns the final state and everything decided."""
    state, decided = NEW, []
    for envelope in envelopes:
        state, new = react(state, envelope, policy)
        decided.extend(new)
    return state, decided
