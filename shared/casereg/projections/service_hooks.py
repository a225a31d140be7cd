"""Start a service's projection runners with the service and stop them with it."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from casereg.clock import SystemClock
from casereg.db import create_engine
from casereg.log.store import EventLog
from casereg.platform.service import ServiceContext
from casereg.projections.bindings import discover
from casereg.projections.runner import ProjectionRunner

log = logging.getLogger(__name__)


@dataclass
class ProjectionWorkers:
    """``on_start``/``on_stop`` hooks running every projection registered for one service."""

    service: str
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    runners: dict[str, ProjectionRunner] = field(default_factory=dict)

    async def start(self, ctx: ServiceContext) -> None:
        for binding in discover(ctx.settings).values():
            if binding.service != self.service:
                continue
            event_log = EventLog(
                nc=ctx.nc,
                province=ctx.settings.province,
                clock=SystemClock(),
                registry=binding.registry,
                stream=ctx.settings.stream,
            )
            runner = ProjectionRunner(
                binding.resolve(event_log),
                create_engine(binding.database_url),
                ctx.nc.jetstream(),
                ctx.settings.stream,
                binding.registry,
            )
            self.runners[binding.projection.name] = runner
            self.tasks.append(asyncio.create_task(runner.run(self.stop), name=binding.projection.name))
            log.info("projection %s started", binding.projection.name)

    async def halt(self, ctx: ServiceContext) -> None:
        self.stop.set()
        if self.tasks:
            await asyncio.wait(self.tasks, timeout=30)

    async def healthy(self, ctx: ServiceContext) -> bool:
        """Ready while no runner has died."""
        return not any(t.done() and t.exception() is not None for t in self.tasks if not t.cancelled())
