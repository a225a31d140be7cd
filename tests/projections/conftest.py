"""The projection contract suite runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from casereg.clock import ManualClock
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.events import NewEvent
from casereg.log.provision import provision
from casereg.log.store import EventLog, Head
from casereg.platform.nats_embedded import EmbeddedNats
from casereg.settings import PlatformSettings
from nats.aio.client import Client as NATS

from tests.conftest import connect_as
from tests.projections.counter import metadata as counter_metadata


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'projection.db'}"
    else:
        yield request.getfixturevalue("pg_schema_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    migrate(db_url, [PLATFORM_MIGRATIONS])
    engine = create_engine(db_url)
    counter_metadata.create_all(engine)
    yield engine
    engine.dispose()


@dataclass
class Stream:
    settings: PlatformSettings
    nc: NATS
    log: EventLog
    server: EmbeddedNats

    @property
    def subject_filter(self) -> str:
        return f"reg.{self.settings.province}.case.*"

    async def write(self, cases: int, events_per_case: int, poison_at: set[tuple[int, int]] = frozenset()) -> int:  # type: ignore[assignment]
        """Write ``cases`` × ``events_per_case`` one-event commits, pipelined across cases; return last seq."""

        batch = new_event_id()[:8]

        async def one_case(c: int) -> int:
            case_id = f"case-{batch}-{c}"
            ref, head, last = AggregateRef.case(case_id), Head.genesis(case_id), 0
            for i in range(events_per_case):
                payload = {"i": i, "poison": (c, i) in poison_at}
                event = NewEvent(new_event_id(), "Counted", 1, payload, self.log.clock.now(), Actor(service="t"))
                result = await self.log.append(ref, [event], head)
                head, last = result.head, result.stream_seq
            return last

        lasts = await asyncio.gather(*(one_case(c) for c in range(cases)))
        return max(lasts)


@pytest.fixture
async def stream(nats_server: EmbeddedNats, admin_nc: NATS, unique: str) -> AsyncIterator[Stream]:
    settings = PlatformSettings(province=f"q{unique}", stream=f"PROJ_{unique}")
    await provision(admin_nc, settings)
    nc = await connect_as(nats_server, "intake")
    log = EventLog(
        nc=nc,
        province=settings.province,
        clock=ManualClock(datetime(2026, 7, 1, tzinfo=UTC)),
        stream=settings.stream,
    )
    yield Stream(settings, nc, log, nats_server)
    await nc.close()


async def wait_for(condition: Callable[[], Awaitable[bool]] | Callable[[], bool], limit: float = 60.0) -> None:
    """Poll until ``condition`` holds; fail after a generous limit (never a fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + limit
    while True:
        result = condition()
        if isinstance(result, Awaitable):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def running(runner: object) -> AsyncIterator[asyncio.Event]:
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))  # type: ignore[attr-defined]
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)
