"""The routing service process: classifies cases, finds the competent agency and proposes outcomes.

A placeholder until its issue lands: it connects as its own NATS user and reports healthy.
"""

from __future__ import annotations

from casereg.platform.service import ServiceDefinition

from routing.settings import RoutingSettings


def build() -> ServiceDefinition:
    return ServiceDefinition(name="routing", nats_user="routing", settings_cls=RoutingSettings)
