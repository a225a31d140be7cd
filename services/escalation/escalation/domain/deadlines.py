"""A clock's due date: (clock, start, attributes, extensions, law date) -> due date and the rule that produced it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from escalation.domain.calendar import WorkingCalendar
from escalation.domain.counting import Unit, last_day, raw_last_day
from escalation.domain.rules import Attributes, ClockRule, RuleTable, RuleVersion


class NoRuleInForce(LookupError):
    pass


class UnlawfulExtension(ValueError):
    pass


class Deadline(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    clock: str
    start: date = Field(description="The start day (not counted)")
    due: date = Field(description="The last day: the period ends at the end of it")
    raw_last_day: date = Field(description="The last day before the Civil Code roll-forward")
    unit: Unit
    days: int = Field(description="The period's length, extensions included")
    extensions: int
    rule_id: str
    rule_version: int
    article: str
    effective_from: date
    law_date: date
    applies_by: str
    owed_by: str
    unconfirmed: str | None = None


def period_days(rule: ClockRule, version: RuleVersion, attributes: Attributes, extensions: int) -> int:
    """The period's length with ``extensions`` lawful extensions of full length (raises when not lawful)."""
    days = version.length(attributes)
    if extensions < 0:
        raise UnlawfulExtension("the number of extensions cannot be negative")
    if extensions:
        if version.extension is None:
            raise UnlawfulExtension(f"{rule.id} has no lawful extension ({version.article})")
        allowed = version.extension.allowed(attributes)
        if extensions > allowed:
            raise UnlawfulExtension(
                f"{rule.id} allows {allowed} extension(s) for these attributes, not {extensions} "
                f"({version.extension.article})"
            )
        days += extensions * version.extension.days
    return days


def version_in_force(rule: ClockRule, law_date: date) -> RuleVersion:
    version = rule.version_on(law_date)
    if version is None:
        raise NoRuleInForce(f"no version of {rule.id} in force on {law_date.isoformat()}")
    return version


def due_date(
    table: RuleTable,
    calendar: WorkingCalendar,
    clock: str,
    start: date,
    attributes: Attributes | None = None,
    *,
    extensions: int = 0,
    law_date: date | None = None,
) -> Deadline:
    """The due date of ``clock`` started on ``start``; the law version is the one in force on ``law_date``
    (default: ``start``)."""
    rule = table.clock(clock)
    attributes = attributes or Attributes()
    law_date = law_date or start
    version = version_in_force(rule, law_date)
    days = period_days(rule, version, attributes, extensions)
    return Deadline(
        clock=rule.id,
        start=start,
        due=last_day(calendar, start, days, version.unit),
        raw_last_day=raw_last_day(calendar, start, days, version.unit),
        unit=version.unit,
        days=days,
        extensions=extensions,
        rule_id=version.rule_id,
        rule_version=version.version,
        article=version.article,
        effective_from=version.effective_from,
        law_date=law_date,
        applies_by=rule.applies_by,
        owed_by=rule.owed_by,
        unconfirmed=version.unconfirmed,
    )
