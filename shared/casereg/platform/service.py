"""Run one service as a process: settings, telemetry, a FastStream broker as the service's own NATS user,
a health responder, start/stop hooks, and a clean shutdown on SIGTERM/SIGINT.

A service module exposes ``build() -> ServiceDefinition`` and is listed in the ``casereg.services``
entry-point group; ``casereg serve NAME`` (or ``python -m casereg.platform.service_main NAME``, what the
supervisor spawns) runs it in the foreground.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import entry_points
from typing import Any

import structlog
from faststream.nats import NatsBroker, NatsUserPassword
from faststream.nats.opentelemetry import NatsTelemetryMiddleware
from nats.aio.client import Client as NATS

from casereg.log.provision import check as check_stream
from casereg.platform.connect import password_for
from casereg.platform.health import CheckStatus, HealthReport
from casereg.platform.nats_config import health_subject
from casereg.settings import ServiceSettings, load
from casereg.telemetry import setup_logging, setup_telemetry, shutdown_telemetry

SERVICES_GROUP = "casereg.services"
#: Set by the supervisor: a service whose parent is no longer this pid shuts itself down.
SUPERVISOR_PID_ENV = "CASEREG_SUPERVISOR_PID"
CHECK_TIMEOUT = 1.0

Hook = Callable[["ServiceContext"], Awaitable[None]]
#: A readiness check: True when healthy. An exception or a timeout counts as failed.
Check = Callable[["ServiceContext"], Awaitable[bool]]


@dataclass(frozen=True)
class ServiceDefinition:
    """What a service module's ``build()`` returns."""

    name: str
    nats_user: str
    settings_cls: type[ServiceSettings]
    on_start: Sequence[Hook] = ()
    on_stop: Sequence[Hook] = ()
    checks: Mapping[str, Check] = field(default_factory=dict)


@dataclass
class ServiceContext:
    """Handed to hooks and checks: the service's settings and its broker (connected before ``on_start``)."""

    definition: ServiceDefinition
    settings: ServiceSettings
    broker: NatsBroker
    started_at: datetime
    ready: bool = False

    @property
    def nc(self) -> NATS:
        return self.broker.connection


def load_definition(name: str) -> ServiceDefinition:
    """The definition of the service registered under ``name`` in the ``casereg.services`` group."""
    found = entry_points(group=SERVICES_GROUP, name=name)
    if not found:
        known = sorted(ep.name for ep in entry_points(group=SERVICES_GROUP))
        raise LookupError(f"unknown service {name!r}; known: {', '.join(known)}")
    build = next(iter(found)).load()
    definition = build()
    if not isinstance(definition, ServiceDefinition):
        raise TypeError(f"{name}: build() returned {type(definition).__name__}, not ServiceDefinition")
    return definition


def service_names() -> list[str]:
    return sorted(ep.name for ep in entry_points(group=SERVICES_GROUP))


async def _run_check(ctx: ServiceContext, check: Check) -> CheckStatus:
    try:
        ok = await asyncio.wait_for(check(ctx), CHECK_TIMEOUT)
    except TimeoutError:
        return CheckStatus(ok=False, detail=f"timed out after {CHECK_TIMEOUT}s")
    except Exception as exc:
        return CheckStatus(ok=False, detail=f"{type(exc).__name__}: {exc}")
    return CheckStatus(ok=bool(ok))


async def _nats_connected(ctx: ServiceContext) -> bool:
    return ctx.nc.is_connected


async def health_report(ctx: ServiceContext) -> HealthReport:
    checks: dict[str, Check] = {"nats": _nats_connected, **ctx.definition.checks}
    results = await asyncio.gather(*(_run_check(ctx, c) for c in checks.values()))
    statuses = dict(zip(checks, results, strict=True))
    all_ok = all(s.ok for s in statuses.values())
    return HealthReport(
        service=ctx.definition.name,
        status="ok" if all_ok else "degraded",
        ready=ctx.ready and all_ok,
        pid=os.getpid(),
        started_at=ctx.started_at,
        checks=statuses,
    )


def build_broker(settings: ServiceSettings, user: str, name: str) -> NatsBroker:
    return NatsBroker(
        settings.nats_url,
        security=NatsUserPassword(user, password_for(settings, user)),
        name=f"casereg-{name}",
        middlewares=[NatsTelemetryMiddleware()],
        max_reconnect_attempts=-1,
        logger=logging.getLogger(f"casereg.{name}.broker"),
        log_level=logging.DEBUG,
    )


async def watch_parent(expected: int, stop: asyncio.Event) -> None:
    """Set ``stop`` once this process's parent is no longer ``expected`` (the supervisor died)."""
    while not stop.is_set():
        if os.getppid() != expected:
            structlog.get_logger("casereg.service").warning("supervisor gone; stopping", supervisor=expected)
            stop.set()
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def run(definition: ServiceDefinition) -> None:
    """The process: settings, telemetry and logging, then :func:`serve` until SIGTERM/SIGINT arrives or the
    supervisor disappears."""
    settings = load(definition.settings_cls)
    setup_telemetry(definition.name)
    setup_logging(definition.name)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watcher: asyncio.Task[None] | None = None
    if supervisor := os.environ.get(SUPERVISOR_PID_ENV):
        watcher = asyncio.create_task(watch_parent(int(supervisor), stop))
    try:
        await serve(definition, settings, stop)
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if watcher is not None:
            watcher.cancel()
        shutdown_telemetry()


async def serve(definition: ServiceDefinition, settings: ServiceSettings, stop: asyncio.Event) -> None:
    """Connect, answer health requests, run the start hooks, and wait for ``stop``; then stop cleanly."""
    log = structlog.get_logger("casereg.service")
    user = settings.nats_user or definition.nats_user
    broker = build_broker(settings, user, definition.name)
    ctx = ServiceContext(definition, settings, broker, started_at=datetime.now(UTC))

    @broker.subscriber(health_subject(settings.province, definition.name))
    async def health() -> dict[str, Any]:
        return (await health_report(ctx)).model_dump(mode="json")

    try:
        log.info("starting", nats_url=settings.nats_url, nats_user=user, pid=os.getpid())
        await broker.connect()
        # Every service refuses to run against a missing or weakened log stream (DESIGN §2).
        await check_stream(ctx.nc, settings)
        for hook in definition.on_start:
            await hook(ctx)
        await broker.start()
        ctx.ready = True
        log.info("ready")
        await stop.wait()
        log.info("stopping")
    finally:
        ctx.ready = False
        for hook in reversed(definition.on_stop):
            try:
                await hook(ctx)
            except Exception:
                log.exception("stop hook failed", hook=getattr(hook, "__name__", repr(hook)))
        await broker.stop()
        log.info("stopped")
