"""Escalation's projection: the clocks reaction (appends Deadline* events to the case), the watch reaction
(appends CaseFlagged), the due-date, frequency and watch tables."""

from __future__ import annotations

from casereg.db import create_engine
from casereg.log.events import EventRegistry
from casereg.log.store import EventLog
from casereg.projections.bindings import ProjectionBinding
from casereg.projections.projection import Projection
from casereg.settings import PlatformSettings, load
from intake.domain.events import INTAKE_EVENTS

from escalation.adapters.rule_files import load_from_settings
from escalation.domain.clocks import Policy
from escalation.domain.events import ESCALATION_EVENTS, TIMER_EVENTS, WATCH_EVENTS
from escalation.reactions import KeepClocks
from escalation.settings import EscalationSettings
from escalation.tables import TABLES, apply
from escalation.watch import KeepWatch, Reactions

NAME = "escalation-clocks"


def registry() -> EventRegistry:
    return EventRegistry((*INTAKE_EVENTS, *ESCALATION_EVENTS, *TIMER_EVENTS, *WATCH_EVENTS))


def policy(settings: EscalationSettings) -> Policy:
    table, calendar = load_from_settings(settings)
    return Policy(table=table, calendar=calendar, remote_units=settings.remote_units)


def projections(settings: PlatformSettings) -> list[ProjectionBinding]:
    own = load(EscalationSettings)
    subjects = [f"reg.{settings.province}.case.*"]

    def with_log(log: EventLog) -> Projection:
        engine = create_engine(own.resolved_database_url(), reads=True)
        watch = KeepWatch(log, engine, own.prolonged_after, NAME)
        return Projection(NAME, subjects, TABLES, apply, react=Reactions((KeepClocks(log, policy(own)), watch)))

    return [
        ProjectionBinding(
            service="escalation",
            projection=Projection(NAME, subjects, TABLES, apply),
            database_url=own.resolved_database_url(),
            registry=registry(),
            with_log=with_log,
        )
    ]
