"""``casereg directory show`` and ``casereg directory check``."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from casereg.cli.runtime import CommandError
from casereg.directory.directory import Directory, Link
from casereg.directory.files import RowError
from casereg.directory.load import DirectoryFiles, check, load
from casereg.directory.model import Agency, Unit
from casereg.directory.problems import InvalidDirectory, NotFound
from casereg.directory.settings import DirectorySettings

#: Dates are Vietnamese calendar days (UTC+7, no daylight saving).
VIETNAM = timezone(timedelta(hours=7))


def today() -> date:
    return datetime.now(UTC).astimezone(VIETNAM).date()


def _settings(province: str | None) -> DirectorySettings:
    try:
        return DirectorySettings(province=province) if province else DirectorySettings()
    except ValidationError as exc:
        raise CommandError(f"directory settings: {exc}") from None


def _date(value: str | None) -> date:
    if value is None:
        return today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--at {value!r} is not a date (YYYY-MM-DD)") from None


def _fail(exc: CommandError) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _period(unit: Unit | Agency) -> str:
    return str(unit.period)


def _link(link: Link) -> str:
    return f"{link.unit.code} {link.unit.name} ({link.transfer.value}, {_period(link.unit)})"


def _show_unit(directory: Directory, unit: Unit, at: date) -> None:
    echo = typer.echo
    echo(f"{unit.code}  {unit.name}")
    echo(f"  level:      {unit.level.value} ({unit.type})")
    echo(f"  valid:      {_period(unit)}")
    echo(f"  path:       {' < '.join(f'{u.name} ({u.code})' for u in directory.path(unit.code, at))}")
    flag = directory.remote_difficult(unit.code, at)
    remote = "no (no operator row)" if flag is None else ("yes" if flag.value else "no") + f" ({flag.period})"
    if flag is not None and flag.basis:
        remote += f" — {flag.basis}"
    echo(f"  remote/difficult area: {remote}")
    others = [u for u in directory.versions(unit.code) if u != unit]
    for other in others:
        echo(f"  same code:  {other.name} ({_period(other)}) — another unit")
    for link in directory.predecessors(unit):
        echo(f"  formed from: {_link(link)}")
    for link in directory.successors(unit):
        echo(f"  became:      {_link(link)}")
    children = directory.children(unit.code, at)
    if children:
        echo(f"  units below: {len(children)}")
    agencies = directory.agencies_of(unit.code, at)
    if agencies:
        echo("  agencies:")
        for agency in agencies:
            supervisor = agency.supervisor or "-"
            echo(f"    {agency.id}  {agency.name}  [{agency.kind.value}; supervisor {supervisor}]")
    committees = []
    for above in directory.path(unit.code, at):
        try:
            committees.append(directory.agency(above.code, above.level, at))
        except NotFound:
            continue
    if committees:
        echo("  people's committees up to the province:")
        for agency in committees:
            echo(f"    {agency.level.value:9} {agency.id}  {agency.name}")


def _show_agency(directory: Directory, agency: Agency) -> None:
    echo = typer.echo
    echo(f"{agency.id}  {agency.name}")
    echo(f"  kind:       {agency.kind.value}")
    echo(f"  unit:       {agency.unit} ({agency.level.value})")
    echo(f"  valid:      {_period(agency)}")
    chain = directory.chain(agency)[1:]
    echo(f"  supervised by: {' < '.join(a.id for a in chain) if chain else '- (top of the province)'}")


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="The province directory: administrative units and agencies across the 2025 reform.",
        no_args_is_help=True,
    )
    app.add_typer(group, name="directory")

    @group.command()
    def show(
        code: Annotated[str, typer.Argument(help="Unit code (52, 540, 21583) or agency id (2tier/52/ubnd)")],
        at: Annotated[str | None, typer.Option("--at", help="Date, YYYY-MM-DD (default: today in Vietnam)")] = None,
        province: Annotated[str | None, typer.Option(help="Province whose agencies to load")] = None,
    ) -> None:
        """Show a unit as it was on a date (its path, agencies, successions), or an agency and its supervisors."""
        try:
            day = _date(at)
            directory = load(_settings(province).files())
            if "/" in code:
                _show_agency(directory, directory.agency_by_id(code))
                return
            if not code.isdigit() or len(code) not in (2, 3, 5):
                raise CommandError(f"{code!r}: a unit code is 2 (province), 3 (district) or 5 (commune) digits")
            _show_unit(directory, directory.unit(code, day), day)
        except (NotFound, InvalidDirectory) as exc:
            raise _fail(CommandError(str(exc))) from None
        except CommandError as exc:
            raise _fail(exc) from None

    @group.command("check")
    def check_command(
        files: Annotated[
            list[Path] | None,
            typer.Argument(help="Files to check in place of the configured ones (kind told by the header)"),
        ] = None,
        province: Annotated[str | None, typer.Option(help="Province whose agencies to check")] = None,
    ) -> None:
        """Validate the directory files: form of every line, codes, validity overlaps, parents, supervisors."""
        try:
            configured = _settings(province).files()
            chosen: DirectoryFiles = configured.with_files(files or [])
        except RowError as exc:
            raise _fail(CommandError(str(exc))) from None
        except CommandError as exc:
            raise _fail(exc) from None
        records, problems = check(chosen)
        for path in (*chosen.units, *chosen.successions, *chosen.agencies, *chosen.remote_difficult):
            typer.echo(f"checked {path}")
        if problems:
            for problem in problems:
                typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
            typer.secho(f"{len(problems)} problem(s) found", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        typer.echo(
            f"ok: {len(records.units)} units, {len(records.agencies)} agencies, "
            f"{len(records.successions)} successions, {len(records.remote_difficult)} remote/difficult rows"
        )
