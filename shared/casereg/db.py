"""Database engines and migrations. One database per service: a SQLite file by default, or a PostgreSQL schema.

SQLite gets WAL, a busy timeout, full sync and ``BEGIN IMMEDIATE`` for writers (so two writers queue instead of
failing on lock upgrade), following SQLAlchemy's documented pysqlite recipe. Each database has its own Alembic
version tables: ``alembic_version_platform`` for the shared tables (projection positions, leases, dead letters)
and ``alembic_version_<service>`` for the service's own.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.environment import EnvironmentContext
from sqlalchemy import event
from sqlalchemy.engine import make_url

from casereg.settings import PlatformSettings

log = logging.getLogger(__name__)


def create_engine(url: str, *, reads: bool = False) -> sa.Engine:
    """An engine for a service database; ``reads=True`` gives SQLite readers plain deferred transactions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # pysqlite must not emit its own BEGIN; we do below
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN" if reads else "BEGIN IMMEDIATE")

    return engine


def _location(package: str) -> str:
    return str(resources.files(package))


#: The shared tables every service database holds.
PLATFORM_MIGRATIONS = ("casereg.migrations.platform", "alembic_version_platform")
KEYSTORE_MIGRATIONS = ("casereg.migrations.keystore", "alembic_version_keystore")


def migrate(url: str, chains: Sequence[tuple[str, str]]) -> None:
    """Upgrade one database to head for each (migrations package, version table) chain."""
    engine = create_engine(url)
    try:
        for package, version_table in chains:
            cfg = Config()
            cfg.set_main_option("script_location", _location(package))
            with engine.begin() as conn:
                cfg.attributes["connection"] = conn
                cfg.attributes["version_table"] = version_table
                command.upgrade(cfg, "head")
            log.info("migrated %s (%s)", make_url(url).render_as_string(hide_password=True), version_table)
    finally:
        engine.dispose()


def run_env(context: Any) -> None:
    """Body of every Alembic ``env.py`` here: online mode on the connection :func:`migrate` passes."""
    env: EnvironmentContext = context  # alembic's `context` module proxies an EnvironmentContext
    conn: sa.Connection = env.config.attributes["connection"]
    env.configure(
        connection=conn,
        version_table=env.config.attributes["version_table"],
        render_as_batch=conn.dialect.name == "sqlite",
        target_metadata=None,
    )
    with env.begin_transaction():
        env.run_migrations()


def keystore_url(settings: PlatformSettings) -> str:
    if settings.keystore_url:
        return settings.keystore_url
    return f"sqlite:///{(settings.var_dir / 'keystore.db').resolve()}"


def migrate_all(settings: PlatformSettings) -> None:
    """What ``casereg up`` runs first: the key store and every service's database."""
    from casereg.platform.service import SERVICES_GROUP, load_definition
    from casereg.settings import load

    migrate(keystore_url(settings), [KEYSTORE_MIGRATIONS])
    from importlib.metadata import entry_points

    for ep in sorted(entry_points(group=SERVICES_GROUP), key=lambda e: e.name):
        definition = load_definition(ep.name)
        service_settings = load(definition.settings_cls)
        chains = [PLATFORM_MIGRATIONS]
        own = f"{definition.settings_cls.__module__.split('.')[0]}.migrations"
        try:
            resources.files(own)
            chains.append((own, f"alembic_version_{definition.name.replace('-', '_')}"))
        except ModuleNotFoundError:
            pass
        migrate(service_settings.resolved_database_url(), chains)
