"""``casereg deadline``: a clock's due date and the rule that produced it, computed from the rule table.

Contract (issue 8, kept stable): ``casereg deadline CLOCK --from YYYY-MM-DD [--complicated]
[--especially-complicated] [--remote] [--extensions N] [--law-date YYYY-MM-DD] [--json]`` and
``casereg deadline --list``. ``--several-places`` is an addition (denunciation.intake's 10 working days).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer
from casereg.settings import load
from pydantic import ValidationError

from escalation.adapters.rule_files import RuleFileError, load_from_settings
from escalation.domain.calendar import WorkingCalendar
from escalation.domain.counting import Unit
from escalation.domain.deadlines import Deadline, NoRuleInForce, UnlawfulExtension, due_date
from escalation.domain.rules import Attribute, Attributes, RuleTable, UnknownClock
from escalation.settings import EscalationSettings


class _Fail(Exception):
    pass


def _date(option: str, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _Fail(f"{option} {value!r} is not a date (YYYY-MM-DD)") from None


def _rules() -> tuple[RuleTable, WorkingCalendar]:
    try:
        return load_from_settings(load(EscalationSettings))
    except ValidationError as exc:
        raise _Fail(f"escalation settings: {exc}") from None
    except RuleFileError as exc:
        raise _Fail(str(exc)) from None


def _when(attributes: frozenset[Attribute]) -> str:
    return "+".join(sorted(a.value for a in attributes)) or "normal"


def _listing(table: RuleTable) -> list[dict[str, Any]]:
    return [
        {
            "clock": clock.id,
            "title": clock.title,
            "counts_from": clock.counts_from,
            "owed_by": clock.owed_by,
            "applies_by": clock.applies_by,
            "versions": [
                {
                    "rule_id": v.rule_id,
                    "rule_version": v.version,
                    "effective_from": v.effective_from.isoformat(),
                    "unit": v.unit.value,
                    "days": {_when(length.when): length.days for length in v.lengths},
                    "article": v.article,
                }
                for v in clock.versions
            ],
        }
        for clock in table.clocks
    ]


def _print_list(table: RuleTable) -> None:
    for clock in table.clocks:
        typer.echo(f"{clock.id}: {clock.title}, from {clock.counts_from}")
        for v in clock.versions:
            days = ", ".join(f"{_when(length.when)} {length.days}" for length in v.lengths)
            typer.echo(f"    from {v.effective_from.isoformat()}: {days} {v.unit.value} days; {v.article}")


def _as_json(d: Deadline, attributes: Attributes) -> dict[str, Any]:
    return {
        "clock": d.clock,
        "from": d.start.isoformat(),
        "due": d.due.isoformat(),
        "unit": d.unit.value,
        "days": d.days,
        "rule_id": d.rule_id,
        "rule_version": d.rule_version,
        "article": d.article,
        "effective_from": d.effective_from.isoformat(),
        "law_date": d.law_date.isoformat(),
        "applies_by": d.applies_by,
        "owed_by": d.owed_by,
        "extensions": d.extensions,
        "attributes": sorted(a.value for a in attributes.active()),
        "last_day_before_roll_forward": d.raw_last_day.isoformat(),
        "unconfirmed": d.unconfirmed,
    }


def _print(d: Deadline, calendar: WorkingCalendar) -> None:
    typer.echo(f"{d.clock}: due {d.due.isoformat()} ({d.due:%A}), the period ends at the end of that day")
    if d.unit is Unit.CALENDAR:
        typer.echo(f"  {d.days} calendar days from {d.start.isoformat()} (not counted), Civil Code Arts. 147-148")
        if d.raw_last_day != d.due:
            reason = calendar.info(d.raw_last_day).reason
            typer.echo(f"  last day {d.raw_last_day.isoformat()} is not a working day ({reason}): next working day")
    else:
        typer.echo(f"  {d.days} working days after {d.start.isoformat()}")
    extended = f", {d.extensions} extension(s)" if d.extensions else ""
    typer.echo(f"  rule {d.rule_id} v{d.rule_version}: {d.article}{extended}")
    typer.echo(f"  in force from {d.effective_from.isoformat()}, chosen by the law date {d.law_date.isoformat()}")
    if d.unconfirmed:
        typer.echo(f"  unconfirmed: {d.unconfirmed}")


def register(app: typer.Typer) -> None:
    @app.command("deadline")
    def deadline(
        clock: Annotated[str | None, typer.Argument(help="Clock id (see --list)")] = None,
        start: Annotated[
            str | None, typer.Option("--from", help="Start day YYYY-MM-DD (receipt, acceptance...; not counted)")
        ] = None,
        complicated: Annotated[bool, typer.Option("--complicated", help="Complicated case")] = False,
        especially: Annotated[
            bool, typer.Option("--especially-complicated", help="Especially complicated (2+ criteria)")
        ] = False,
        remote: Annotated[bool, typer.Option("--remote", help="Remote, hard-to-reach area")] = False,
        several_places: Annotated[
            bool, typer.Option("--several-places", help="Verification at several places (denunciation.intake)")
        ] = False,
        extensions: Annotated[int, typer.Option("--extensions", min=0, help="Lawful extensions granted")] = 0,
        law_date: Annotated[
            str | None, typer.Option("--law-date", help="Pick the law version in force that day (default: --from)")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
        list_: Annotated[bool, typer.Option("--list", help="List the clocks and their rule versions")] = False,
    ) -> None:
        """Print a legal clock's due date and the rule that produced it (or --list the clocks)."""
        try:
            table, calendar = _rules()
            if list_:
                if as_json:
                    typer.echo(json.dumps(_listing(table), ensure_ascii=False, indent=2))
                else:
                    _print_list(table)
                return
            if clock is None:
                raise _Fail("name a clock (see `casereg deadline --list`)")
            if start is None:
                raise _Fail("--from YYYY-MM-DD is required")
            attributes = Attributes(
                complicated=complicated,
                especially_complicated=especially,
                remote=remote,
                several_places=several_places,
            )
            result = due_date(
                table,
                calendar,
                clock,
                _date("--from", start),
                attributes,
                extensions=extensions,
                law_date=_date("--law-date", law_date) if law_date else None,
            )
        except (_Fail, UnknownClock, NoRuleInForce, UnlawfulExtension) as exc:
            message = exc.args[0] if exc.args else str(exc)
            typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        if as_json:
            typer.echo(json.dumps(_as_json(result, attributes), ensure_ascii=False))
        else:
            _print(result, calendar)
