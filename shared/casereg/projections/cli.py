"""``casereg rebuild`` and ``casereg deadletter``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TaskProgressColumn, TextColumn, TimeRemainingColumn
from rich.table import Table

from casereg.cli.connection import connected
from casereg.cli.runtime import CommandError, run_async
from casereg.clock import SystemClock
from casereg.db import create_engine
from casereg.log.raw import last_sequence
from casereg.log.store import EventLog
from casereg.projections import deadletters
from casereg.projections.bindings import ProjectionBinding, discover
from casereg.projections.rebuild import Progress as RebuildProgress
from casereg.projections.rebuild import Rebuild
from casereg.settings import PlatformSettings

console = Console(stderr=True)


def _bindings(settings: PlatformSettings, names: list[str], all_: bool) -> list[ProjectionBinding]:
    found = discover(settings)
    if all_:
        return list(found.values())
    if not names:
        raise CommandError("name a projection or pass --all")
    unknown = [n for n in names if n not in found]
    if unknown:
        raise CommandError(f"unknown projection {unknown[0]!r}; known: {', '.join(sorted(found)) or 'none'}")
    return [found[n] for n in names]


async def _rebuild(settings: PlatformSettings, bindings: list[ProjectionBinding]) -> None:
    async with connected(settings, "operator") as nc:
        js = nc.jetstream()
        for binding in bindings:
            engine = create_engine(binding.database_url)
            target = await last_sequence(js, settings.stream)
            with Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[rate]} events/s"),
                TimeRemainingColumn(),
                console=console,
            ) as bar:
                task = bar.add_task(binding.projection.name, total=max(target, 1), rate="-")

                def report(p: RebuildProgress, task: TaskID = task, bar: Progress = bar) -> None:
                    rate = f"{p.applied / p.elapsed:,.0f}" if p.elapsed > 0 else "-"
                    bar.update(task, completed=p.position, total=max(p.target, p.position, 1), rate=rate)

                rebuild = Rebuild(binding.projection, engine, js, settings.stream, binding.registry, progress=report)
                position = await rebuild.run()
            console.print(f"{binding.projection.name}: rebuilt and swapped in at stream sequence {position}")
            engine.dispose()


def register(app: typer.Typer) -> None:
    @app.command()
    def rebuild(
        projection: Annotated[list[str] | None, typer.Argument(help="Projection names")] = None,
        all_: Annotated[bool, typer.Option("--all", help="Rebuild every projection")] = False,
    ) -> None:
        """Replay the log from sequence 0 into shadow tables and swap them in; the live projection keeps serving."""
        settings = PlatformSettings()
        run_async(lambda: _rebuild(settings, _bindings(settings, projection or [], all_)))

    dl = typer.Typer(help="Events a projection could not apply: list, show, retry after a fix.", no_args_is_help=True)
    app.add_typer(dl, name="deadletter")

    def _engines(settings: PlatformSettings, projection: str | None) -> list[ProjectionBinding]:
        found = discover(settings)
        if projection and projection not in found:
            raise CommandError(f"unknown projection {projection!r}")
        # Projections of one service share a database: visit each database once.
        by_db: dict[str, ProjectionBinding] = {}
        for b in found.values():
            if projection is None or b.projection.name == projection:
                by_db.setdefault(b.database_url, b)
        return list(by_db.values())

    @dl.command("list")
    def list_(
        projection: Annotated[str | None, typer.Option(help="Only this projection")] = None,
        status: Annotated[str, typer.Option(help="open, retried or all")] = "open",
    ) -> None:
        """List dead letters."""
        settings = PlatformSettings()
        table = Table("id", "projection", "stream seq", "subject", "attempts", "status", "error")
        try:
            for binding in _engines(settings, projection):
                engine = create_engine(binding.database_url)
                for d in deadletters.list_dead_letters(
                    engine, projection=projection, status=None if status == "all" else status
                ):
                    table.add_row(
                        str(d.id),
                        d.projection,
                        str(d.stream_seq),
                        d.subject,
                        str(d.attempts),
                        d.status,
                        d.error[:80],
                    )
                engine.dispose()
        except CommandError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None
        Console().print(table)

    @dl.command()
    def show(
        dead_letter_id: int,
        projection: Annotated[str, typer.Option(help="The projection it belongs to")],
    ) -> None:
        """Show one dead letter in full."""
        settings = PlatformSettings()
        binding = _bindings(settings, [projection], False)[0]
        try:
            d = deadletters.get_dead_letter(create_engine(binding.database_url), dead_letter_id)
        except LookupError as exc:
            typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
            raise typer.Exit(1) from None
        for key, value in d.__dict__.items():
            typer.echo(f"{key}: {value}")

    @dl.command()
    def retry(
        dead_letter_id: int,
        projection: Annotated[str, typer.Option(help="The projection it belongs to")],
    ) -> None:
        """Apply a dead-lettered event again (after the fix is deployed) and mark it retried."""
        settings = PlatformSettings()

        async def go() -> None:
            binding = _bindings(settings, [projection], False)[0]
            # As the owning service's NATS user: a reacting projection appends what its reaction decides.
            async with connected(settings, binding.service.replace("-", "_")) as nc:
                log = EventLog(
                    nc=nc,
                    province=settings.province,
                    clock=SystemClock(),
                    registry=binding.registry,
                    stream=settings.stream,
                )
                try:
                    d = await deadletters.retry_dead_letter(
                        create_engine(binding.database_url),
                        nc.jetstream(),
                        settings.stream,
                        binding.resolve(log),
                        dead_letter_id,
                        binding.registry,
                    )
                except (LookupError, ValueError) as exc:
                    raise CommandError(str(exc)) from None
            typer.echo(f"dead letter {d.id} ({d.projection} seq {d.stream_seq}): {d.status}")

        run_async(go)
