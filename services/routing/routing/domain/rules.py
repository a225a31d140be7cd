"""The rule tables as data: classification, handling and competence rules, and periods, each effective-dated.

Every row has an id, a version and the article it applies. A row is in force over
``[effective_from, effective_to]`` (both inclusive, either open); a new reading of the law is a new version of
the same id with its own dates, never an edit of the old row, so a case keeps the rule it was routed by. Which
rows are in force is chosen by the petition's receipt date (``received_on``).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Generic, TypeVar

from casereg.directory.model import AgencyKind, Level
from intake.domain.model import PetitionKind, RefusalGround
from pydantic import BaseModel, ConfigDict, Field, model_validator

from routing.domain.model import DenouncedRole, FlagKind, Procedure, ProposedOutcome, RuleRef

RULE_ID = r"^[a-z0-9][a-z0-9.\-]*$"


class _Rule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=RULE_ID)
    version: int = Field(ge=1)
    article: str = Field(min_length=1, max_length=200)
    unconfirmed: bool = Field(default=False, description="The article or reading is not confirmed (DOMAIN.md)")
    note: str = ""
    effective_from: date | None = None
    effective_to: date | None = None

    @model_validator(mode="after")
    def _period(self) -> _Rule:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError(f"rule {self.id} v{self.version} ends before it starts")
        return self

    def in_force(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.id, self.version, self.article, self.unconfirmed)

    @property
    def period(self) -> str:
        return f"{self.effective_from or '…'} – {self.effective_to or '…'}"


class Target(StrEnum):
    """Where a competence rule points, starting from the agency the petition is about."""

    SELF = "self"  # that agency (its head when ``head``)
    SUPERIOR = "superior"  # its direct superior in the directory (its head when ``head``)
    PROVINCE = "province"  # the province's chairman
    RECEIVER = "receiver"  # the agency that received the petition
    EXTERNAL = "external"  # a body outside the province directory (``external`` names it)


class Destination(StrEnum):
    """Who a handling outcome goes to."""

    COMPETENT = "competent"
    RECEIVER = "receiver"
    FORWARDER = "forwarder"
    EXTERNAL = "external"
    NONE = "none"


class ClassificationRule(_Rule):
    check: str
    result: PetitionKind | None = Field(default=None, description="None: the declared kind stands")


class HandlingRule(_Rule):
    check: str
    outcome: ProposedOutcome
    procedure: Procedure = Procedure.NONE
    ground: RefusalGround | None = None
    to: Destination = Destination.NONE
    external: str | None = None
    flags: tuple[FlagKind, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> HandlingRule:
        if (self.outcome is ProposedOutcome.REFUSE) != (self.ground is not None):
            raise ValueError(f"rule {self.id}: a refusal needs a ground, and only a refusal has one")
        if (self.to is Destination.EXTERNAL) != (self.external is not None):
            raise ValueError(f"rule {self.id}: 'external' names the body exactly when to = 'external'")
        return self


class PeriodRule(_Rule):
    days: int = Field(ge=1)
    remote_days: int | None = Field(default=None, ge=1, description="In remote or difficult areas")


class CompetenceRule(_Rule):
    kinds: tuple[PetitionKind, ...] = Field(min_length=1)
    rounds: tuple[int, ...] = ()
    levels: tuple[Level, ...] = ()
    agency_kinds: tuple[AgencyKind, ...] = ()
    denounced: tuple[DenouncedRole, ...] = ()
    concerned: bool = Field(default=True, description="False: applies when the petition names no agency")
    target: Target
    head: bool = Field(default=True, description="Resolve a People's Committee to its chairman")
    external: str | None = None

    @model_validator(mode="after")
    def _external(self) -> CompetenceRule:
        if self.target is Target.EXTERNAL and self.external is None:
            raise ValueError(f"rule {self.id}: target 'external' needs 'external'")
        return self


class ExternalBody(BaseModel):
    """A competent body outside the province directory; ``id`` is what ``to_agency`` carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^external/[a-z0-9\-]+$")
    name: str
    unconfirmed: bool = False


R = TypeVar("R", bound=_Rule)


def _check_versions(rows: Sequence[_Rule], what: str) -> None:
    """Rows of one id are distinct versions whose periods do not overlap."""
    by_id: dict[str, list[_Rule]] = defaultdict(list)
    for row in rows:
        by_id[row.id].append(row)
    for rule_id, versions in by_id.items():
        if len({r.version for r in versions}) != len(versions):
            raise ValueError(f"{what} rule {rule_id} has the same version twice")
        spans = sorted(versions, key=lambda r: r.effective_from or date.min)
        for earlier, later in itertools.pairwise(spans):
            if earlier.effective_to is None or (later.effective_from or date.min) <= earlier.effective_to:
                raise ValueError(f"{what} rule {rule_id}: v{earlier.version} and v{later.version} overlap")


@dataclass(frozen=True)
class InForce(Generic[R]):
    rows: tuple[R, ...]

    def on(self, day: date) -> list[R]:
        return [r for r in self.rows if r.in_force(day)]


class CompetenceTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    rule: tuple[CompetenceRule, ...]
    external: dict[str, ExternalBody] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _valid(self) -> CompetenceTable:
        _check_versions(self.rule, "competence")
        for row in self.rule:
            if row.external is not None and row.external not in self.external:
                raise ValueError(f"competence rule {row.id}: unknown external body {row.external!r}")
        return self

    def in_force(self, day: date) -> list[CompetenceRule]:
        return InForce(self.rule).on(day)


class HandlingTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    crowded_people: int = Field(default=5, ge=2, description="Circular 05/2021 Art. 6; LTCD Art. 29")
    repeat_similarity: int = Field(default=85, ge=1, le=100, description="Similarity (0-100) of a repeat")
    classification: tuple[ClassificationRule, ...]
    rule: tuple[HandlingRule, ...]
    period: tuple[PeriodRule, ...] = ()

    @model_validator(mode="after")
    def _valid(self) -> HandlingTable:
        _check_versions(self.classification, "classification")
        _check_versions(self.rule, "handling")
        _check_versions(self.period, "period")
        return self

    def period_on(self, period_id: str, day: date) -> PeriodRule | None:
        return next((p for p in self.period if p.id == period_id and p.in_force(day)), None)


@dataclass(frozen=True)
class RuleTables:
    """Everything routing decides by: the handling table, the competence table and external bodies."""

    handling: HandlingTable
    competence: CompetenceTable

    @property
    def version(self) -> str:
        return f"handling v{self.handling.version}, competence v{self.competence.version}"

    def problems(self, classification_checks: Iterable[str], handling_checks: Iterable[str]) -> list[str]:
        """Rows naming a check the code does not know, or an external body the table does not define."""
        known = {"classification": set(classification_checks), "handling": set(handling_checks)}
        rows: list[tuple[str, ClassificationRule | HandlingRule]] = [
            *(("classification", row) for row in self.handling.classification),
            *(("handling", row) for row in self.handling.rule),
        ]
        out = [
            f"{what} rule {row.id} v{row.version}: unknown check {row.check!r}"
            for what, row in rows
            if row.check not in known[what]
        ]
        out += [
            f"handling rule {row.id} v{row.version}: unknown external body {row.external!r}"
            for row in self.handling.rule
            if row.external is not None and row.external not in self.competence.external
        ]
        return out
