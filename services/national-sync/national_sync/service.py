"""The national-sync service: pushes every relevant change to the national database, per case in order.

A placeholder until its issue lands: it connects as its own NATS user and reports healthy.
"""

from __future__ import annotations

from casereg.platform.service import ServiceDefinition

from national_sync.settings import NationalSyncSettings


def build() -> ServiceDefinition:
    return ServiceDefinition(name="national-sync", nats_user="national_sync", settings_cls=NationalSyncSettings)
