"""The escalation service process: keeps each case's legal clocks on the log, warns, marks missed, escalates,
and answers the inspectorate's frequency requests."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from casereg.clock import Clock, SystemClock
from casereg.db import create_engine
from casereg.directory.load import load as load_directory
from casereg.directory.settings import DirectorySettings
from casereg.log.store import EventLog
from casereg.platform.service import ServiceContext, ServiceDefinition
from casereg.projections.service_hooks import ProjectionWorkers

from escalation.projections import policy, registry
from escalation.settings import EscalationSettings
from escalation.stats import serve
from escalation.timers import TimerLoop

log = logging.getLogger(__name__)


@dataclass
class Timers:
    """``on_start``/``on_stop`` hooks: the timer loop on the service's clock, and the frequency requests."""

    clock: Clock = field(default_factory=SystemClock)
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    async def start(self, ctx: ServiceContext) -> None:
        own = ctx.settings
        assert isinstance(own, EscalationSettings)
        event_log = EventLog(nc=ctx.nc, province=own.province, clock=self.clock, registry=registry(), stream=own.stream)
        engine = create_engine(own.resolved_database_url(), reads=True)
        await serve(ctx.nc, own.province, engine)
        loop = TimerLoop(
            log=event_log,
            engine=engine,
            clock=self.clock,
            policy=policy(own),
            directory=load_directory(DirectorySettings().files()),
            leads=own.warning_leads,
            interval=own.timer_interval_seconds,
        )
        self.task = asyncio.create_task(loop.run(self.stop), name="escalation-timers")
        log.info("timer loop started (leads %s, every %ss)", own.warning_leads, own.timer_interval_seconds)

    async def halt(self, ctx: ServiceContext) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait([self.task], timeout=30)

    async def healthy(self, ctx: ServiceContext) -> bool:
        return self.task is None or not self.task.done() or self.task.cancelled()


def build() -> ServiceDefinition:
    workers = ProjectionWorkers(service="escalation")
    timers = Timers()
    return ServiceDefinition(
        name="escalation",
        nats_user="escalation",
        settings_cls=EscalationSettings,
        on_start=[workers.start, timers.start],
        on_stop=[timers.halt, workers.halt],
        checks={"projections": workers.healthy, "timers": timers.healthy},
    )
