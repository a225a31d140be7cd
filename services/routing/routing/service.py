"""The routing service process: classifies each petition and proposes its lawful first handling."""

from __future__ import annotations

from casereg.platform.service import ServiceDefinition
from casereg.projections.service_hooks import ProjectionWorkers

from routing.settings import RoutingSettings


def build() -> ServiceDefinition:
    workers = ProjectionWorkers(service="routing")
    return ServiceDefinition(
        name="routing",
        nats_user="routing",
        settings_cls=RoutingSettings,
        on_start=[workers.start],
        on_stop=[workers.halt],
        checks={"projections": workers.healthy},
    )
