"""The service runner against a real nats-server: health and readiness, hooks, trace context, shutdown."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import nats
import pytest
from casereg.db import PLATFORM_MIGRATIONS, migrate
from casereg.log.errors import WeakStreamConfig
from casereg.log.provision import desired_config, provision
from casereg.platform.credentials import SERVICE_USERS
from casereg.platform.health import HealthReport, HealthUnavailable, request_health
from casereg.platform.nats_embedded import EmbeddedNats
from casereg.platform.service import ServiceContext, ServiceDefinition, load_definition, serve, service_names
from casereg.settings import PlatformSettings, ServiceSettings
from casereg.telemetry import current_trace_id, inject_headers
from intake.settings import IntakeSettings
from nats.aio.client import Client as NATS
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr
from routing.settings import RoutingSettings

NATIONAL_SYNC_MIGRATIONS = ("national_sync.migrations", "alembic_version_national_sync")

PROVINCE = "52"


async def until(probe: Callable[[], Awaitable[bool]], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.05)


async def health_or_none(nc: NATS, service: str) -> HealthReport | None:
    try:
        return await request_health(nc, PROVINCE, service, reply_timeout=0.5)
    except HealthUnavailable:
        return None


@pytest.fixture(autouse=True)
async def log_stream(nats_server: EmbeddedNats) -> None:
    """Services refuse to start without the log stream: provision it (idempotent) on this module's server."""
    nc = await nats.connect(nats_server.url, user="admin", password=nats_server.credentials.password("admin"))
    await provision(nc, PlatformSettings(province=PROVINCE))
    await nc.close()


@pytest.fixture
async def operator(nats_server: EmbeddedNats) -> AsyncIterator[NATS]:
    nc = await nats.connect(nats_server.url, user="operator", password=nats_server.credentials.password("operator"))
    yield nc
    await nc.close()


