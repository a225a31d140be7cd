"""``casereg dev seed N [--seed INT] [--chunk K]``: generated petitions recorded through intake's submission path.

Connects as the ``intake`` NATS user; settings come from the ``CASEREG_*`` environment (``CASEREG_NATS_URL``,
``CASEREG_VAR_DIR``, ``CASEREG_PROVINCE``, ``CASEREG_STREAM``, ``CASEREG_MASTER_KEY``,
``CASEREG_KEYSTORE_URL``). See ``docs/cli.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from intake.dev_seed import SeedResult

#: The NATS user seeded submissions are written as.
SEED_USER = "intake"


def seed(
    n: Annotated[int, typer.Argument(help="How many cases to generate.", min=1)],
    seed_value: Annotated[int, typer.Option("--seed", help="Random seed: the same seed gives the same cases.")] = 1,
    chunk: Annotated[int, typer.Option(help="Submissions in flight at a time.", min=1, max=1000)] = 64,
) -> None:
    """Record N realistic generated petitions (identities and texts encrypted) through intake's submission."""
    # Imported here so that building the `casereg` command stays cheap.
    from casereg.cli.connection import connected, reason
    from casereg.cli.runtime import CommandError, run_async
    from casereg.clock import SystemClock
    from casereg.crypto.config import open_keystore
    from casereg.db import KEYSTORE_MIGRATIONS, create_engine, keystore_url, migrate
    from casereg.dev.seed import generate
    from casereg.log.errors import ConcurrencyConflict, WeakStreamConfig
    from casereg.log.provision import check
    from casereg.log.store import EventLog
    from casereg.settings import PlatformSettings, load
    from pydantic import ValidationError
    from sqlalchemy.exc import SQLAlchemyError

    from intake.dev_seed import seed as seed_cases
    from intake.domain.submission import SubmissionMismatch
    from intake.handlers.deps import IntakeDeps

    def progress(done: int, total: int) -> None:
        typer.echo(f"  seeded {done}/{total}", err=True)

    async def main() -> SeedResult:
        try:
            settings = load(PlatformSettings)
        except ValidationError as exc:
            raise CommandError(f"invalid CASEREG_* settings: {exc}") from None
        url = keystore_url(settings)
        try:
            migrate(url, [KEYSTORE_MIGRATIONS])
        except SQLAlchemyError as exc:
            raise CommandError(f"key store {url}: {reason(exc).splitlines()[0]}") from None
        engine = create_engine(url)
        try:
            keys = open_keystore(settings, engine)  # the previous master keys too, during a rotation
            cases = generate(n, seed_value)
            async with connected(settings, SEED_USER) as nc:
                try:
                    await check(nc, settings)
                except WeakStreamConfig as exc:
                    raise CommandError(str(exc)) from None
                clock = SystemClock()
                log = EventLog(nc=nc, province=settings.province, clock=clock, stream=settings.stream)
                deps = IntakeDeps(log=log, keys=keys, clock=clock)
                typer.echo(f"seeding {n} cases (seed {seed_value}) into stream {settings.stream}", err=True)
                try:
                    return await seed_cases(deps, cases, chunk=chunk, progress=progress)
                except SubmissionMismatch:
                    raise CommandError(
                        f"seed {seed_value} was recorded before with other data (did the generator change?); "
                        "use another --seed"
                    ) from None
                except ConcurrencyConflict as exc:
                    raise CommandError(f"could not record a generated case: {exc}") from None
        finally:
            engine.dispose()

    result = run_async(main)
    typer.echo(f"seeded {result.total} cases: {result.written} new, {result.already_there} already there")


def register(app: typer.Typer) -> None:
    dev = typer.Typer(name="dev", help="Development helpers: generated data.", no_args_is_help=True)
    dev.command("seed")(seed)
    app.add_typer(dev, name="dev")
