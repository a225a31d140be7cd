"""``casereg sync``: the national push's lag and backlog, retrying what failed, reconciling with the national side.

``status`` reads the ledger database (``CASEREG_NATIONAL_SYNC_DATABASE_URL``) and the log's stream state;
``retry`` puts rejected and waiting rows back to be pushed now; ``reconcile`` compares the log, the ledger and
what the national side reports holding, prints every difference, and exits 1 when there is any.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import sqlalchemy as sa
import typer
from casereg.cli.connection import connected
from casereg.cli.runtime import CommandError, run_async
from casereg.db import create_engine
from casereg.settings import load
from sqlalchemy.engine import make_url

from national_sync import operations, reconcile
from national_sync.adapter import HttpNationalAdapter, NationalUnavailable
from national_sync.ledger import ledger_projection
from national_sync.projections import registry
from national_sync.settings import NationalSyncSettings

USER = "national_sync"


@contextmanager
def _ledger(own: NationalSyncSettings, *, reads: bool = False) -> Iterator[sa.Engine]:
    """The ledger database; a database that cannot be read is one error line, not a traceback."""
    url = own.resolved_database_url()
    engine = create_engine(url, reads=reads)
    try:
        yield engine
    except sa.exc.DBAPIError as exc:
        where = make_url(url).render_as_string(hide_password=True)
        problem = type(exc.orig).__name__
        raise CommandError(
            f"ledger database {where}: {problem} (not migrated? `casereg migrate` or `casereg up`)"
        ) from None
    finally:
        engine.dispose()


def _progress(what: str, n: int) -> None:
    print(f"  {what}: {n} messages read", file=sys.stderr, flush=True)


def register(app: typer.Typer) -> None:
    sync = typer.Typer(help="The push to the national database: status, retry, reconcile.", no_args_is_help=True)
    app.add_typer(sync, name="sync")

    @sync.command()
    def status(json_: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
        """Lag behind the log, backlog, oldest pending push, failures and rejections."""
        own = load(NationalSyncSettings)

        async def go() -> tuple[operations.LedgerStatus, operations.Lag | None, str | None]:
            with _ledger(own, reads=True) as engine:
                ledger = operations.ledger_status(engine)
            consumer = ledger_projection(own.province).consumer_name
            try:
                async with connected(own, USER) as nc:
                    return ledger, await operations.lag(nc.jetstream(), own.stream, own.seals_stream, consumer), None
            except CommandError as exc:
                return ledger, None, str(exc)

        ledger, lag, problem = run_async(go)
        if json_:
            typer.echo(json.dumps(operations.as_json(ledger, lag) | {"nats_error": problem}, indent=2))
            return
        age = "-" if ledger.oldest_pending_age_s is None else f"{ledger.oldest_pending_age_s:.1f} s"
        typer.echo(f"backlog: {ledger.backlog} pending (oldest {age}), {ledger.failing} failing")
        typer.echo(f"pushed: {ledger.pushed}; rejected: {ledger.rejected}")
        if ledger.last_error:
            typer.echo(f"last error: {ledger.last_error}")
        if lag is not None:
            typer.echo(
                f"lag: {lag.consumer_pending if lag.consumer_pending is not None else '-'} events not yet in the "
                f"ledger (position {ledger.position} of stream {lag.stream_last}); "
                f"seals at {ledger.seals_position} of {lag.seals_last if lag.seals_last is not None else '-'}"
            )
        else:
            typer.echo(f"lag: unknown ({problem}); ledger position {ledger.position}")

    @sync.command()
    def retry(
        kind: Annotated[str | None, typer.Option(help="Only records of this kind (case, reception, seal)")] = None,
        record: Annotated[str | None, typer.Option(help="Only this record id")] = None,
    ) -> None:
        """Put rejected rows back to pending and failed ones due now (the service pushes them)."""
        own = load(NationalSyncSettings)
        try:
            with _ledger(own) as engine:
                changed = operations.retry(engine, kind, record)
        except CommandError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{changed} row(s) set to be pushed again")

    @sync.command("reconcile")
    def reconcile_(json_: Annotated[bool, typer.Option("--json", help="Print JSON")] = False) -> None:
        """Compare the log, the ledger and the national side's holdings; list every difference (exit 1 if any)."""
        own = load(NationalSyncSettings)

        async def go() -> list[reconcile.Difference]:
            with _ledger(own, reads=True) as engine:
                ledger = reconcile.from_ledger(engine)
            print(f"ledger: {len(ledger.latest)} records", file=sys.stderr, flush=True)
            async with connected(own, USER) as nc:
                log = await reconcile.from_log(
                    nc.jetstream(),
                    own.stream,
                    own.seals_stream,
                    own.province,
                    registry(),
                    ledger.position,
                    ledger.seals_position,
                    _progress,
                )
            print(f"log: {len(log.latest)} records", file=sys.stderr, flush=True)
            adapter = HttpNationalAdapter(own, own.province)
            try:
                national = await reconcile.from_national(adapter.holdings())
            except NationalUnavailable as exc:
                raise CommandError(f"national side: {exc}") from None
            finally:
                await adapter.aclose()
            print(f"national side: {len(national)} records", file=sys.stderr, flush=True)
            return reconcile.compare(log, ledger, national)

        differences = run_async(go)
        if json_:
            typer.echo(reconcile.dumps(differences))
        else:
            for line in reconcile.lines(differences):
                typer.echo(line)
            typer.echo(f"{len(differences)} difference(s)")
        if differences:
            raise typer.Exit(1)
