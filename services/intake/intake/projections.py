"""Intake's read models. For now the aggregate heads every handler appends after."""

from __future__ import annotations

import sqlalchemy as sa
from casereg.projections.bindings import ProjectionBinding
from casereg.projections.heads import heads_projection, heads_table
from casereg.settings import PlatformSettings, load

from intake.settings import IntakeSettings

metadata = sa.MetaData()
case_heads = heads_table(metadata, "case_heads")


def projections(settings: PlatformSettings) -> list[ProjectionBinding]:
    own = load(IntakeSettings)
    return [
        ProjectionBinding(
            service="intake",
            projection=heads_projection(settings.province, case_heads, name="intake-case-heads"),
            database_url=own.resolved_database_url(),
        )
    ]
