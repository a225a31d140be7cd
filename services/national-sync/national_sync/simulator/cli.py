"""``casereg national-simulator serve`` (and ``python -m national_sync.simulator``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from casereg.telemetry import setup_logging

from national_sync.simulator.settings import SimulatorSettings

simulator_app = typer.Typer(
    help="The national-database SIMULATOR (a test double, not the Government Inspectorate's system).",
    no_args_is_help=True,
)


@simulator_app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address [CASEREG_SIMULATOR_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port [CASEREG_SIMULATOR_PORT].")] = None,
    database: Annotated[Path | None, typer.Option(help="SQLite file [CASEREG_SIMULATOR_DATABASE].")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the fault RNG [CASEREG_SIMULATOR_SEED].")] = None,
    error_rate: Annotated[float | None, typer.Option(help="Share of requests answered 500.")] = None,
    latency_ms: Annotated[int | None, typer.Option(help="Delay before every answer.")] = None,
    timeout_rate: Annotated[float | None, typer.Option(help="Share of requests that hang for timeout-ms.")] = None,
    timeout_ms: Annotated[int | None, typer.Option(help="How long a simulated timeout hangs.")] = None,
    duplicate_ack_rate: Annotated[float | None, typer.Option(help="Share of stored versions answered 500.")] = None,
    outage: Annotated[bool | None, typer.Option("--outage/--no-outage", help="Answer 503 to everything.")] = None,
) -> None:
    """Run the simulator in the foreground (flags override the CASEREG_SIMULATOR_* variables)."""
    from national_sync.simulator.server import serve as run

    given: dict[str, Any] = {k: v for k, v in locals().items() if v is not None and k != "run"}
    settings = SimulatorSettings(**given)
    setup_logging("national-sim")
    asyncio.run(run(settings))


def register(app: typer.Typer) -> None:
    app.add_typer(simulator_app, name="national-simulator")
