"""National sync's projection: the ledger (``casereg.projections`` entry point ``national-sync``)."""

from __future__ import annotations

from casereg.log.events import EventRegistry
from casereg.projections.bindings import ProjectionBinding
from casereg.settings import PlatformSettings, load
from escalation.domain.events import ESCALATION_EVENTS, TIMER_EVENTS, WATCH_EVENTS
from intake.domain.events import INTAKE_EVENTS
from intake.domain.reception import RECEPTION_EVENTS
from routing.domain.events import ROUTING_EVENTS

from national_sync.ledger import ledger_projection
from national_sync.settings import NationalSyncSettings


def registry() -> EventRegistry:
    """The event types whose old versions the mapping reads upcast (unknown types pass through untouched)."""
    return EventRegistry(
        (*INTAKE_EVENTS, *RECEPTION_EVENTS, *ROUTING_EVENTS, *ESCALATION_EVENTS, *TIMER_EVENTS, *WATCH_EVENTS)
    )


def projections(settings: PlatformSettings) -> list[ProjectionBinding]:
    own = load(NationalSyncSettings)
    return [
        ProjectionBinding(
            service="national-sync",
            projection=ledger_projection(settings.province),
            database_url=own.resolved_database_url(),
            registry=registry(),
        )
    ]
