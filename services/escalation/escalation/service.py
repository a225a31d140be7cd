"""The escalation service process: deadlines, warnings and escalation.

A placeholder until its issue lands: it connects as its own NATS user and reports healthy.
"""

from __future__ import annotations

from casereg.platform.service import ServiceDefinition

from escalation.settings import EscalationSettings


def build() -> ServiceDefinition:
    return ServiceDefinition(name="escalation", nats_user="escalation", settings_cls=EscalationSettings)
