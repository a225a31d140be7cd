"""Escalation's events about a case's legal clocks (DESIGN §7), appended to the case's own subject.

Each carries the clock's whole state after it, so folding them needs no rule table, and every due date names the
rule (id, version) and article that produced it. ``due`` is the last day: the period ends at the end of that day
(Asia/Ho_Chi_Minh). The catalogue's DeadlineExtended is intake's act (the officer's decision); the clock's answer
to it is a DeadlineMoved.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from casereg.log.events import DomainEvent
from pydantic import Field

from escalation.domain.counting import Unit


class _ClockEvent(DomainEvent):
    clock: str
    rule_id: str
    rule_version: int = Field(ge=1)
    article: str


class DeadlineSet(_ClockEvent):
    """A clock started: its period counts from the day after ``start``."""

    event_type: ClassVar[str] = "DeadlineSet"

    start: date
    due: date
    unit: Unit
    days: int = Field(ge=1, description="The period's length (extensions included)")
    law_date: date = Field(description="The date that chose the law version (receipt or start, by the rule)")
    owed_by: str = Field(description="agency (a duty: warn and escalate) or citizen (a limitation period)")
    cause: str = Field(description="Type of the event that started the clock")


class MoveReason(StrEnum):
    RESUMED = "resumed"
    EXTENDED = "extended"
    RECLASSIFIED = "reclassified"


class DeadlineMoved(_ClockEvent):
    """A running or suspended clock's period or due date changed. ``due`` is None while it stays suspended."""

    event_type: ClassVar[str] = "DeadlineMoved"

    reason: MoveReason
    due: date | None
    previous_due: date | None
    days: int = Field(ge=1)
    counting_from: date = Field(description="Days left count from the day after this one")
    days_used: int = Field(ge=0, description="Days of the period used before counting_from")
    extensions: int = Field(ge=0)
    lawful: bool = Field(default=True, description="False when more extensions were recorded than the law allows")
    cause: str


class DeadlinePaused(_ClockEvent):
    """The case was suspended: the clock stands still until it is resumed."""

    event_type: ClassVar[str] = "DeadlinePaused"

    paused_on: date
    previous_due: date
    days_used: int = Field(ge=0)
    days_left: int = Field(ge=1)
    mode: str = Field(description="continue (days left count from the resumption) or restart (the whole period)")


class DeadlineStopped(_ClockEvent):
    """The clock's duty was done or fell away (decision, acceptance, forwarding, withdrawal...)."""

    event_type: ClassVar[str] = "DeadlineStopped"

    stopped_on: date
    due: date | None = Field(description="The due date when it stopped (None: it was suspended)")
    on_time: bool
    cause: str


class DeadlineApproaching(_ClockEvent):
    """A running duty's last day is ``working_days_left`` working days away (the configured warning leads)."""

    event_type: ClassVar[str] = "DeadlineApproaching"

    due: date
    lead: int = Field(ge=0, description="The warning lead (working days before the last day) that fired")
    working_days_left: int = Field(ge=0, description="Working days after today up to and including the last day")
    agency: str | None = Field(description="The agency owing the duty, as the due-date table knew it")


class DeadlineMissed(_ClockEvent):
    """The period ended (end of the last day, Asia/Ho_Chi_Minh) with the duty not done."""

    event_type: ClassVar[str] = "DeadlineMissed"

    due: date
    agency: str | None


class CaseEscalated(DomainEvent):
    """The case was reported to the authority supervising the agency that missed a deadline."""

    event_type: ClassVar[str] = "CaseEscalated"

    to_agency: str | None = Field(description="The supervising authority (None: the agency is at the top)")
    from_agency: str | None
    clock: str
    due: date
    reason: str
    article: str


ESCALATION_EVENTS: tuple[type[DomainEvent], ...] = (DeadlineSet, DeadlineMoved, DeadlinePaused, DeadlineStopped)
#: What the timer loop appends (not part of a clock's state: folding them changes no clock).
TIMER_EVENTS: tuple[type[DomainEvent], ...] = (DeadlineApproaching, DeadlineMissed, CaseEscalated)


class WatchFlag(StrEnum):
    """What the inspectorate's watch list shows (DOMAIN §5): routing's flags, and escalation's own ``prolonged``."""

    CROWDED = "crowded"
    OVER_LEVEL = "over_level"
    REPEAT = "repeat"
    PROLONGED = "prolonged"


class CaseFlagged(DomainEvent):
    """A case put on the watch list. Routing's crowded / over-level / repeat flags are recorded from its
    ``OutcomeProposed`` (one per kind); ``prolonged`` is escalation's: a settled case re-submitted N times."""

    event_type: ClassVar[str] = "CaseFlagged"

    flag: WatchFlag
    reason: str
    rule_id: str | None = Field(default=None, description="The rule that raised it, where there is one")
    article: str | None = Field(default=None, description="The article behind it, where there is one")
    related_cases: tuple[str, ...] = Field(default=(), description="Cases it links: the earlier or the repeats")
    count: int | None = Field(default=None, ge=1, description="prolonged: the repeats counted")


#: Watch flags, appended by the watch reaction (not part of a clock's state).
WATCH_EVENTS: tuple[type[DomainEvent], ...] = (CaseFlagged,)
