"""Escalation's reaction: keep a case's clocks on the log in step with intake's events.

On any commit of a case, the reaction reads the whole case, replays the clock domain over every event that is not
escalation's own (``clocks.react``, in log order), and names each decided event by its cause
(``reaction_event_id(cause, type, index)``). Those already in the case are skipped; the rest are appended in one
commit. So the clock events on the log are always exactly what the replay of intake's facts decides, whatever the
order of delivery: a redelivered commit, a re-run after a crash or a restarted service appends nothing twice, and
a case whose later facts were stored before escalation reacted to earlier ones is still decided in fact order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from casereg.log.commit import StoredCommit
from casereg.log.envelope import Actor, AggregateRef, Envelope, reaction_event_id
from casereg.log.events import DomainEvent, NewEvent
from casereg.log.store import Aggregate, EventLog

from escalation.domain.clocks import NEW, CaseClocks, Policy, react
from escalation.domain.events import ESCALATION_EVENTS, TIMER_EVENTS, WATCH_EVENTS

log = logging.getLogger(__name__)
ACTOR = Actor(service="escalation")
OWN_TYPES = frozenset(e.event_type for e in (*ESCALATION_EVENTS, *TIMER_EVENTS, *WATCH_EVENTS))


@dataclass(frozen=True)
class CaseLog:
    """A case as read back: its events in order and the ids present."""

    events: tuple[Envelope, ...] = ()
    ids: frozenset[str] = field(default_factory=frozenset)


def collect(state: CaseLog, envelope: Envelope) -> CaseLog:
    return CaseLog((*state.events, envelope), state.ids | {envelope.event_id})


@dataclass(frozen=True)
class Decided:
    event: DomainEvent
    event_id: str
    cause: Envelope


def clocks_of(events: tuple[Envelope, ...], policy: Policy) -> tuple[CaseClocks, list[Decided]]:
    """Replay the clock domain over a case's facts (escalation's own events skipped): final state, all decided."""
    state, decided = NEW, []
    for cause in events:
        if cause.type in OWN_TYPES:
            continue
        state, new = react(state, cause, policy)
        for index, event in enumerate(new):
            decided.append(Decided(event, reaction_event_id(cause.event_id, event.event_type, index), cause))
    return state, decided


def new_event(event: DomainEvent, event_id: str, occurred_at: datetime, cause: Envelope | None) -> NewEvent:
    return NewEvent.of(
        event,
        event_id=event_id,
        occurred_at=occurred_at,
        actor=ACTOR,
        causation_id=cause.event_id if cause else None,
        correlation_id=cause.correlation_id if cause else None,
    )


async def load_case(event_log: EventLog, ref: AggregateRef) -> Aggregate[CaseLog]:
    return await event_log.load(ref, collect, CaseLog())


@dataclass
class KeepClocks:
    log: EventLog
    policy: Policy

    async def __call__(self, commit: StoredCommit) -> None:
        if commit.aggregate.kind != "case" or all(e.type in OWN_TYPES for e in commit.events):
            return  # our own appends need no answer
        case = await load_case(self.log, commit.aggregate)
        _, decided = clocks_of(case.state.events, self.policy)
        missing = [d for d in decided if d.event_id not in case.state.ids]
        if not missing:
            return  # decided before (a redelivery, a re-run after a crash, or another commit's reaction)
        events = [new_event(d.event, d.event_id, d.cause.occurred_at, d.cause) for d in missing]
        # A conflict (intake wrote meanwhile) propagates: the runner calls the reaction again, never a failure.
        await self.log.append(commit.aggregate, events, case.head)
        log.info("case %s: %s", commit.aggregate.id, ", ".join(f"{d.event.event_type}" for d in missing))
