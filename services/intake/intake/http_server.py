"""Serving the HTTP API from inside the intake service process (uvicorn on the service's event loop)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import uvicorn
from casereg.clock import SystemClock
from casereg.crypto.config import open_keystore
from casereg.db import create_engine
from casereg.directory.load import load as load_directory
from casereg.directory.settings import DirectorySettings
from casereg.log.events import EventRegistry
from casereg.log.store import EventLog
from casereg.platform.service import ServiceContext
from casereg.projections.service_hooks import ProjectionWorkers
from casereg.projections.watch import PositionWatch
from faststream import Response
from faststream.nats.annotations import NatsMessage

from intake.api.app import create_app
from intake.api.state import ApiState
from intake.domain.events import INTAKE_EVENTS
from intake.entrypoints.nats_api import NatsApi, encode_reply
from intake.handlers.deps import IntakeDeps
from intake.settings import IntakeSettings

log = logging.getLogger(__name__)


@dataclass
class HttpApi:
    """``on_start``/``on_stop`` hooks that run the API server for the life of the service."""

    workers: ProjectionWorkers | None = None
    server: uvicorn.Server | None = None
    task: asyncio.Task[None] | None = None
    port: int | None = field(default=None)
    nats_api: NatsApi | None = None

    async def start(self, ctx: ServiceContext) -> None:
        settings = ctx.settings
        assert isinstance(settings, IntakeSettings)
        log_client = EventLog(
            nc=ctx.nc,
            province=settings.province,
            clock=SystemClock(),
            registry=EventRegistry(INTAKE_EVENTS),
            stream=settings.stream,
        )
        keys = open_keystore(settings)
        directory = await asyncio.to_thread(lambda: load_directory(DirectorySettings().files()))
        state = ApiState(
            deps=IntakeDeps(log=log_client, keys=keys, clock=SystemClock()),
            engine=create_engine(settings.resolved_database_url()),
            read_engine=create_engine(settings.resolved_database_url(), reads=True),
            directory=directory,
            visible_within=settings.visible_within,
            registry_watch=self._registry_watch(),
        )
        app = create_app(state, max_body_bytes=settings.max_body_bytes)
        self.nats_api = NatsApi(app, settings.province)
        nats_api = self.nats_api

        @ctx.broker.subscriber(f"reg.{settings.province}.api.intake.>")
        async def nats_request(msg: NatsMessage) -> Response:
            # Only the raw message: letting FastStream decode and validate the body would put personal data
            # into its validation errors (and from there into log lines).
            raw = msg.raw_message
            reply = await nats_api.handle(raw.subject, raw.data, dict(raw.headers or {}))
            return Response(encode_reply(reply), headers={"content-type": "application/json"})

        config = uvicorn.Config(
            app, host=settings.http_host, port=settings.http_port, log_config=None, access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.task = asyncio.create_task(self.server.serve(), name="intake-http")
        while not self.server.started:
            if self.task.done():
                self.task.result()  # raises the start-up error (port taken...)
            await asyncio.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        log.info("HTTP API listening on %s:%s", settings.http_host, self.port)

    def _registry_watch(self) -> PositionWatch | None:
        runner = self.workers.runners.get("intake-registry") if self.workers else None
        return runner.watch if runner else None

    async def stop(self, ctx: ServiceContext) -> None:
        if self.nats_api is not None:
            await self.nats_api.close()
        if self.server is not None:
            self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait([self.task], timeout=10)

    async def healthy(self, ctx: ServiceContext) -> bool:
        return self.task is not None and not self.task.done()
