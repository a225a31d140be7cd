"""Databases for the scenarios: a fresh SQLite file, or a fresh PostgreSQL schema dropped afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

BACKENDS = ("sqlite", "postgresql")


def pg_version(url: str | None) -> str | None:
    """The PostgreSQL server's version string, or None when it cannot be reached."""
    if not url:
        return None
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                return str(conn.execute(sa.text("select version()")).scalar())
        finally:
            engine.dispose()
    except Exception:
        return None


@contextmanager
def database(backend: str, scratch: Path, pg_url: str | None) -> Iterator[str]:
    """The URL of an empty database of that backend; a PostgreSQL schema is dropped on exit."""
    if backend == "sqlite":
        yield f"sqlite:///{scratch / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        return
    if backend != "postgresql" or not pg_url:
        raise ValueError(f"no database for backend {backend!r}")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    sep = "&" if "?" in pg_url else "?"
    try:
        yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'drop schema "{schema}" cascade'))
        admin.dispose()
