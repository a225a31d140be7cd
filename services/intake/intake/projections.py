"""Intake's read models: the case heads every handler appends after, and the registry (cases, access, feed)."""

from __future__ import annotations

import sqlalchemy as sa
from casereg.log.events import EventRegistry
from casereg.projections.bindings import ProjectionBinding
from casereg.projections.heads import heads_projection, heads_table
from casereg.settings import PlatformSettings, load

from intake.domain.events import INTAKE_EVENTS
from intake.domain.reception import RECEPTION_EVENTS
from intake.reception_book import reception_projection, reception_tables
from intake.registry import registry_projection, registry_tables
from intake.settings import IntakeSettings

metadata = sa.MetaData()
case_heads = heads_table(metadata, "case_heads")
cases, case_access, feed = registry_tables(metadata)
reception = reception_sessions, reception_entries = reception_tables(metadata)
reception_registry = EventRegistry(RECEPTION_EVENTS)


def projections(settings: PlatformSettings) -> list[ProjectionBinding]:
    own = load(IntakeSettings)
    url = own.resolved_database_url()
    registry = EventRegistry(INTAKE_EVENTS)
    return [
        ProjectionBinding("intake", heads_projection(settings.province, case_heads, name="intake-case-heads"), url),
        ProjectionBinding("intake", registry_projection(settings.province, (cases, case_access, feed)), url, registry),
        ProjectionBinding("intake", reception_projection(settings.province, reception), url, reception_registry),
    ]
