"""nats-servers for the benchmarks: the project's own generated configuration, started and stopped by us.

Each server gets the deployment's users with permissions for every province token (as the tests do), so a
scenario can give each run its own stream and subjects. ``sync_always`` is the project's setting
(``sync_interval: always``); the reference rows run the same configuration without it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import nats
from casereg.log.provision import provision
from casereg.platform.credentials import NatsCredentials
from casereg.platform.nats_embedded import EmbeddedNats, embedded_for, free_port, nats_server_binary
from nats.aio.client import Client as NATS

if TYPE_CHECKING:
    from casereg.settings import PlatformSettings

    from bench.model import RunContext

_TICKS = os.sysconf("SC_CLK_TCK")


class BenchServer:
    """One nats-server under ``base_dir``; ``restart`` reuses its store (e.g. fill with sync off, then measure)."""

    def __init__(self, ctx: RunContext, base_dir: Path, *, sync_always: bool) -> None:
        self.ctx = ctx
        self.base_dir = base_dir
        self.credentials = NatsCredentials.generate()
        self.sync_always = sync_always
        self.server: EmbeddedNats = self._embedded(sync_always)
        self.ready_s: float | None = None

    def _embedded(self, sync_always: bool) -> EmbeddedNats:
        return embedded_for(
            self.base_dir,
            self.credentials,
            province="*",
            port=free_port(),
            monitor_port=free_port(),
            sync_always=sync_always,
        )

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def pid(self) -> int:
        assert self.server.process is not None, "server not started"
        return self.server.process.pid

    def start(self, timeout: float = 120.0) -> None:
        t0 = time.perf_counter()
        self.server.start(timeout=timeout)
        self.ready_s = time.perf_counter() - t0
        varz = self.varz()
        js_config = varz.get("jetstream", {}).get("config", {})
        self.ctx.servers_seen.append(
            {
                "version": varz.get("version"),
                "go": varz.get("go"),
                "sync_always": js_config.get("sync_always", False),
                "store_dir": js_config.get("store_dir"),
            }
        )

    def stop(self) -> None:
        self.server.stop(timeout=120.0)

    def restart(self, *, sync_always: bool) -> float:
        """Stop, then start on the same store with the given sync setting; seconds until healthy."""
        self.stop()
        self.sync_always = sync_always
        self.server = self._embedded(sync_always)
        self.start()
        assert self.ready_s is not None
        return self.ready_s

    async def connect(self, user: str) -> NATS:
        return await nats.connect(
            self.url, user=user, password=self.credentials.password(user), max_reconnect_attempts=0
        )

    @contextlib.asynccontextmanager
    async def stream(self, settings: PlatformSettings) -> AsyncIterator[None]:
        """The registry's stream for ``settings``, provisioned as the project does, deleted afterwards (a raw run's
        own stream)."""
        admin = await self.connect("admin")
        try:
            await provision(admin, settings)
        finally:
            await admin.close()
        try:
            yield
        finally:
            admin = await self.connect("admin")
            try:
                await admin.jetstream().delete_stream(settings.stream)
            finally:
                await admin.close()

    def varz(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.server.monitor_url}/varz", timeout=5) as r:  # noqa: S310 (our own URL)
            data: dict[str, Any] = json.loads(r.read())
        return data

    def memory_mb(self) -> dict[str, float]:
        """Resident memory now (``VmRSS``) and its high-water mark (``VmHWM``) of the server process, in MB."""
        out: dict[str, float] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = round(int(value.split()[0]) / 1024, 1)
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def store_mb(self) -> float:
        total = 0
        for root, _dirs, files in os.walk(self.base_dir / "store"):
            for name in files:
                try:
                    total += (Path(root) / name).stat().st_size
                except FileNotFoundError:
                    continue
        return round(total / 1e6, 1)

    def __enter__(self) -> BenchServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def binary_version() -> str:
    """``nats-server --version`` when no scenario started a server (the versions still name it)."""
    try:
        out = subprocess.run([str(nats_server_binary()), "--version"], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        return "unknown"
    return out.stdout.strip().removeprefix("nats-server: ").lstrip("v") or "unknown"


def process_cpu_seconds() -> float:
    """CPU time of this Python process (all threads)."""
    return time.process_time()
