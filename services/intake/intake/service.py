"""The intake service process: the agencies' front door (HTTP API), its read models, and their health."""

from __future__ import annotations

from casereg.platform.service import ServiceDefinition
from casereg.projections.service_hooks import ProjectionWorkers

from intake.http_server import HttpApi
from intake.settings import IntakeSettings


def build() -> ServiceDefinition:
    workers = ProjectionWorkers(service="intake")
    http = HttpApi(workers=workers)
    return ServiceDefinition(
        name="intake",
        nats_user="intake",
        settings_cls=IntakeSettings,
        on_start=[workers.start, http.start],
        on_stop=[http.stop, workers.halt],
        checks={"projections": workers.healthy, "http": http.healthy},
    )
