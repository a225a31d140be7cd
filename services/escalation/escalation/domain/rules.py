"""The legal rule table (DOMAIN: "a rule table, not code branches"), validated when it is loaded.

Each clock names the events that start, pause, resume, extend, reclassify and stop it, and has one or more
versions of the law, each with an effective-from date, a unit, its lengths by case attributes and its article.
``applies_by`` says which date picks the version: the day the agency received the petition, or the day of the
starting event. Suspension rules are chosen by the day of the suspension (transitional provisions apply them to
cases already accepted: Decree 155/2026 Art. 22(1)).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from escalation.domain.counting import Unit


class UnknownClock(LookupError):
    pass


class Attribute(StrEnum):
    COMPLICATED = "complicated"
    ESPECIALLY_COMPLICATED = "especially_complicated"
    REMOTE = "remote"  # vùng sâu, vùng xa đi lại khó khăn
    SEVERAL_PLACES = "several_places"  # verification at several places (LTC Art. 24(1))


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Attributes(_Model):
    """A case's attributes that lengthen a period. Especially complicated implies complicated."""

    complicated: bool = False
    especially_complicated: bool = False
    remote: bool = False
    several_places: bool = False

    def active(self) -> frozenset[Attribute]:
        found = {Attribute(name) for name in Attribute if getattr(self, name.value)}
        if Attribute.ESPECIALLY_COMPLICATED in found:
            found.add(Attribute.COMPLICATED)
        return frozenset(found)


class Length(_Model):
    """The period when every attribute in ``when`` holds (no attribute: the normal length)."""

    when: frozenset[Attribute] = frozenset()
    days: int = Field(ge=1)


class Extension(_Model):
    """Lawful extensions: each adds up to ``days``; how many depends on the attributes (the largest that holds)."""

    days: int = Field(ge=1)
    max: dict[Attribute, int]
    article: str

    def allowed(self, attributes: Attributes) -> int:
        active = attributes.active()
        return max((n for attribute, n in self.max.items() if attribute in active), default=0)


class RuleVersion(_Model):
    rule_id: str = Field(pattern=r"^[a-z0-9_.-]+$")
    version: int = Field(ge=1, description="Revision of this entry's data; bumped when a reading is corrected")
    effective_from: date
    unit: Unit
    lengths: tuple[Length, ...] = Field(min_length=1)
    extension: Extension | None = None
    article: str
    unconfirmed: str | None = Field(default=None, description="What is not confirmed against the legal text")
    note: str | None = None

    @model_validator(mode="after")
    def _lengths(self) -> Self:
        conditions = [length.when for length in self.lengths]
        if len(set(conditions)) != len(conditions):
            raise ValueError(f"{self.rule_id}: two lengths for the same attributes")
        if frozenset() not in conditions:
            raise ValueError(f"{self.rule_id}: no normal length (a length without `when`)")
        return self

    def length(self, attributes: Attributes) -> int:
        """The most specific length whose attributes all hold (on a tie, the longest)."""
        active = attributes.active()
        fitting = [length for length in self.lengths if length.when <= active]
        return max(fitting, key=lambda length: (len(length.when), length.days)).days


class PauseRule(_Model):
    """What a suspension does: ``continue`` counts the days left from the resumption, ``restart`` the whole period."""

    effective_from: date
    mode: Literal["continue", "restart"]
    article: str
    unconfirmed: str | None = None


class ClockRule(_Model):
    id: str = Field(pattern=r"^[a-z_]+(\.[a-z_]+)*$")
    title: str
    counts_from: str = Field(description="What the period counts from, in words")
    owed_by: Literal["agency", "citizen"] = Field(
        description="agency: an authority's duty (warn, escalate); citizen: a limitation period (inform only)"
    )
    applies_by: Literal["receipt", "start"]
    kinds: tuple[str, ...] = Field(default=(), description="Petition kinds it applies to; empty: every kind")
    rounds: tuple[int, ...] = Field(default=(), description="Complaint rounds it applies to; empty: every round")
    start: tuple[str, ...] = ()
    start_from: Literal["event", "receipt"] = "event"
    start_if_present: tuple[str, ...] = Field(default=(), description="Payload fields that must be set")
    start_if_equals: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    pause: tuple[str, ...] = ()
    resume: tuple[str, ...] = ()
    extend: tuple[str, ...] = ()
    reclassify: tuple[str, ...] = ()
    stop: tuple[str, ...] = ()
    versions: tuple[RuleVersion, ...] = Field(min_length=1)
    pauses: tuple[PauseRule, ...] = ()
    note: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        starts = [v.effective_from for v in self.versions]
        if starts != sorted(set(starts)):
            raise ValueError(f"{self.id}: versions must be in order of distinct effective-from dates")
        pause_starts = [p.effective_from for p in self.pauses]
        if pause_starts != sorted(set(pause_starts)):
            raise ValueError(f"{self.id}: suspension rules must be in order of distinct effective-from dates")
        if bool(self.pause) != bool(self.resume) or bool(self.pause) != bool(self.pauses):
            raise ValueError(f"{self.id}: pause and resume events and suspension rules go together")
        if self.extend and not any(v.extension for v in self.versions):
            raise ValueError(f"{self.id}: extend events without any lawful extension")
        return self

    def version_on(self, law_date: date) -> RuleVersion | None:
        """The version in force on ``law_date`` (None before the first one)."""
        found = None
        for version in self.versions:
            if version.effective_from <= law_date:
                found = version
        return found

    def pause_rule_on(self, day: date) -> PauseRule | None:
        found = None
        for rule in self.pauses:
            if rule.effective_from <= day:
                found = rule
        return found


class RuleTable(_Model):
    format: Literal[1]
    version: str = Field(description="Version of the table file as a whole")
    clocks: tuple[ClockRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [c.id for c in self.clocks]
        if len(set(ids)) != len(ids):
            raise ValueError("two clocks with the same id")
        rule_ids = [v.rule_id for c in self.clocks for v in c.versions]
        if len(set(rule_ids)) != len(rule_ids):
            raise ValueError("two rule versions with the same rule_id")
        return self

    def clock(self, clock_id: str) -> ClockRule:
        for clock in self.clocks:
            if clock.id == clock_id:
                return clock
        raise UnknownClock(f"unknown clock {clock_id!r}; known: {', '.join(c.id for c in self.clocks)}")
