"""Routing's projection: the repeat index (rebuildable tables) and the proposal reaction."""

from __future__ import annotations

import sqlalchemy as sa
from casereg.crypto.config import previous_master_keys
from casereg.db import create_engine, keystore_url
from casereg.directory.load import load as load_directory
from casereg.directory.settings import DirectorySettings
from casereg.log.events import EventRegistry
from casereg.log.store import EventLog
from casereg.projections.bindings import ProjectionBinding
from casereg.projections.projection import Projection
from casereg.settings import PlatformSettings, load
from intake.domain.events import INTAKE_EVENTS

from routing.index import Indexer, RepeatIndex, index_key, index_tables
from routing.reactions import ProposeOnReceipt
from routing.rules.load import RULES_DIR, load_tables
from routing.settings import RoutingSettings

NAME = "routing-proposals"
metadata = sa.MetaData()
repeat_cases, repeat_submitters = index_tables(metadata)
TABLES = (repeat_cases, repeat_submitters)


def projections(settings: PlatformSettings) -> list[ProjectionBinding]:
    own = load(RoutingSettings)
    url = own.resolved_database_url()
    subjects = [f"reg.{settings.province}.case.*"]
    indexer = Indexer(
        create_engine(keystore_url(own), reads=True),
        own.master_key.get_secret_value(),
        index_key(own.blind_index_key.get_secret_value()),
        previous_master_keys(own),
    )

    def with_log(log: EventLog) -> Projection:
        reaction = ProposeOnReceipt(
            log=log,
            directory=load_directory(DirectorySettings().files()),
            rules=load_tables(own.rules_dir or RULES_DIR),
            index=RepeatIndex(indexer, create_engine(url, reads=True), {t.name: t for t in TABLES}, NAME),
            auto_confirm=frozenset(own.auto_confirm_agencies),
        )
        return Projection(NAME, subjects, TABLES, indexer.apply, react=reaction)

    return [
        ProjectionBinding(
            service="routing",
            projection=Projection(NAME, subjects, TABLES, indexer.apply),
            database_url=url,
            registry=EventRegistry(INTAKE_EVENTS),
            with_log=with_log,
        )
    ]
