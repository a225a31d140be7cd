"""Routing's projections: the proposal reaction (no tables of its own yet; the repeat index will come)."""

from __future__ import annotations

from casereg.directory.load import load as load_directory
from casereg.directory.settings import DirectorySettings
from casereg.log.commit import StoredCommit
from casereg.log.events import EventRegistry
from casereg.log.store import EventLog
from casereg.projections.bindings import ProjectionBinding
from casereg.projections.projection import ApplyContext, Projection
from casereg.settings import PlatformSettings, load
from intake.domain.events import INTAKE_EVENTS

from routing.reactions import ProposeOnReceipt
from routing.rules.load import RULES_DIR, load_tables
from routing.settings import RoutingSettings

NAME = "routing-proposals"


def _nothing(ctx: ApplyContext, commit: StoredCommit) -> None:
    """The proposal is appended to the log by the reaction; no read model row is kept for it."""


def projections(settings: PlatformSettings) -> list[ProjectionBinding]:
    own = load(RoutingSettings)

    def with_log(log: EventLog) -> Projection:
        reaction = ProposeOnReceipt(
            log=log,
            directory=load_directory(DirectorySettings().files()),
            rules=load_tables(own.rules_dir or RULES_DIR),
        )
        return Projection(NAME, [f"reg.{settings.province}.case.*"], [], _nothing, react=reaction)

    placeholder = Projection(NAME, [f"reg.{settings.province}.case.*"], [], _nothing)
    return [
        ProjectionBinding(
            service="routing",
            projection=placeholder,
            database_url=own.resolved_database_url(),
            registry=EventRegistry(INTAKE_EVENTS),
            with_log=with_log,
        )
    ]
