"""Core commands: ``up``, ``status``, ``serve``, ``provision``."""

from __future__ import annotations

import asyncio
import json
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from casereg.cli.runtime import CommandError, run_async
from casereg.platform import status_check
from casereg.platform.embedded import EmbeddedConfigError, EmbeddedSettings, resolve
from casereg.platform.processes import extra_processes
from casereg.platform.service import load_definition, service_names
from casereg.platform.service import run as run_service
from casereg.platform.status_check import SystemView
from casereg.platform.supervisor import (
    Supervisor,
    SupervisorError,
    default_status_file,
    prepare,
    provision_log,
)
from casereg.settings import PlatformSettings, load
from casereg.telemetry import setup_logging


def _settings() -> tuple[PlatformSettings, EmbeddedSettings]:
    try:
        return resolve(load(PlatformSettings), EmbeddedSettings())
    except EmbeddedConfigError as exc:
        raise CommandError(str(exc)) from None
    except ValidationError as exc:  # e.g. production mode with a development secret: one clear line
        problems = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise CommandError(f"invalid CASEREG_* settings: {problems}") from None


def up(
    stop_timeout: Annotated[
        float, typer.Option(help="Seconds a service gets to stop after SIGTERM before SIGKILL.")
    ] = 10.0,
) -> None:
    """Start NATS, provision the log, run migrations and supervise every service (and, in development, the
    national-database simulator) until Ctrl-C."""

    async def main() -> int:
        platform, embedded = _settings()
        platform = prepare(platform)
        setup_logging("supervisor")
        supervisor = Supervisor(
            platform, embedded, service_names(), processes=extra_processes(platform), stop_timeout=stop_timeout
        )
        try:
            return await supervisor.run()
        except SupervisorError as exc:
            raise CommandError(str(exc)) from None

    code = run_async(main)
    if code:
        raise typer.Exit(code)


def _render(view: SystemView, console: Console) -> None:
    if view.error and view.supervisor is None:
        console.print(f"[red]{view.error}[/red] ({view.status_file})")
        return

    def mark(ok: bool) -> str:
        return "[green]ok[/green]" if ok else "[red]FAIL[/red]"

    table = Table(title=f"casereg — supervisor {view.state or 'unknown'}")
    table.add_column("process", no_wrap=True)
    for column in ("pid", "alive", "state", "restarts", "health", "ready", "detail"):
        table.add_column(column)
    if view.supervisor is not None:
        s = view.supervisor
        table.add_row("supervisor", str(s.pid), mark(s.alive), str(view.state), "", mark(s.healthy), "", "")
    if view.nats is not None:
        n = view.nats
        table.add_row("nats", str(n.pid), mark(n.alive), "", "", mark(n.healthy), "", n.url)
    for name, svc in view.services.items():
        health = svc.health
        table.add_row(
            name,
            str(svc.pid or "-"),
            mark(svc.alive),
            svc.state.value,
            str(svc.restarts),
            mark(svc.healthy) if health is None else f"{mark(svc.healthy)} ({health.status})",
            "-" if health is None else mark(health.ready),
            svc.detail,
        )
    console.print(table)
    if view.error:
        console.print(f"[red]{view.error}[/red]")
    console.print("[green]all healthy[/green]" if view.healthy else "[red]unhealthy[/red]")


def status(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document for machines.")] = False,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for each health answer.")] = 2.0,
) -> None:
    """Show each process of `casereg up` and its health; exit 1 when anything is unhealthy."""

    async def main() -> SystemView:
        platform, _ = _settings()
        return await status_check.check(platform, default_status_file(platform), timeout)

    view = run_async(main)
    if as_json:
        typer.echo(json.dumps(view.model_dump(mode="json"), indent=2))
    else:
        _render(view, Console())
    if not view.healthy:
        raise typer.Exit(1)


def serve(name: Annotated[str, typer.Argument(help="Service name, e.g. intake or national-sync.")]) -> None:
    """Run one service in the foreground (what `casereg up` starts for each service)."""
    try:
        definition = load_definition(name)
    except LookupError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    asyncio.run(run_service(definition))


def provision() -> None:
    """Create or check the log's streams as the admin user, against a running NATS."""

    async def main() -> None:
        platform, _ = _settings()
        await provision_log(prepare(platform))

    run_async(main)
    typer.echo("provisioned")


def register(app: typer.Typer) -> None:
    app.command()(up)
    app.command()(status)
    app.command()(serve)
    app.command()(provision)
