"""``casereg keys rotate|status``: master-key rotation of the key store, without touching the log.

Rotation re-wraps every live data key under the current master key (``CASEREG_MASTER_KEY``); the old one is
given in ``CASEREG_PREVIOUS_MASTER_KEYS``. Each batch commits on its own, so an interrupted run is simply run
again. See ``docs/personal-data.md`` for the whole procedure.
"""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from casereg.cli.connection import reason
from casereg.cli.runtime import CommandError
from casereg.crypto.config import open_keystore, previous_master_keys
from casereg.crypto.keystore import RotationProgress, SqlKeyStore, WrongMasterKey, kek_id
from casereg.db import KEYSTORE_MIGRATIONS, keystore_url, migrate
from casereg.settings import PlatformSettings, load


def migrated_keystore(settings: PlatformSettings) -> SqlKeyStore:
    """For commands: the key store, migrated first (it may never have been used), or a :class:`CommandError`."""
    url = keystore_url(settings)
    try:
        migrate(url, [KEYSTORE_MIGRATIONS])
    except SQLAlchemyError as exc:
        raise CommandError(f"key store {url}: {reason(exc).splitlines()[0]}") from None
    return open_keystore(settings)


def _store() -> tuple[PlatformSettings, SqlKeyStore]:
    try:
        settings = load(PlatformSettings)
    except ValidationError as exc:
        raise CommandError(f"invalid CASEREG_* settings: {exc}") from None
    return settings, migrated_keystore(settings)


def _fail(exc: CommandError) -> typer.Exit:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    return typer.Exit(1)


def status() -> None:
    """How many live data keys are not yet wrapped under the current master key."""
    try:
        settings, keys = _store()
    except CommandError as exc:
        raise _fail(exc) from None
    current = kek_id(settings.master_key.get_secret_value())
    typer.echo(f"current master key {current}: {keys.count_to_rotate()} live data keys still to re-wrap")


def rotate(
    batch: Annotated[int, typer.Option(min=1, max=100_000, help="Rows re-wrapped per transaction.")] = 500,
) -> None:
    """Re-wrap every data key under CASEREG_MASTER_KEY (old key in CASEREG_PREVIOUS_MASTER_KEYS). Re-runnable."""
    try:
        settings, keys = _store()
    except CommandError as exc:
        raise _fail(exc) from None
    current = kek_id(settings.master_key.get_secret_value())
    olds = [kek_id(k) for k in previous_master_keys(settings)]
    total = keys.count_to_rotate()
    typer.echo(
        f"re-wrapping {total} data keys under master key {current}"
        + (f" (previous: {', '.join(olds)})" if olds else ""),
        err=True,
    )

    def progress(p: RotationProgress) -> None:
        typer.echo(f"  re-wrapped {p.rewrapped}, {p.remaining} to go", err=True)

    try:
        done = keys.rotate(batch=batch, progress=progress)
    except WrongMasterKey as exc:
        raise _fail(CommandError(f"{exc}; nothing after the last committed batch was changed")) from None
    left = keys.count_to_rotate()
    typer.echo(f"re-wrapped {done} data keys; {left} left under another master key")
    if left:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    keys = typer.Typer(name="keys", help="The key store's master key: rotation.", no_args_is_help=True)
    keys.command("rotate")(rotate)
    keys.command("status")(status)
    app.add_typer(keys, name="keys")
