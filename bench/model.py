"""What a scenario is and what it reports: rows of (project, raw) figures with goals.

A scenario module in :mod:`bench.scenarios` defines ``SCENARIO = Scenario(...)``. With ``run=None`` it is listed
as not yet measurable (its services do not exist); giving it a ``run`` function is all it takes to measure it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from bench.servers import BenchServer

Profile = Literal["full", "quick", "smoke"]
PROFILES: tuple[Profile, ...] = ("full", "quick", "smoke")


class Status(StrEnum):
    RAN = "ran"
    NOT_YET = "not_yet"
    FAILED = "failed"


@dataclass(frozen=True)
class Goal:
    """One target of a row. ``min_ratio``: ratio ≥ threshold; ``max_value``/``min_value``: on the project figure."""

    kind: Literal["min_ratio", "max_value", "min_value"]
    threshold: float
    text: str

    def met(self, row: Row) -> bool | None:
        if self.kind == "min_ratio":
            ratio = row.ratio
            return None if ratio is None else ratio >= self.threshold
        if row.project is None:
            return None
        if self.kind == "max_value":
            return row.project < self.threshold
        return row.project >= self.threshold

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "threshold": self.threshold, "text": self.text}


def min_ratio(threshold: float) -> Goal:
    return Goal("min_ratio", threshold, f"≥ {threshold:g}×")


def max_value(threshold: float, unit: str) -> Goal:
    return Goal("max_value", threshold, f"< {threshold:g} {unit}")


def min_value(threshold: float, unit: str) -> Goal:
    return Goal("min_value", threshold, f"≥ {threshold:g} {unit}")


@dataclass
class Row:
    """One line of the table.

    ``ratio`` is always *project speed ÷ raw speed*: project/raw for throughputs, raw/project for latencies, so
    1.0 means "as fast as the raw building block" in every row.
    """

    label: str
    unit: str
    project: float | None
    raw: float | None = None
    higher_is_better: bool = True
    goals: tuple[Goal, ...] = ()
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.project is None or self.raw is None or self.project <= 0 or self.raw <= 0:
            return None
        value = self.project / self.raw if self.higher_is_better else self.raw / self.project
        return value if math.isfinite(value) else None

    @property
    def met(self) -> bool | None:
        """True/False when every goal could be judged; None without goals or figures."""
        results = [g.met(self) for g in self.goals]
        if not results or any(r is None for r in results):
            return None
        return all(results)

    @property
    def goal_text(self) -> str:
        return " and ".join(g.text for g in self.goals)

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "unit": self.unit,
            "project": self.project,
            "raw": self.raw,
            "ratio": self.ratio,
            "higher_is_better": self.higher_is_better,
            "goals": [g.as_json() for g in self.goals],
            "goal": self.goal_text,
            "met": self.met,
            "note": self.note,
            "details": self.details,
        }


@dataclass
class Outcome:
    """What a scenario's run returns: its rows and anything worth keeping about how they were measured."""

    rows: list[Row]
    details: dict[str, Any] = field(default_factory=dict)


class Reporter:
    """Progress lines on long phases (the CLI prints them; tests keep them quiet)."""

    def __init__(self, emit: Callable[[str], None] | None = None) -> None:
        self._emit = emit

    def __call__(self, message: str) -> None:
        if self._emit is not None:
            self._emit(message)


@dataclass
class RunContext:
    """What every scenario gets: the size profile, a scratch directory, PostgreSQL, progress output."""

    profile: Profile
    work_dir: Path
    pg_url: str | None
    progress: Reporter = field(default_factory=Reporter)
    seed: int = 12
    #: ``/varz`` of every nats-server a scenario started (for the versions in the results).
    servers_seen: list[Mapping[str, Any]] = field(default_factory=list)

    def scratch(self, name: str) -> Path:
        path = self.work_dir / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def server(self, name: str, *, sync_always: bool) -> BenchServer:
        """A fresh nats-server with the project's generated configuration under ``work_dir/name``."""
        from bench.servers import BenchServer

        return BenchServer(self, self.scratch(name), sync_always=sync_always)


RunFn = Callable[[RunContext], Coroutine[Any, Any, Outcome]]


@dataclass(frozen=True)
class Scenario:
    number: int
    key: str
    title: str
    goal: str
    run: RunFn | None = None
    #: Services a scenario needs that do not exist yet (shown while ``run`` is None).
    needs: tuple[str, ...] = ()

    @property
    def not_yet_text(self) -> str:
        return "not yet: needs " + "/".join(self.needs) if self.needs else "not yet"


@dataclass
class ScenarioResult:
    scenario: Scenario
    status: Status
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0
    error: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "number": self.scenario.number,
            "key": self.scenario.key,
            "title": self.scenario.title,
            "goal": self.scenario.goal,
            "status": self.status.value,
            "needs": list(self.scenario.needs),
            "note": self.scenario.not_yet_text if self.status is Status.NOT_YET else "",
            "error": self.error,
            "elapsed_s": round(self.elapsed_s, 3),
            "rows": [r.as_json() for r in self.rows],
            "details": self.details,
        }
