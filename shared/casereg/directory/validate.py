"""Consistency rules of the directory, as a pure function over its records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from casereg.directory.model import (
    SINGLE_KINDS,
    Agency,
    Level,
    Origin,
    Period,
    RemoteDifficult,
    Succession,
    Unit,
    day_before,
)
from casereg.directory.problems import Problem


def _at(origin: Origin | None) -> str:
    return f" (first at {origin})" if origin else ""


def _overlaps(items: Sequence[tuple[Period, Origin | None]], what: str, same: str) -> list[Problem]:
    """Pairs of one group whose periods overlap: an identical period is a duplicate, any other overlap is reported."""
    problems: list[Problem] = []
    for i, (period, origin) in enumerate(items):
        for other_period, other_origin in items[:i]:
            if period == other_period:
                problems.append(Problem(f"duplicate {what} {same}{_at(other_origin)}", origin))
            elif period.overlaps(other_period):
                problems.append(
                    Problem(
                        f"overlapping validity: {what} {same} over {period} overlaps {other_period}{_at(other_origin)}",
                        origin,
                    )
                )
    return problems


def _covered(versions: Iterable[Unit], period: Period, level: Level | None = None) -> bool:
    return any(v.period.covers(period) and (level is None or v.level is level) for v in versions)


def validate_units(units: Sequence[Unit]) -> list[Problem]:
    problems: list[Problem] = []
    by_code: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        by_code[unit.code].append(unit)
    for code, versions in by_code.items():
        problems += _overlaps([(u.period, u.origin) for u in versions], "code", code)
    for unit in units:
        if unit.parent is None:
            continue
        parents = by_code.get(unit.parent, [])
        allowed = {Level.PROVINCE} if unit.level is Level.DISTRICT else {Level.DISTRICT, Level.PROVINCE}
        if not any(p.period.covers(unit.period) and p.level in allowed for p in parents):
            problems.append(
                Problem(
                    f"unit {unit.code}: parent {unit.parent} is not a unit in force over {unit.period}", unit.origin
                )
            )
    return problems


def _chain_loops(agency: Agency, by_id: dict[str, Agency]) -> bool:
    seen = {agency.id}
    current = agency
    while current.supervisor is not None and current.supervisor in by_id:
        if current.supervisor in seen:
            return True
        seen.add(current.supervisor)
        current = by_id[current.supervisor]
    return False


def validate_agencies(agencies: Sequence[Agency], units: Sequence[Unit]) -> list[Problem]:
    problems: list[Problem] = []
    by_id: dict[str, Agency] = {}
    for agency in agencies:
        if agency.id in by_id:
            first = by_id[agency.id]
            problems.append(Problem(f"duplicate agency id {agency.id}{_at(first.origin)}", agency.origin))
        else:
            by_id[agency.id] = agency
    unit_versions: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        unit_versions[unit.code].append(unit)
    single: dict[tuple[str, str], list[Agency]] = defaultdict(list)
    for agency in agencies:
        if not _covered(unit_versions.get(agency.unit, []), agency.period, agency.level):
            problems.append(
                Problem(
                    f"agency {agency.id}: unit {agency.unit} is not a {agency.level.value} "
                    f"in force over {agency.period}",
                    agency.origin,
                )
            )
        if agency.supervisor is not None:
            supervisor = by_id.get(agency.supervisor)
            if supervisor is None:
                problems.append(Problem(f"agency {agency.id}: unknown supervisor {agency.supervisor}", agency.origin))
            elif supervisor.id == agency.id:
                problems.append(Problem(f"agency {agency.id} supervises itself", agency.origin))
            elif not supervisor.period.covers(agency.period):
                problems.append(
                    Problem(
                        f"agency {agency.id} over {agency.period}: supervisor {supervisor.id} is in force only over "
                        f"{supervisor.period}",
                        agency.origin,
                    )
                )
            elif _chain_loops(agency, by_id):
                problems.append(Problem(f"agency {agency.id}: the chain of supervisors loops", agency.origin))
        if agency.kind in SINGLE_KINDS:
            single[(agency.unit, agency.kind.value)].append(agency)
    for (code, kind), group in single.items():
        problems += _overlaps([(a.period, a.origin) for a in group], f"{kind} of unit", code)
    return problems


def validate_successions(successions: Sequence[Succession], units: Sequence[Unit]) -> list[Problem]:
    problems: list[Problem] = []
    versions: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        versions[unit.code].append(unit)
    seen: dict[tuple[str, str, str, date], Succession] = {}
    for s in successions:
        key = (s.level.value, s.old_code, s.new_code, s.effective)
        if key in seen:
            problems.append(
                Problem(f"duplicate succession {s.old_code} -> {s.new_code}{_at(seen[key].origin)}", s.origin)
            )
            continue
        seen[key] = s
        before = day_before(s.effective)
        if not any(u.level is s.level and u.period.contains(before) for u in versions.get(s.old_code, [])):
            problems.append(
                Problem(f"succession: old {s.level.value} {s.old_code} is not in force on {before}", s.origin)
            )
        if not any(u.level is s.level and u.period.contains(s.effective) for u in versions.get(s.new_code, [])):
            problems.append(
                Problem(f"succession: new {s.level.value} {s.new_code} is not in force on {s.effective}", s.origin)
            )
    return problems


def validate_remote_difficult(flags: Sequence[RemoteDifficult], units: Sequence[Unit]) -> list[Problem]:
    problems: list[Problem] = []
    versions: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        versions[unit.code].append(unit)
    by_code: dict[str, list[RemoteDifficult]] = defaultdict(list)
    for flag in flags:
        by_code[flag.code].append(flag)
        if not _covered(versions.get(flag.code, []), flag.period):
            problems.append(
                Problem(f"remote_difficult: unit {flag.code} is not one unit in force over {flag.period}", flag.origin)
            )
    for code, group in by_code.items():
        problems += _overlaps([(f.period, f.origin) for f in group], "remote_difficult row for unit", code)
    return problems


def validate(
    units: Sequence[Unit],
    agencies: Sequence[Agency] = (),
    successions: Sequence[Succession] = (),
    remote_difficult: Sequence[RemoteDifficult] = (),
) -> list[Problem]:
    """Every problem with these records taken together; empty when they make a consistent directory."""
    return [
        *validate_units(units),
        *validate_agencies(agencies, units),
        *validate_successions(successions, units),
        *validate_remote_difficult(remote_difficult, units),
    ]
