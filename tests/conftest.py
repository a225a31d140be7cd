"""Fixtures shared by every test: a real nats-server per module, PostgreSQL schemas per test, SQLite files."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import nats
import pytest
import sqlalchemy as sa
from casereg.platform.credentials import NatsCredentials
from casereg.platform.nats_embedded import EmbeddedNats, embedded_for, free_port
from nats.aio.client import Client as NATS

PROVINCE = "52"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNats]:
    """A real nats-server on a free port, one per test module; no sync-always (durability tests ask for it)."""
    server = embedded_for(
        tmp_path_factory.mktemp("nats"),
        NatsCredentials.generate(),
        province="*",  # permissions for every province token, so each test can have its own stream
        port=free_port(),
        monitor_port=free_port(),
        sync_always=False,
    )
    server.start()
    yield server
    server.stop()


async def connect_as(server: EmbeddedNats, user: str) -> NATS:
    return await nats.connect(server.url, user=user, password=server.credentials.password(user))


@pytest.fixture
async def admin_nc(nats_server: EmbeddedNats) -> AsyncIterator[NATS]:
    nc = await connect_as(nats_server, "admin")
    yield nc
    await nc.close()


@pytest.fixture
def unique() -> str:
    """A short unique token for stream names, subjects and ids, so tests never share data."""
    return uuid.uuid4().hex[:12]


# --- PostgreSQL ------------------------------------------------------------------------------------------------


def _pg_reachable(url: str) -> bool:
    try:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(sa.text("select 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def _private_cluster(tmp: Path) -> tuple[str, subprocess.Popen[bytes] | None] | None:
    """Start a throw-away PostgreSQL cluster when the server binaries are installed."""
    bindirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    initdb = next((d / "initdb" for d in bindirs if (d / "initdb").exists()), None) or shutil.which("initdb")
    if initdb is None:
        return None
    bindir = Path(initdb).parent
    data = tmp / "pgdata"
    run_as: list[str] = []
    if os.geteuid() == 0:
        shutil.chown(tmp, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [*run_as, str(initdb), "-D", str(data), "-U", "postgres", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            *run_as,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(tmp),
            "-c",
            "listen_addresses=127.0.0.1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if _pg_reachable(url):
            return url, proc
        time.sleep(0.2)
    proc.terminate()
    return None


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """PostgreSQL from TEST_DATABASE_URL, else a private cluster, else skip — but never skip when CI is set."""
    url = os.environ.get("TEST_DATABASE_URL", DEFAULT_PG_URL)
    if _pg_reachable(url):
        yield url
        return
    tmp = Path(tempfile.mkdtemp(prefix="casereg-pg-"))
    started = _private_cluster(tmp)
    if started is None:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL unreachable at {url} and no server binaries to start one; CI needs it")
        pytest.skip("PostgreSQL not reachable and no server binaries installed")
    private_url, proc = started
    yield private_url
    if proc is not None:
        proc.terminate()
        proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture
def pg_schema_url(pg_url: str, unique: str) -> Iterator[str]:
    """A fresh schema per test (dropped after); the URL's search_path points at it."""
    schema = f"t_{unique}"
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'create schema "{schema}"'))
    sep = "&" if "?" in pg_url else "?"
    yield f"{pg_url}{sep}options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(sa.text(f'drop schema "{schema}" cascade'))
    engine.dispose()
