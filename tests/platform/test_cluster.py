"""At scale, same code: a 3-node JetStream cluster from generated configs, an R3 log, a node lost."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import nats
import pytest
from casereg.clock import SystemClock
from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.events import NewEvent
from casereg.log.provision import provision
from casereg.log.store import AppendResult, EventLog, Head
from casereg.platform.credentials import NatsCredentials
from casereg.platform.nats_config import ClusterOptions, NatsServerOptions
from casereg.platform.nats_embedded import EmbeddedNats, free_port
from casereg.settings import PlatformSettings
from nats.aio.client import Client as NATS

pytestmark = pytest.mark.slow


async def connect_retrying(urls: list[str], user: str, password: str, within: float = 30.0) -> NATS:
    deadline = time.monotonic() + within
    while True:
        try:
            return await nats.connect(
                urls,
                user=user,
                password=password,
                connect_timeout=2,
                max_reconnect_attempts=-1,
                reconnect_time_wait=0.2,
            )
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)


async def until_ok(action: Callable[[], Awaitable[object]], within: float = 60.0) -> None:
    """Retry while the cluster elects its leaders (JetStream answers 'unavailable' meanwhile)."""
    deadline = time.monotonic() + within
    while True:
        try:
            await action()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.3)


async def test_three_node_cluster_keeps_the_log_through_a_node_loss(tmp_path: Path) -> None:
    creds = NatsCredentials.generate()
    cluster_ports = [free_port() for _ in range(3)]
    routes = tuple(f"127.0.0.1:{p}" for p in cluster_ports)
    nodes = []
    for i in range(3):
        base = tmp_path / f"n{i}"
        options = NatsServerOptions(
            host="127.0.0.1",
            port=free_port(),
            monitor_port=free_port(),
            store_dir=base / "store",
            province="*",
            sync_always=True,
            server_name=f"casereg-{i}",
            cluster=ClusterOptions("casereg-test", "127.0.0.1", cluster_ports[i], routes, password="route-secret"),
        )
        nodes.append(EmbeddedNats(options, creds, base / "nats.conf", base / "nats.log"))
    for node in nodes:
        node.start_process()
    try:
        for node in nodes:
            node.wait_ready(60)
        urls = [n.url for n in nodes]
        settings = PlatformSettings(province="c1", stream="REG_CLUSTER", stream_replicas=3)
        admin = await connect_retrying(urls, "admin", creds.password("admin"))
        await until_ok(lambda: provision(admin, settings))
        info = await admin.jetstream().stream_info(settings.stream)
        assert info.config.num_replicas == 3

        intake = await connect_retrying(urls, "intake", creds.password("intake"))
        log = EventLog(nc=intake, province=settings.province, clock=SystemClock(), stream=settings.stream)
        ref = AggregateRef.case("cluster-case")
        event = NewEvent(new_event_id(), "NoteAdded", 1, {"n": 1}, datetime.now(UTC), Actor(service="t"))
        first = await log.append(ref, [event], Head.genesis(ref.id))

        nodes[0].kill()  # one node of three lost: the R3 stream keeps its quorum
        second_event = NewEvent(new_event_id(), "NoteAdded", 1, {"n": 2}, datetime.now(UTC), Actor(service="t"))
        results: list[AppendResult] = []

        async def append_second() -> None:
            if not results:
                results.append(await log.append(ref, [second_event], first.head))

        await until_ok(append_second)
        events = await log.events(ref)
        assert [e.payload["n"] for e in events] == [1, 2]
        await intake.close()
        await admin.close()
    finally:
        for node in nodes:
            node.stop()
