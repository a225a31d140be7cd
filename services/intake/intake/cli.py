"""``casereg agency add|revoke|list|rotate-key``: the agencies allowed to call intake, and their API keys.

Each command migrates intake's database first (``CASEREG_INTAKE_DATABASE_URL``, default
``CASEREG_VAR_DIR/intake.db``), so it works before ``casereg up`` has ever run.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Annotated

import sqlalchemy as sa
import typer
from casereg.cli.runtime import CommandError
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.settings import load
from pydantic import ValidationError

from intake.adapters.agencies import (
    AgencyError,
    AgencyListing,
    Role,
    add_agency,
    list_agencies,
    revoke_agency,
    rotate_key,
)
from intake.settings import IntakeSettings

INTAKE_MIGRATIONS = ("intake.migrations", "alembic_version_intake")
#: Dates are Vietnamese calendar days (UTC+7, no daylight saving).
VIETNAM = timezone(timedelta(hours=7))
ONCE = "this API key is shown only once: store it now (only its hash is kept; rotate-key issues a new one)"


def _engine() -> sa.Engine:
    try:
        settings = load(IntakeSettings)
    except ValidationError as exc:
        raise CommandError(f"intake settings: {exc}") from None
    url = settings.resolved_database_url()
    migrate(url, [PLATFORM_MIGRATIONS, INTAKE_MIGRATIONS])
    return create_engine(url)


def _check_unit(unit: str, day: date) -> None:
    """The unit must be in the province directory on ``day``."""
    from casereg.directory.load import load as load_directory
    from casereg.directory.problems import InvalidDirectory
    from casereg.directory.settings import DirectorySettings

    try:
        directory = load_directory(DirectorySettings().files())
    except (ValidationError, InvalidDirectory) as exc:
        raise CommandError(f"cannot read the directory to check --unit ({exc}); pass --no-check-unit") from None
    if directory.find_unit(unit, day) is None:
        raise CommandError(
            f"--unit {unit!r} is not an administrative unit of the directory on {day.isoformat()} "
            "(see `casereg directory show`; --no-check-unit skips this check)"
        )


def _fail(exc: Exception) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def _print_key(key: str) -> None:
    typer.secho(f"warning: {ONCE}", fg=typer.colors.YELLOW, err=True)
    typer.echo(key)


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ") if moment else "-"


def _table(rows: list[AgencyListing]) -> list[str]:
    header = ("CODE", "ROLE", "UNIT", "STATUS", "KEYS", "ADDED", "NAME")
    cells = [
        (
            r.agency.code,
            r.agency.role.value,
            r.agency.unit_code,
            f"revoked {_when(r.revoked_at)}" if r.revoked_at else "active",
            str(r.active_keys),
            _when(r.created_at),
            r.agency.name,
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in (header, *cells)) for i in range(len(header) - 1)]
    return [
        "  ".join(value.ljust(width) for value, width in zip(row[:-1], widths, strict=True)) + "  " + row[-1]
        for row in (header, *cells)
    ]


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Agencies that call intake's API, and their API keys.", no_args_is_help=True)
    app.add_typer(group, name="agency")

    @group.command("add")
    def add(
        code: Annotated[str, typer.Argument(help="Agency code, e.g. its directory id 2tier/21583/ubnd")],
        name: Annotated[str, typer.Option("--name", help="The agency's name")],
        unit: Annotated[str, typer.Option("--unit", help="Code of the administrative unit it belongs to")],
        role: Annotated[Role, typer.Option("--role", help="What its officers may do")],
        check_unit: Annotated[
            bool, typer.Option("--check-unit/--no-check-unit", help="Check --unit against today's directory")
        ] = True,
    ) -> None:
        """Add an agency and print its API key (once)."""
        try:
            if check_unit:
                _check_unit(unit, datetime.now(VIETNAM).date())
            engine = _engine()
            try:
                agency, key = add_agency(engine, code, name, unit, role)
            finally:
                engine.dispose()
        except (CommandError, AgencyError) as exc:
            raise _fail(exc) from None
        typer.echo(f"added agency {agency.code} ({agency.name}), unit {agency.unit_code}, role {agency.role.value}")
        _print_key(key)

    @group.command("revoke")
    def revoke(code: Annotated[str, typer.Argument(help="Agency code")]) -> None:
        """Revoke an agency and all its keys: its calls are refused from now on."""
        try:
            engine = _engine()
            try:
                revoke_agency(engine, code)
            finally:
                engine.dispose()
        except (CommandError, AgencyError) as exc:
            raise _fail(exc) from None
        typer.echo(f"revoked agency {code} and its API keys")

    @group.command("rotate-key")
    def rotate(code: Annotated[str, typer.Argument(help="Agency code")]) -> None:
        """Issue a new API key for an agency and revoke its previous ones at once."""
        try:
            engine = _engine()
            try:
                key = rotate_key(engine, code)
            finally:
                engine.dispose()
        except (CommandError, AgencyError) as exc:
            raise _fail(exc) from None
        typer.echo(f"new API key for agency {code}; its previous keys are revoked")
        _print_key(key)

    @group.command("list")
    def list_command() -> None:
        """Every agency, revoked ones included, with its number of active keys."""
        try:
            engine = _engine()
            try:
                rows = list_agencies(engine)
            finally:
                engine.dispose()
        except CommandError as exc:
            raise _fail(exc) from None
        if not rows:
            typer.echo("no agencies yet: add one with `casereg agency add`")
            return
        for line in _table(rows):
            typer.echo(line.rstrip())
