"""The intake service process: records submissions and handling actions (HTTP API, NATS request/reply).

Until its issue lands it connects as its own NATS user, keeps its read models (the case heads) up to date and
reports healthy.
"""

from __future__ import annotations

from casereg.platform.service import ServiceDefinition
from casereg.projections.service_hooks import ProjectionWorkers

from intake.settings import IntakeSettings


def build() -> ServiceDefinition:
    workers = ProjectionWorkers(service="intake")
    return ServiceDefinition(
        name="intake",
        nats_user="intake",
        settings_cls=IntakeSettings,
        on_start=[workers.start],
        on_stop=[workers.halt],
        checks={"projections": workers.healthy},
    )
