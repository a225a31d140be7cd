"""The national-sync service process: keeps the outbox ledger from the log and the seals, and pushes it.

Hooks (composed in :func:`build`; add more by appending to ``on_start``/``on_stop``): the ledger projection
(``ProjectionWorkers``), the seal follower and the pushers (:class:`Sync`), and the periodic sealer
(:class:`Sealing`, every ``CASEREG_SEAL_INTERVAL`` seconds; its seals reach the national side through the follower).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from casereg.audit.seals import Sealer
from casereg.db import create_engine
from casereg.platform.service import ServiceContext, ServiceDefinition
from casereg.projections.service_hooks import ProjectionWorkers
from casereg.projections.watch import PositionWatch

from national_sync.adapter import HttpNationalAdapter, NationalAdapter
from national_sync.ledger import NAME as LEDGER
from national_sync.pusher import Pusher
from national_sync.seals import SealFollower
from national_sync.settings import NationalSyncSettings

log = logging.getLogger(__name__)


@dataclass
class Sync:
    """``on_start``/``on_stop`` hooks: the seal follower and the pushers, with the service's adapter."""

    workers: ProjectionWorkers
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    adapter: NationalAdapter | None = None

    async def start(self, ctx: ServiceContext) -> None:
        own = ctx.settings
        assert isinstance(own, NationalSyncSettings)
        engine = create_engine(own.resolved_database_url())
        self.adapter = HttpNationalAdapter(own, own.province)
        pusher = Pusher(
            engine,
            self.adapter,
            workers=own.pushers,
            poll_interval=own.poll_interval,
            backoff_initial=own.backoff_initial,
            backoff_max=own.backoff_max,
            ledger=self._ledger_watch(),
        )
        seals = SealFollower(engine, ctx.nc.jetstream(), own.seals_stream, own.province)
        self.tasks = [
            asyncio.create_task(seals.run(self.stop), name="national-seals"),
            asyncio.create_task(pusher.run(self.stop), name="national-pushers"),
        ]
        log.info("pushing to %s with %d workers", own.national_url, own.pushers)

    def _ledger_watch(self) -> PositionWatch | None:
        runner = self.workers.runners.get(LEDGER)
        return runner.watch if runner is not None else None

    async def halt(self, ctx: ServiceContext) -> None:
        self.stop.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=30)
        if self.adapter is not None:
            await self.adapter.aclose()

    async def healthy(self, ctx: ServiceContext) -> bool:
        return not any(t.done() and not t.cancelled() and t.exception() is not None for t in self.tasks)


@dataclass
class Sealing:
    """``on_start``/``on_stop`` hooks of the periodic sealer (the ``national_sync`` user may publish seals)."""

    sealer: Sealer | None = None

    async def start(self, ctx: ServiceContext) -> None:
        self.sealer = Sealer.from_env(ctx.nc, ctx.settings)
        await self.sealer.start()

    async def halt(self, ctx: ServiceContext) -> None:
        if self.sealer is not None:
            await self.sealer.stop()


def build() -> ServiceDefinition:
    workers = ProjectionWorkers(service="national-sync")
    sync = Sync(workers)
    sealing = Sealing()
    return ServiceDefinition(
        name="national-sync",
        nats_user="national_sync",
        settings_cls=NationalSyncSettings,
        on_start=[workers.start, sync.start, sealing.start],
        on_stop=[sealing.halt, sync.halt, workers.halt],
        checks={"projections": workers.healthy, "pushers": sync.healthy},
    )
