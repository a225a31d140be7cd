"""The ``db_url`` and ``engine`` fixtures of intake's SQL tests: once on SQLite, once on PostgreSQL.

Import both into a test module: ``from tests.intake.databases import db_url_fixture, engine_fixture``. The
engine's database is migrated as intake migrates its own (the platform tables, then intake's chain).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate

INTAKE_MIGRATIONS = ("intake.migrations", "alembic_version_intake")


@pytest.fixture(name="db_url", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'intake.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture(name="engine")
def engine_fixture(db_url: str) -> Iterator[sa.Engine]:
    migrate(db_url, [PLATFORM_MIGRATIONS, INTAKE_MIGRATIONS])
    engine = create_engine(db_url)
    yield engine
    engine.dispose()
