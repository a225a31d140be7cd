"""The timer loop: scans the due-date table on the injected clock; warns, marks missed, escalates (DESIGN §4).

Each tick takes "today" in Asia/Ho_Chi_Minh from the clock and looks at the running duties of agencies
(``owed_by = agency``; a citizen's limitation period is never escalated) whose last day is within the largest
warning lead:

- ``DeadlineApproaching`` when the working days after today up to the last day are at most a lead (default 5 and
  1); only the smallest lead reached is sent, and a smaller one later;
- ``DeadlineMissed`` and ``CaseEscalated`` (one commit) once the last day has ended (midnight in Vietnam), to the
  authority supervising the agency that owes it (the directory's ``supervisor``).

Event ids derive from (case, clock, due date, kind[, lead]), so a tick after downtime catches up, and a tick that
repeats one already done (the table not caught up yet, two ticks racing, a restart) finds its ids in the case and
appends nothing. Before appending, the clock is checked against the case's facts on the log (the same replay as
the reaction): a table row behind the log (the case decided meanwhile) never produces a false miss.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from casereg.clock import Clock
from casereg.directory.directory import Directory
from casereg.log.envelope import AggregateRef
from casereg.log.errors import ConcurrencyConflict
from casereg.log.events import DomainEvent, NewEvent
from casereg.log.store import EventLog

from escalation.domain.clocks import VIETNAM, Policy
from escalation.domain.counting import Unit, days_elapsed, raw_last_day
from escalation.domain.events import CaseEscalated, DeadlineApproaching, DeadlineMissed
from escalation.reactions import ACTOR, clocks_of, load_case
from escalation.tables import RUNNING, cases, deadlines

log = logging.getLogger(__name__)
TIMER_NAMESPACE = uuid.UUID("0b6b1f0e-3c55-5d1a-9f55-6e2c1f4a7d21")


def timer_event_id(case_id: str, clock: str, due: date, kind: str, lead: int | None = None) -> str:
    """Deterministic id of a timer event: the same (case, clock, due date, kind[, lead]) is the same event."""
    suffix = "" if lead is None else f"/{lead}"
    return str(uuid.uuid5(TIMER_NAMESPACE, f"{case_id}/{clock}/{due.isoformat()}/{kind}{suffix}"))


def end_of_day(day: date) -> datetime:
    """The moment a period whose last day is ``day`` ends: the next midnight in Vietnam, as UTC."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=VIETNAM).astimezone(UTC)


@dataclass(frozen=True)
class Due:
    case_id: str
    clock: str
    due: date
    rule_id: str
    rule_version: int
    article: str
    warned_lead: int | None
    agency: str | None


@dataclass
class TimerLoop:
    log: EventLog
    engine: sa.Engine
    clock: Clock
    policy: Policy
    directory: Directory
    leads: tuple[int, ...] = (5, 1)
    interval: float = 60.0

    def _rows(self, today: date) -> list[Due]:
        horizon = raw_last_day(self.policy.calendar, today, max(self.leads, default=0), Unit.WORKING)
        d, c = deadlines, cases
        query = (
            sa.select(
                d.c.case_id, d.c.clock, d.c.due, d.c.rule_id, d.c.rule_version, d.c.article, d.c.warned_lead, c.c.agency
            )
            .select_from(d.outerjoin(c, c.c.case_id == d.c.case_id))
            .where(d.c.state == RUNNING, d.c.owed_by == "agency", d.c.missed.is_(False), d.c.due <= horizon)
            .order_by(d.c.due, d.c.case_id, d.c.clock)
        )
        with self.engine.connect() as conn:
            return [Due(*row) for row in conn.execute(query)]

    def _decide(self, row: Due, now: datetime, today: date) -> list[tuple[DomainEvent, str, datetime]]:
        common = {"clock": row.clock, "rule_id": row.rule_id, "rule_version": row.rule_version, "article": row.article}
        if now >= end_of_day(row.due):
            ended = end_of_day(row.due)
            supervisor = None
            if row.agency:
                with contextlib.suppress(LookupError):
                    found = self.directory.supervisor(row.agency)
                    supervisor = found.id if found else None
            reason = f"{row.clock} ended on {row.due.isoformat()} without the duty done ({row.article})"
            return [
                (
                    DeadlineMissed(**common, due=row.due, agency=row.agency),
                    timer_event_id(row.case_id, row.clock, row.due, "DeadlineMissed"),
                    ended,
                ),
                (
                    CaseEscalated(
                        to_agency=supervisor,
                        from_agency=row.agency,
                        clock=row.clock,
                        due=row.due,
                        reason=reason,
                        article=row.article,
                    ),
                    timer_event_id(row.case_id, row.clock, row.due, "CaseEscalated"),
                    ended,
                ),
            ]
        left = days_elapsed(self.policy.calendar, today, row.due, Unit.WORKING)
        reached = [lead for lead in self.leads if left <= lead]
        if not reached:
            return []
        lead = min(reached)
        if row.warned_lead is not None and row.warned_lead <= lead:
            return []
        event = DeadlineApproaching(**common, due=row.due, lead=lead, working_days_left=left, agency=row.agency)
        return [(event, timer_event_id(row.case_id, row.clock, row.due, "DeadlineApproaching", lead), now)]

    async def _append(self, row: Due, decided: list[tuple[DomainEvent, str, datetime]]) -> int:
        ref = AggregateRef.case(row.case_id)
        case = await load_case(self.log, ref)
        if all(event_id in case.state.ids for _, event_id, _ in decided):
            return 0  # done before: the table has not caught up yet
        state, _ = clocks_of(case.state.events, self.policy)
        clock = state.get(row.clock)
        if clock is None or clock.paused or clock.due != row.due:
            return 0  # the log moved on (stopped, paused, moved): the table will follow
        events = [
            NewEvent.of(
                event,
                event_id=event_id,
                occurred_at=occurred_at,
                actor=ACTOR,
            )
            for event, event_id, occurred_at in decided
            if event_id not in case.state.ids
        ]
        try:
            await self.log.append(ref, events, case.head)
        except ConcurrencyConflict:
            return 0  # someone wrote meanwhile: the next tick decides again
        log.info("case %s: %s", row.case_id, ", ".join(e.type for e in events))
        return len(events)

    async def tick(self) -> int:
        """One scan; returns how many events it appended."""
        now = self.clock.now()
        today = now.astimezone(VIETNAM).date()
        rows = await asyncio.to_thread(self._rows, today)
        appended = 0
        for row in rows:
            decided = self._decide(row, now, today)
            if decided:
                appended += await self._append(row, decided)
        return appended

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("timer tick failed; trying again at the next one")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)
