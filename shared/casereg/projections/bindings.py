"""Which projections exist, where their database is: the ``casereg.projections`` entry-point group.

Each service registers a callable ``(PlatformSettings) -> list[ProjectionBinding]``; the CLI (rebuild, dead
letters) and the services themselves find projections through it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from casereg.log.events import EventRegistry
from casereg.log.store import EventLog
from casereg.projections.projection import Projection
from casereg.settings import PlatformSettings

GROUP = "casereg.projections"


@dataclass(frozen=True)
class ProjectionBinding:
    service: str
    projection: Projection
    database_url: str
    registry: EventRegistry = field(default_factory=EventRegistry)
    #: For a projection that reacts by appending: builds it around the service's log client.
    with_log: Callable[[EventLog], Projection] | None = None

    def resolve(self, log: EventLog) -> Projection:
        return self.with_log(log) if self.with_log else self.projection


def discover(settings: PlatformSettings) -> dict[str, ProjectionBinding]:
    found: dict[str, ProjectionBinding] = {}
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        for binding in ep.load()(settings):
            if binding.projection.name in found:
                raise ValueError(f"projection {binding.projection.name} registered twice")
            found[binding.projection.name] = binding
    return found
