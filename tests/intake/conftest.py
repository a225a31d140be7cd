"""Intake's SQL tests run once on SQLite and once on PostgreSQL, on a database migrated as intake migrates it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate

INTAKE_MIGRATIONS = ("intake.migrations", "alembic_version_intake")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'intake.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    migrate(db_url, [PLATFORM_MIGRATIONS, INTAKE_MIGRATIONS])
    engine = create_engine(db_url)
    yield engine
    engine.dispose()
