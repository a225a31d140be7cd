"""Audit commands: ``seal`` (now, ``public-key``, ``export``), ``replay --as-of`` and ``report`` (live).

``seal`` connects as the ``national_sync`` NATS user (the only one allowed to append seals); ``replay`` and
``report`` read as ``operator`` and never write to the log or to a live read model. See ``docs/audit.md``.
"""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from casereg_verify.verify import canonical
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from casereg.audit.replay import live_source, owning, replay_into, scratch_engines
from casereg.audit.reports import REPORTS, TABLES_OF, Report, report
from casereg.audit.seals import public_key_pem, read_seals, seal_now
from casereg.audit.timeline import VIETNAM
from casereg.cli.connection import connected
from casereg.cli.runtime import CommandError, run_async
from casereg.clock import SystemClock
from casereg.log.cli import parse_as_of, require_stream
from casereg.platform.credentials import OPERATOR_USER
from casereg.projections.bindings import discover
from casereg.settings import PlatformSettings, load

SEALER_USER = "national_sync"

seal_app = typer.Typer(
    help="Signed seals over the log's heads: seal now (no sub-command), print the public key, export the seals.",
    invoke_without_command=True,
)


def _settings() -> PlatformSettings:
    try:
        return load(PlatformSettings)
    except ValueError as exc:
        raise CommandError(f"invalid CASEREG_* settings: {exc}") from None


@seal_app.callback()
def seal(ctx: typer.Context) -> None:
    """Seal now: a signed Merkle root over every aggregate changed since the last seal."""
    if ctx.invoked_subcommand is not None:
        return

    async def main() -> dict[str, object] | None:
        settings = _settings()
        async with connected(settings, SEALER_USER) as nc:
            await require_stream(nc.jetstream(), settings)
            return await seal_now(nc, settings, SystemClock())

    sealed = run_async(main)
    if sealed is None:
        typer.echo("nothing changed since the last seal; no seal written")
        return
    heads = sealed["heads"]
    assert isinstance(heads, list)
    typer.echo(
        f"seal #{sealed['seal_no']}: {len(heads)} aggregate(s), stream seq {sealed['from_seq']}..{sealed['to_seq']}, "
        f"merkle root {sealed['merkle_root']}"
    )


@seal_app.command("public-key")
def public_key() -> None:
    """Print the province's seal public key (PEM), for auditors and the offline verifier."""
    typer.echo(public_key_pem(_settings()), nl=False)


@seal_app.command("export")
def export_seals(
    output: Annotated[Path, typer.Option("-o", "--output", help="The seal file to write ('-' for standard output).")],
) -> None:
    """Write every seal, one JSON object per line (the file `python -m casereg_verify.verify --seal` reads)."""

    async def main() -> int:
        settings = _settings()
        async with connected(settings, OPERATOR_USER) as nc:
            seals = [s.seal async for s in read_seals(nc.jetstream(), settings)]
        text = "".join(canonical(s).decode() + "\n" for s in seals)
        if str(output) == "-":
            sys.stdout.write(text)
            return len(seals)
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
        return len(seals)

    count = run_async(main)
    typer.echo(f"exported {count} seal(s) to {output}", err=str(output) == "-")


def _emit(rep: Report, out: Path | None) -> None:
    if out is None:
        rep.write_csv(sys.stdout)
        return
    try:
        rep.save(out)
    except OSError as exc:
        raise CommandError(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"{rep.name}: {len(rep.rows)} row(s) written to {out}", err=True)


def _check_report(name: str) -> str:
    if name not in REPORTS:
        raise CommandError(f"unknown report {name!r}: one of {', '.join(REPORTS)}")
    return name


def _day(value: str | None, default: datetime) -> date:
    if value is None:
        return default.astimezone(VIETNAM).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--on {value!r} is not a date (YYYY-MM-DD)") from None


ReportArg = Annotated[str, typer.Option("--report", help="overdue | open | by-unit")]
OutArg = Annotated[Path | None, typer.Option("--out", help="Write CSV here (default: CSV on standard output).")]
OnArg = Annotated[
    str | None,
    typer.Option("--on", help="The day overdue is judged on (default: the cut-off's day, or today, in Vietnam)."),
]


def replay_command(
    as_of: Annotated[str, typer.Option("--as-of", metavar="SEQ|TIME", help="A stream sequence or an RFC 3339 time.")],
    report_name: ReportArg,
    out: OutArg = None,
    on: OnArg = None,
) -> None:
    """Rebuild the whole province's read models from the log up to a point (in a temporary database) and report."""

    async def main() -> None:
        name = _check_report(report_name)
        limit = parse_as_of(as_of)
        settings = _settings()
        bindings = owning(discover(settings), TABLES_OF[name])
        console = Console(stderr=True)
        with scratch_engines({b.service for b in bindings.values()}) as engines:
            async with connected(settings, OPERATOR_USER) as nc:
                js = nc.jetstream()
                await require_stream(js, settings)
                with Progress(
                    TextColumn("[bold]replay"),
                    BarColumn(),
                    TaskProgressColumn(),
                    TimeRemainingColumn(),
                    console=console,
                ) as bar:
                    task = bar.add_task("replay", total=None)

                    def progress(read: int, position: int, target: int) -> None:
                        bar.update(task, completed=position, total=max(target, 1))

                    result = await replay_into(js, settings.stream, bindings, engines, limit, progress)
            moment = limit if isinstance(limit, datetime) else (result.last_recorded_at or datetime.now(UTC))
            console.print(f"replayed {result.messages} message(s) up to stream sequence {result.position}")
            _emit(report(name, result.source, _day(on, moment)), out)

    run_async(main)


def report_command(report_name: ReportArg, out: OutArg = None, on: OnArg = None) -> None:
    """The same report on the live read models (what `replay --as-of` rebuilds for a past moment)."""

    async def main() -> None:
        name = _check_report(report_name)
        source, engines = live_source(owning(discover(_settings()), TABLES_OF[name]))
        try:
            rep = report(name, source, _day(on, datetime.now(UTC)))
        finally:
            for engine in engines:
                engine.dispose()
        _emit(rep, out)

    run_async(main)


def register(app: typer.Typer) -> None:
    app.add_typer(seal_app, name="seal")
    app.command("replay")(replay_command)
    app.command("report")(report_command)


__all__ = ["register"]
