"""Tampering with a copy of the stream's data on disk: stop a nats-server, copy its store, alter the copy's message
block, start a server on the copy, and `casereg verify` / `verify --seals` see it (a removed tail via the seals)."""

from __future__ import annotations

import shutil
import struct
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from casereg.audit.seals import seal_now
from casereg.clock import ManualClock
from casereg.log.provision import provision
from casereg.log.store import EventLog
from casereg.platform.credentials import NatsCredentials
from casereg.platform.nats_embedded import EmbeddedNats, embedded_for, free_port
from casereg.settings import PlatformSettings

from tests.audit.support import write
from tests.conftest import connect_as
from tests.log.cli_support import CliEnv, invoke, make_cli_env
from tests.log.conftest import LogEnv

pytestmark = pytest.mark.slow
HEADERS_BIT = 1 << 31


def server_on(base: Path, creds: NatsCredentials) -> EmbeddedNats:
    return embedded_for(base, creds, province="*", port=free_port(), monitor_port=free_port(), sync_always=False)


@pytest.fixture
def creds() -> NatsCredentials:
    return NatsCredentials.generate()


@pytest.fixture
def servers() -> Iterator[list[EmbeddedNats]]:
    started: list[EmbeddedNats] = []
    yield started
    for server in started:
        server.stop()


def block_of(store: Path, stream: str) -> Path:
    blocks = sorted(store.glob(f"**/streams/{stream}/msgs/*.blk"))
    assert len(blocks) == 1, blocks
    return blocks[0]


def record_offsets(block: bytes) -> list[int]:
    """Where each message record starts in a block: [length:4][seq:8][ts:8][subject length:2]... [checksum:8]."""
    offsets, at = [], 0
    while at + 4 <= len(block):
        (length,) = struct.unpack_from("<I", block, at)
        length &= ~HEADERS_BIT
        if length == 0:
            break
        offsets.append(at)
        at += length
    return offsets


def forget_index(block: Path) -> None:
    """Drop the server's cached stream state so it rebuilds it from the (altered) block, as after a crash."""
    for path in block.parent.iterdir():
        if path.suffix != ".blk":
            path.unlink()


async def test_altered_store_copy_is_detected(
    creds: NatsCredentials, servers: list[EmbeddedNats], tmp_path: Path
) -> None:
    original = server_on(tmp_path / "original", creds)
    servers.append(original)
    original.start()
    settings = PlatformSettings(province="p52", stream="REG_DISK")
    admin = await connect_as(original, "admin")
    await provision(admin, settings)
    await admin.close()
    nc = await connect_as(original, "intake")
    clock = ManualClock(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    env = LogEnv(settings, nc, clock, EventLog(nc=nc, province="p52", clock=clock, stream=settings.stream), original)
    await write(env, "b2", 2, text="mark-AAAA")
    await write(env, "a1", 3)  # a1's third commit is the stream's last message
    sealer = await connect_as(original, "national_sync")
    assert await seal_now(sealer, settings, clock) is not None
    await sealer.close()
    await nc.close()
    original.stop()

    # 1. A payload changed in place (same length). nats-server finds the record's checksum wrong when it rebuilds
    # its state and drops that message and every later one (as Jepsen saw): the chains left are intact, the
    # seals show what is gone.
    changed = tmp_path / "changed"
    shutil.copytree(original.options.store_dir, changed / "store")
    block = block_of(changed / "store", settings.stream)
    data = block.read_bytes()
    assert data.count(b"mark-AAAA 1") == 1
    block.write_bytes(data.replace(b"mark-AAAA 1", b"mark-BBBB 1"))
    forget_index(block)
    outcome = await verify_on(changed, creds, servers, settings, tmp_path)
    chains, seals = outcome.split("\n=== seals ===\n")
    assert "FAILED" in seals, outcome
    assert "reg.p52.case.a1: seal #1 covers it up to stream seq 5, but it is gone" in seals, outcome
    assert "reg.p52.case.b2: seal #1 covers it up to stream seq 2, but that message is absent" in seals, outcome

    # 2. The stream's last message cut off the block: every chain still holds, only the seal shows it.
    cut = tmp_path / "cut"
    shutil.copytree(original.options.store_dir, cut / "store")
    block = block_of(cut / "store", settings.stream)
    data = block.read_bytes()
    offsets = record_offsets(data)
    assert len(offsets) == 5
    block.write_bytes(data[: offsets[-1]])
    forget_index(block)
    outcome = await verify_on(cut, creds, servers, settings, tmp_path)
    chains, seals = outcome.split("\n=== seals ===\n")
    assert "ok: 2 aggregates, 4 events" in chains, outcome
    assert "FAILED" in seals, outcome
    assert "reg.p52.case.a1: seal #1 covers it up to stream seq 5, but that message is absent" in seals
    assert "the stream ends at sequence 4 but seal #1 covers up to 5" in seals


async def verify_on(
    base: Path, creds: NatsCredentials, servers: list[EmbeddedNats], settings: PlatformSettings, tmp_path: Path
) -> str:
    server = server_on(base, creds)
    servers.append(server)
    server.start()
    try:
        env: CliEnv = make_cli_env(server, settings, tmp_path / f"cli-{base.name}")
        chains = await invoke(env, "verify", "--all")
        seals = await invoke(env, "verify", "--seals")
    finally:
        server.stop()
    return f"{chains.stdout}{chains.stderr}\n=== seals ===\n{seals.stdout}{seals.stderr}"
