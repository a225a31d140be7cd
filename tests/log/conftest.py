"""A provisioned log per test: its own stream and province token on the module's nats-server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from casereg.clock import ManualClock
from casereg.log.provision import provision
from casereg.log.store import EventLog
from casereg.platform.nats_embedded import EmbeddedNats
from casereg.settings import PlatformSettings
from nats.aio.client import Client as NATS

from tests.conftest import connect_as


@dataclass
class LogEnv:
    settings: PlatformSettings
    nc: NATS
    clock: ManualClock
    log: EventLog
    server: EmbeddedNats

    def new_log(self, nc: NATS | None = None, **kwargs: object) -> EventLog:
        return EventLog(
            nc=nc or self.nc,
            province=self.settings.province,
            clock=self.clock,
            stream=self.settings.stream,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
async def log_env(nats_server: EmbeddedNats, admin_nc: NATS, unique: str) -> AsyncIterator[LogEnv]:
    settings = PlatformSettings(province=f"p{unique}", stream=f"REG_{unique}")
    await provision(admin_nc, settings)
    nc = await connect_as(nats_server, "intake")
    clock = ManualClock(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))
    env = LogEnv(
        settings,
        nc,
        clock,
        EventLog(nc=nc, province=settings.province, clock=clock, stream=settings.stream),
        nats_server,
    )
    yield env
    await nc.close()
