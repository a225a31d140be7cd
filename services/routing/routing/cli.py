"""``casereg routing explain CASE_ID`` and ``casereg routing rules``.

``explain`` reads the case's ``PetitionReceived`` from the log as the read-only ``operator`` NATS user, runs the
same pure :func:`~routing.domain.propose.propose` the service runs, and prints every rule tried and why the
chosen one won. Facts the event does not carry (signature, evidence, dates of receipt...) can be given as a JSON
file of :class:`~routing.domain.model.RoutingFacts` with ``--facts``. Nothing is written and nothing decrypted.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Annotated, ParamSpec

import typer
from casereg.cli.connection import connected, reason
from casereg.cli.runtime import CommandError, run_async
from casereg.clock import SystemClock
from casereg.directory.directory import Directory
from casereg.directory.problems import InvalidDirectory, NotFound
from casereg.log.envelope import AggregateRef, Envelope
from casereg.log.errors import LogError
from casereg.log.events import EventRegistry
from casereg.log.store import EventLog
from casereg.platform.credentials import OPERATOR_USER
from casereg.settings import PlatformSettings, load
from intake.domain.events import INTAKE_EVENTS, PetitionReceived
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from routing.domain.events import ROUTING_EVENTS, OutcomeProposed
from routing.domain.model import RoutingFacts
from routing.domain.propose import NoRuleMatched, propose
from routing.domain.rules import RuleTables
from routing.explain import explain_lines, rules_lines
from routing.rules.load import RULES_DIR, RulesError, load_tables
from routing.settings import RoutingSettings

#: Dates are Vietnamese calendar days (UTC+7, no daylight saving).
VIETNAM = timezone(timedelta(hours=7))


def _tables() -> RuleTables:
    try:
        settings = load(RoutingSettings)
    except ValidationError as exc:
        raise CommandError(f"invalid CASEREG_ROUTING_* settings: {exc}") from None
    try:
        return load_tables(settings.rules_dir or RULES_DIR)
    except RulesError as exc:
        raise CommandError(f"the rule tables are invalid:\n{exc}") from None


def _directory() -> Directory:
    from casereg.directory.load import load as load_directory
    from casereg.directory.settings import DirectorySettings

    try:
        return load_directory(DirectorySettings().files())
    except (ValidationError, InvalidDirectory) as exc:
        raise CommandError(f"cannot read the directory: {exc}") from None


def _facts(path: Path | None) -> RoutingFacts:
    if path is None:
        return RoutingFacts()
    try:
        return RoutingFacts.model_validate_json(path.read_bytes())
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValidationError as exc:
        fields = "; ".join(f"{'.'.join(map(str, e['loc'])) or '(file)'}: {e['msg']}" for e in exc.errors())
        raise CommandError(f"{path} is not a routing facts file: {fields}") from None


async def _case_events(settings: PlatformSettings, case_id: str) -> list[Envelope]:
    try:
        ref = AggregateRef.case(case_id)
    except ValidationError:
        raise CommandError(f"invalid case id {case_id!r}: letters, digits, '-' and '_' only") from None
    registry = EventRegistry((*INTAKE_EVENTS, *ROUTING_EVENTS))
    async with connected(settings, OPERATOR_USER) as nc:
        log = EventLog(
            nc=nc, province=settings.province, clock=SystemClock(), registry=registry, stream=settings.stream
        )
        try:
            await log.js.stream_info(settings.stream)
        except NotFoundError:
            raise CommandError(f"stream {settings.stream!r} does not exist on {settings.nats_url}") from None
        try:
            events = await log.events(ref)
        except (LogError, ValidationError) as exc:
            raise CommandError(
                f"case {case_id!r} holds an unreadable message ({reason(exc).splitlines()[0]}); "
                f"run `casereg verify {case_id}`"
            ) from None
    if not events:
        raise CommandError(f"no case {case_id!r} in stream {settings.stream!r} (province {settings.province})")
    return events


def _petition(case_id: str, events: list[Envelope]) -> PetitionReceived:
    found = next((e for e in events if e.type == PetitionReceived.event_type), None)
    if found is None:
        raise CommandError(f"case {case_id!r} has no {PetitionReceived.event_type} event to route")
    try:
        return PetitionReceived.model_validate(found.payload)
    except ValidationError as exc:
        raise CommandError(f"case {case_id!r}: its {found.type} does not read as version 1: {exc}") from None


def _stored(events: list[Envelope]) -> list[str]:
    stored = [e for e in events if e.type == OutcomeProposed.event_type]
    if not stored:
        return ["", "stored proposal: none yet (routing has not proposed an outcome for this case)"]
    last = stored[-1].payload
    return [
        "",
        f"stored proposal (seq {stored[-1].seq}): outcome {last.get('outcome') or 'null (accept here)'} "
        f"to {last.get('to_agency') or '-'} by rule {last.get('rule_id')} v{last.get('rule_version')} "
        f"[{last.get('article')}], tables {last.get('rules_version')}",
    ]


def explain(
    case_id: Annotated[str, typer.Argument(help="The case's id.")],
    facts: Annotated[
        Path | None,
        typer.Option(
            "--facts", help="JSON file of facts the petition event does not carry (RoutingFacts).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Print the rules tried for a case's petition and why the chosen one won."""
    stated = _facts(facts)
    tables = _tables()
    directory = _directory()
    try:
        settings = load(PlatformSettings)
    except ValidationError as exc:
        raise CommandError(f"invalid CASEREG_* settings: {exc}") from None

    events = run_async(lambda: _case_events(settings, case_id))
    petition = _petition(case_id, events)
    try:
        proposal = propose(petition, stated, directory, tables)
    except NoRuleMatched as exc:
        raise CommandError(f"case {case_id!r}: {exc} (the rule tables have a gap)") from None

    def name(agency: str) -> str | None:
        if agency in {b.id for b in tables.competence.external.values()}:
            return next(b.name for b in tables.competence.external.values() if b.id == agency)
        try:
            return directory.agency_by_id(agency).name
        except NotFound:
            return None

    for line in [*explain_lines(case_id, petition, proposal, name), *_stored(events)]:
        typer.echo(line)


def rules(
    on: Annotated[
        str | None, typer.Option("--on", metavar="YYYY-MM-DD", help="Only the rows in force on this day.")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Every version of every row (the default is today's).")] = False,
) -> None:
    """List the rule tables: periods, classification, competence and first-handling rules with their articles."""
    if on is not None and every:
        raise CommandError("give either --on DATE or --all, not both")
    day: date | None
    if every:
        day = None
    elif on is not None:
        try:
            day = date.fromisoformat(on)
        except ValueError:
            raise CommandError(f"--on {on!r} is not a date (YYYY-MM-DD)") from None
    else:
        day = datetime.now(VIETNAM).date()
    for line in rules_lines(_tables(), day):
        typer.echo(line)


P = ParamSpec("P")


def _errors(command: Callable[P, None]) -> Callable[P, None]:
    """A command whose :class:`CommandError` is one red line and exit code 1, not a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except CommandError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None

    return run


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Routing: classification, competence and proposed outcomes.", no_args_is_help=True)
    app.add_typer(group, name="routing")
    group.command("explain")(_errors(explain))
    group.command("rules")(_errors(rules))
