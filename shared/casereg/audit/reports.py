"""Whole-province reports over the services' read models: ``overdue``, ``open`` and ``by-unit``.

The same queries run on the live read models (``casereg report``) and on read models rebuilt from the log up to
a point (``casereg replay --as-of``), so "as of S" and "live at S" are one piece of code. A source maps each
table name to the engine holding it and the table itself (live tables, or their copies in a replay database).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa

#: Case statuses after which nothing more is owed (the case left the province's registry or was settled).
FINISHED = frozenset({"guided", "returned", "archived", "transferred", "refused", "closed", "withdrawn"})
REPORTS = ("overdue", "open", "by-unit")
#: The read-model tables each report reads (a replay rebuilds only the projections owning them).
TABLES_OF = {"overdue": ("deadlines", "escalation_cases"), "open": ("cases",), "by-unit": ("cases",)}

Source = Mapping[str, tuple[sa.Engine, sa.Table]]


@dataclass(frozen=True)
class Report:
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def write_csv(self, out: IO[str]) -> None:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([_cell(v) for v in row] for row in self.rows)

    def save(self, path: Path) -> None:
        with path.open("w", encoding="utf-8", newline="") as f:
            self.write_csv(f)


def _cell(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _table(source: Source, name: str) -> tuple[sa.Engine, sa.Table]:
    try:
        return source[name]
    except KeyError:
        raise LookupError(f"no read model holds table {name!r} (is its service installed?)") from None


def _run(name: str, engine: sa.Engine, query: sa.Select[Any]) -> Report:
    with engine.connect() as conn:
        result = conn.execute(query)
        columns = tuple(result.keys())
        rows = tuple(tuple(_cell(v) for v in r) for r in result.all())
    return Report(name, columns, rows)


def overdue(source: Source, on: date) -> Report:
    """Running deadlines (escalation's due-date table) whose due day is before ``on``."""
    engine, d = _table(source, "deadlines")
    _, c = _table(source, "escalation_cases")
    query = (
        sa.select(d.c.case_id, c.c.unit_code, c.c.agency, d.c.clock, d.c.due, d.c.owed_by, d.c.rule_id, d.c.article)
        .select_from(d.outerjoin(c, c.c.case_id == d.c.case_id))
        .where(d.c.state == "running", d.c.due.is_not(None), d.c.due < on)
        .order_by(d.c.due, d.c.case_id, d.c.clock)
    )
    return _run("overdue", engine, query)


def open_cases(source: Source) -> Report:
    """Cases of the registry (intake's read model) not finished."""
    engine, c = _table(source, "cases")
    query = (
        sa.select(
            c.c.case_id, c.c.receipt_no, c.c.received_by, c.c.received_on, c.c.handling_agency, c.c.unit_code,
            c.c.kind, c.c.status,
        )
        .where(c.c.status.not_in(sorted(FINISHED)))
        .order_by(c.c.received_on, c.c.case_id)
    )  # fmt: skip
    return _run("open", engine, query)


def by_unit(source: Source) -> Report:
    """Cases per administrative unit (commune/ward), kind and status."""
    engine, c = _table(source, "cases")
    count = sa.func.count().label("cases")
    query = (
        sa.select(c.c.unit_code, c.c.kind, c.c.status, count)
        .group_by(c.c.unit_code, c.c.kind, c.c.status)
        .order_by(c.c.unit_code, c.c.kind, c.c.status)
    )
    return _run("by-unit", engine, query)


def report(name: str, source: Source, on: date) -> Report:
    if name == "overdue":
        return overdue(source, on)
    if name == "open":
        return open_cases(source)
    if name == "by-unit":
        return by_unit(source)
    raise ValueError(f"unknown report {name!r}: one of {', '.join(REPORTS)}")


def render(rep: Report) -> str:
    """A plain text table (columns separated by two spaces)."""
    cells: Sequence[Sequence[str]] = [rep.columns, *[[str(v) for v in row] for row in rep.rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(rep.columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return "\n".join([*lines, f"({len(rep.rows)} rows)"])