def _env(server: EmbeddedNats, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEREG_", "OTEL_"))}
    env |= {
        "CASEREG_NATS_URL": server.url,
        "CASEREG_VAR_DIR": str(tmp_path),
        "CASEREG_PROVINCE": PROVINCE,
    }
    for user in SERVICE_USERS:
        env[f"CASEREG_{user.upper()}_NATS_PASSWORD"] = server.credentials.password(user)
    return env | extra


def test_every_registered_service_builds_with_its_own_user_and_prefix() -> None:
    assert service_names() == ["escalation", "intake", "national-sync", "routing"]
    for name in service_names():
        definition = load_definition(name)
        assert definition.name == name
        assert definition.nats_user in SERVICE_USERS
        prefix = definition.settings_cls.model_config.get("env_prefix")
        assert prefix == f"CASEREG_{definition.nats_user.upper()}_"
    with pytest.raises(LookupError, match="unknown service"):
        load_definition("nope")


async def test_health_hooks_and_checks(nats_server: EmbeddedNats, operator: NATS, tmp_path: Path) -> None:
    calls: list[str] = []
    healthy = True

    async def on_start(ctx: ServiceContext) -> None:
        assert ctx.nc.is_connected
        calls.append("start")

    async def on_stop(ctx: ServiceContext) -> None:
        calls.append("stop")

    async def projection_caught_up(ctx: ServiceContext) -> bool:
        return healthy

    definition = ServiceDefinition(
        name="intake",
        nats_user="intake",
        settings_cls=IntakeSettings,
        on_start=[on_start],
        on_stop=[on_stop],
        checks={"projection": projection_caught_up},
    )
    settings: ServiceSettings = IntakeSettings(
        nats_url=nats_server.url,
        nats_password=SecretStr(nats_server.credentials.password("intake")),
        var_dir=tmp_path,
        province=PROVINCE,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(definition, settings, stop))
    try:

        async def ready() -> bool:
            report = await health_or_none(operator, "intake")
            return report is not None and report.ready

        await until(ready)
        report = await request_health(operator, PROVINCE, "intake")
        assert report.status == "ok"
        assert report.pid == os.getpid()
        assert set(report.checks) == {"nats", "projection"}
        assert calls == ["start"]

        healthy = False
        report = await request_health(operator, PROVINCE, "intake")
        assert (report.status, report.ready, report.checks["projection"].ok) == ("degraded", False, False)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
    assert calls == ["start", "stop"]
    assert await health_or_none(operator, "intake") is None


async def test_a_failing_check_is_reported_not_raised(
    nats_server: EmbeddedNats, operator: NATS, tmp_path: Path
) -> None:
    async def broken(ctx: ServiceContext) -> bool:
        raise RuntimeError("database unreachable")

    definition = ServiceDefinition(
        name="routing", nats_user="routing", settings_cls=RoutingSettings, checks={"db": broken}
    )
    settings = RoutingSettings(
        nats_url=nats_server.url,
        nats_password=SecretStr(nats_server.credentials.password("routing")),
        var_dir=tmp_path,
        province=PROVINCE,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(serve(definition, settings, stop))
    try:

        async def answered() -> bool:
            return await health_or_none(operator, "routing") is not None

        await until(answered)
        report = await request_health(operator, PROVINCE, "routing")
        assert report.status == "degraded"
        assert report.checks["db"].detail == "RuntimeError: database unreachable"
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def test_a_service_process_reports_healthy_carries_trace_context_and_stops_on_sigterm(
    nats_server: EmbeddedNats, operator: NATS, tmp_path: Path
) -> None:
    # As `casereg up` does before it starts a service: national-sync's ledger database exists.
    migrate(f"sqlite:///{tmp_path / 'national-sync.db'}", [PLATFORM_MIGRATIONS, NATIONAL_SYNC_MIGRATIONS])
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "casereg.platform.service_main",
        "national-sync",
        env=_env(nats_server, tmp_path, OTEL_TRACES_EXPORTER="console", CASEREG_LOG_FORMAT="json"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:

        async def ready() -> bool:
            report = await health_or_none(operator, "national-sync")
            return report is not None and report.ready and report.pid == proc.pid

        await until(ready)

        tracer = TracerProvider().get_tracer("test")
        with tracer.start_as_current_span("status"):
            trace_id = current_trace_id()
            reply = await operator.request("casereg.52.health.national-sync", b"", headers=inject_headers())
        assert HealthReport.model_validate_json(reply.data).healthy

        proc.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(proc.communicate(), 20)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, stderr.decode()
    # the service's consumer span (FastStream's telemetry middleware) continues our trace
    assert f'"trace_id": "0x{trace_id}"' in stdout.decode()
    assert b'"event": "stopped"' in stderr


async def test_a_service_stops_when_its_supervisor_is_gone(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    """A supervisor killed with SIGKILL leaves no service behind: its pid no longer matches the parent's."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "casereg.platform.service_main",
        "escalation",
        env=_env(nats_server, tmp_path, CASEREG_SUPERVISOR_PID="1"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(proc.communicate(), 30)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0
    assert b"supervisor gone" in stderr


async def test_a_service_refuses_a_weakened_stream(nats_server: EmbeddedNats, tmp_path: Path) -> None:
    admin = await nats.connect(nats_server.url, user="admin", password=nats_server.credentials.password("admin"))
    weak = PlatformSettings(province="w52", stream="WEAKENED")
    config = desired_config(weak)
    config.max_age = 86400.0
    await admin.jetstream().add_stream(config)
    settings = IntakeSettings(
        nats_url=nats_server.url,
        var_dir=tmp_path,
        province="w52",
        stream="WEAKENED",
        nats_password=SecretStr(nats_server.credentials.password("intake")),
    )
    with pytest.raises(WeakStreamConfig, match="max_age"):
        await serve(load_definition("intake"), settings, asyncio.Event())
    await admin.jetstream().delete_stream("WEAKENED")
    await admin.close()
