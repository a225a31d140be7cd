"""``casereg status``: the supervisor's status file, checked against live pids and each service's health."""

from __future__ import annotations

import asyncio
from pathlib import Path

import nats
from nats.aio.client import Client as NATS
from pydantic import BaseModel

from casereg.platform.connect import password_for
from casereg.platform.credentials import OPERATOR_USER
from casereg.platform.health import HealthReport, HealthUnavailable, request_health, request_http_health
from casereg.platform.status_file import State, SupervisorStatus, pid_alive, read_status
from casereg.settings import PlatformSettings


class ProcessView(BaseModel):
    pid: int | None
    alive: bool
    healthy: bool


class ServiceView(ProcessView):
    state: State
    restarts: int
    health: HealthReport | None = None
    detail: str = ""


class NatsView(ProcessView):
    url: str


class SystemView(BaseModel):
    healthy: bool
    state: State | None
    status_file: str
    supervisor: ProcessView | None = None
    nats: NatsView | None = None
    services: dict[str, ServiceView] = {}
    error: str = ""


async def _connect_operator(settings: PlatformSettings, url: str, connect_timeout: int) -> NATS:
    async def quiet(_: Exception) -> None:
        return None

    return await nats.connect(
        url,
        user=OPERATOR_USER,
        password=password_for(settings, OPERATOR_USER),
        name="casereg-status",
        connect_timeout=connect_timeout,
        allow_reconnect=False,
        error_cb=quiet,
    )


async def _service_view(
    nc: NATS | None, province: str, name: str, status: SupervisorStatus, reply_timeout: float
) -> ServiceView:
    svc = status.services[name]
    alive = pid_alive(svc.pid)
    health: HealthReport | None = None
    detail = ""
    try:
        if svc.health_url is not None:
            health = await request_http_health(svc.health_url, reply_timeout)
        elif nc is None:
            detail = "NATS unreachable"
        else:
            health = await request_health(nc, province, name, reply_timeout)
    except HealthUnavailable as exc:
        detail = str(exc)
    if health is not None and not health.healthy:
        failing = [k for k, c in health.checks.items() if not c.ok]
        detail = "failing: " + ", ".join(failing) if failing else "not ready"
    healthy = alive and health is not None and health.healthy and health.pid == svc.pid
    if alive and health is not None and health.pid != svc.pid:
        detail = f"answered by pid {health.pid}, supervisor expects {svc.pid}"
    return ServiceView(
        pid=svc.pid,
        alive=alive,
        healthy=healthy,
        state=svc.state,
        restarts=svc.restarts,
        health=health,
        detail=detail,
    )


async def check(settings: PlatformSettings, status_file: Path, reply_timeout: float = 2.0) -> SystemView:
    """Everything ``casereg status`` shows; ``healthy`` only when every process is alive and healthy."""
    try:
        status = read_status(status_file)
    except FileNotFoundError:
        return SystemView(
            healthy=False,
            state=None,
            status_file=str(status_file),
            error="no status file: is `casereg up` running?",
        )
    supervisor_alive = pid_alive(status.supervisor_pid)
    supervisor = ProcessView(pid=status.supervisor_pid, alive=supervisor_alive, healthy=supervisor_alive)
    nats_view: NatsView | None = None
    nc: NATS | None = None
    error = ""
    if status.nats is not None:
        nats_alive = pid_alive(status.nats.pid)
        if nats_alive:
            try:
                nc = await _connect_operator(settings, status.nats.url, max(1, round(reply_timeout)))
            except (OSError, TimeoutError, nats.errors.Error) as exc:
                error = f"cannot connect to NATS at {status.nats.url}: {type(exc).__name__}"
        nats_view = NatsView(
            pid=status.nats.pid, alive=nats_alive, healthy=nats_alive and nc is not None, url=status.nats.url
        )
    try:
        views = await asyncio.gather(
            *(_service_view(nc, status.province, n, status, reply_timeout) for n in status.services)
        )
    finally:
        if nc is not None:
            await nc.close()
    services = dict(zip(status.services, views, strict=True))
    healthy = (
        supervisor.healthy
        and status.state == State.RUNNING
        and nats_view is not None
        and nats_view.healthy
        and all(v.healthy for v in services.values())
    )
    return SystemView(
        healthy=healthy,
        state=status.state,
        status_file=str(status_file),
        supervisor=supervisor,
        nats=nats_view,
        services=services,
        error=error,
    )
