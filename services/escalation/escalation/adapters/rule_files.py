"""Reading the rule table and the calendar corrections at start-up (TOML files, validated with pydantic)."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from datetime import date
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from escalation.domain.calendar import WorkingCalendar
from escalation.domain.rules import RuleTable
from escalation.settings import EscalationSettings


class RuleFileError(ValueError):
    """A rule or calendar file that cannot be read or is not valid; the message names the file."""


class _Day(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    date: date
    note: str


class CalendarFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    format: Literal[1]
    days_off: tuple[_Day, ...] = ()
    working_days: tuple[_Day, ...] = ()


def _read(path: Path | None, shipped: str) -> tuple[str, dict[str, object]]:
    try:
        if path is None:
            name = f"escalation/rules/{shipped}"
            text = files("escalation.rules").joinpath(shipped).read_text(encoding="utf-8")
        else:
            name = str(path)
            text = path.read_text(encoding="utf-8")
        return name, tomllib.loads(text)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RuleFileError(f"{path or shipped}: {exc}") from None


def load_rule_table(path: Path | None = None) -> RuleTable:
    name, data = _read(path, "clocks.toml")
    try:
        return RuleTable.model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(f"{name}: {exc}") from None


def load_calendar(
    path: Path | None = None,
    local_days_off: Iterable[date] = (),
    local_working_days: Iterable[date] = (),
) -> WorkingCalendar:
    name, data = _read(path, "calendar.toml")
    try:
        corrections = CalendarFile.model_validate(data)
    except ValidationError as exc:
        raise RuleFileError(f"{name}: {exc}") from None
    days_off = {d.date: d.note for d in corrections.days_off}
    working = {d.date: d.note for d in corrections.working_days}
    days_off.update({d: "local day off" for d in local_days_off})
    working.update({d: "local working day" for d in local_working_days})
    try:
        return WorkingCalendar(days_off=days_off, working_days=working)
    except ValueError as exc:
        raise RuleFileError(f"{name} and local settings: {exc}") from None


def load_from_settings(settings: EscalationSettings) -> tuple[RuleTable, WorkingCalendar]:
    return (
        load_rule_table(settings.rules_file),
        load_calendar(settings.calendar_file, settings.local_days_off, settings.local_working_days),
    )
