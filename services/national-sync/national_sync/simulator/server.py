"""Running the simulator: uvicorn in the foreground until SIGINT/SIGTERM (or until its supervisor is gone)."""

from __future__ import annotations

import asyncio
import os
import random
import sys

import structlog
import uvicorn
from casereg.platform.service import SUPERVISOR_PID_ENV, watch_parent

from national_sync.simulator import BANNER
from national_sync.simulator.app import SimulatorState, create_app
from national_sync.simulator.settings import SimulatorSettings
from national_sync.simulator.store import Store

log = structlog.get_logger("national_sync.simulator")


def announce(settings: SimulatorSettings) -> None:
    line = "!" * (len(BANNER) + 8)
    print(f"{line}\n!!! {BANNER.upper()} !!!\n{line}", file=sys.stderr, flush=True)
    log.warning(
        "simulator starting: this is NOT the national database",
        url=settings.url,
        database=str(settings.database),
        faults=settings.faults().model_dump(),
        seed=settings.seed,
        auth_required=bool(settings.token.get_secret_value()),
    )


async def serve(settings: SimulatorSettings) -> None:
    announce(settings)
    store = Store(settings.database)
    state = SimulatorState(
        store=store,
        faults=settings.faults(),
        rng=random.Random(settings.seed),
        token=settings.token.get_secret_value(),
    )
    config = uvicorn.Config(
        create_app(state),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=2,  # a simulated timeout may be hanging: do not wait for it
    )
    server = uvicorn.Server(config)
    watcher: asyncio.Task[None] | None = None
    if supervisor := os.environ.get(SUPERVISOR_PID_ENV):
        gone = asyncio.Event()
        watcher = asyncio.create_task(watch_parent(int(supervisor), gone))
        watcher.add_done_callback(lambda _: setattr(server, "should_exit", gone.is_set()))
    try:
        await server.serve()
    finally:
        if watcher is not None:
            watcher.cancel()
        store.close()
        log.info("simulator stopped")
