"""The intake service process: records submissions and handling actions (HTTP API, NATS request/reply).

A placeholder until its issue lands: it connects as its own NATS user and reports healthy.
"""

from __future__ import annotations

from casereg.platform.service import ServiceDefinition

from intake.settings import IntakeSettings


def build() -> ServiceDefinition:
    return ServiceDefinition(name="intake", nats_user="intake", settings_cls=IntakeSettings)
