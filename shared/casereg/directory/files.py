"""The directory's files: UTF-8 CSV with a fixed header per kind, one record a line, ``\\n`` line ends.

Reading never stops at the first bad line: every problem is collected with its file and line, so ``casereg
directory check`` can list them all. Writing is deterministic (the caller sorts), so regenerated files compare
byte for byte with the committed ones.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Generic, TypeVar

from casereg.directory.model import (
    CODE_WIDTH,
    UNIT_TYPES,
    Agency,
    AgencyKind,
    Level,
    Origin,
    Period,
    RemoteDifficult,
    Succession,
    Transfer,
    Unit,
)
from casereg.directory.problems import Problem


class FileKind(StrEnum):
    UNITS = "units"
    AGENCIES = "agencies"
    SUCCESSIONS = "successions"
    REMOTE_DIFFICULT = "remote_difficult"


HEADERS: dict[FileKind, tuple[str, ...]] = {
    FileKind.UNITS: ("code", "level", "type", "name", "parent", "valid_from", "valid_to"),
    FileKind.AGENCIES: ("id", "kind", "name", "unit", "level", "supervisor", "valid_from", "valid_to"),
    FileKind.SUCCESSIONS: ("level", "old_code", "new_code", "effective", "transfer"),
    FileKind.REMOTE_DIFFICULT: ("code", "valid_from", "valid_to", "remote_difficult", "basis"),
}

T = TypeVar("T")


@dataclass
class Parsed(Generic[T]):
    records: list[T] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


class RowError(ValueError):
    """A field of one line is malformed; the message names the field."""


def detect(path: Path) -> FileKind:
    """The kind of a directory file, told by its header line."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            header = tuple(next(csv.reader(f), []))
    except (OSError, UnicodeDecodeError) as exc:
        raise RowError(f"{path}: cannot read: {exc}") from None
    for kind, expected in HEADERS.items():
        if header == expected:
            return kind
    known = "; ".join(f"{k.value}: {','.join(h)}" for k, h in HEADERS.items())
    raise RowError(f"{path}:1: unknown header {','.join(header)!r}; a directory file starts with one of: {known}")


# --- fields ----------------------------------------------------------------------------------------------------


def _date(value: str, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError(f"{name} {value!r} is not a date (YYYY-MM-DD)") from None


def _period(row: dict[str, str]) -> Period:
    start, end = _date(row["valid_from"], "valid_from"), _date(row["valid_to"], "valid_to")
    try:
        return Period(start, end)
    except ValueError as exc:
        raise RowError(str(exc)) from None


def _level(value: str) -> Level:
    try:
        return Level(value)
    except ValueError:
        raise RowError(f"level {value!r} is not one of {', '.join(level.value for level in Level)}") from None


def _code(value: str, level: Level, name: str = "code") -> str:
    width = CODE_WIDTH[level]
    if len(value) != width or not value.isdigit():
        raise RowError(f"{name} {value!r} is not a {level.value} code ({width} digits)")
    return value


def _parent_level(level: Level, parent: str) -> Level:
    """Communes hang under a district (3 digits) before the reform and under a province (2 digits) after."""
    if level is Level.COMMUNE and len(parent) == CODE_WIDTH[Level.PROVINCE]:
        return Level.PROVINCE
    return {Level.DISTRICT: Level.PROVINCE, Level.COMMUNE: Level.DISTRICT}.get(level, Level.PROVINCE)


def _unit(row: dict[str, str], origin: Origin) -> Unit:
    level = _level(row["level"])
    code = _code(row["code"], level)
    if row["type"] not in UNIT_TYPES[level]:
        raise RowError(f"type {row['type']!r} is not a {level.value} type ({', '.join(sorted(UNIT_TYPES[level]))})")
    if not row["name"]:
        raise RowError("name is empty")
    parent: str | None = row["parent"] or None
    if level is Level.PROVINCE and parent is not None:
        raise RowError("a province has no parent")
    if level is not Level.PROVINCE:
        if parent is None:
            raise RowError(f"a {level.value} needs a parent")
        _code(parent, _parent_level(level, parent), "parent")
    return Unit(code, level, row["type"], row["name"], parent, _period(row), origin)


def _agency(row: dict[str, str], origin: Origin) -> Agency:
    if not row["id"]:
        raise RowError("id is empty")
    try:
        kind = AgencyKind(row["kind"])
    except ValueError:
        raise RowError(f"kind {row['kind']!r} is not one of {', '.join(k.value for k in AgencyKind)}") from None
    level = _level(row["level"])
    if not row["name"]:
        raise RowError("name is empty")
    unit = _code(row["unit"], level, "unit")
    return Agency(row["id"], kind, row["name"], unit, level, row["supervisor"] or None, _period(row), origin)


def _succession(row: dict[str, str], origin: Origin) -> Succession:
    level = _level(row["level"])
    effective = _date(row["effective"], "effective")
    if effective is None:
        raise RowError("effective is empty")
    try:
        transfer = Transfer(row["transfer"])
    except ValueError:
        raise RowError(f"transfer {row['transfer']!r} is not one of whole, part") from None
    return Succession(
        level,
        _code(row["old_code"], level, "old_code"),
        _code(row["new_code"], level, "new_code"),
        effective,
        transfer,
        origin,
    )


def _remote(row: dict[str, str], origin: Origin) -> RemoteDifficult:
    code = row["code"]
    if not code.isdigit() or len(code) not in set(CODE_WIDTH.values()):
        raise RowError(f"code {code!r} is not a unit code")
    value = row["remote_difficult"].strip().lower()
    if value not in ("true", "false"):
        raise RowError(f"remote_difficult {row['remote_difficult']!r} is not true or false")
    return RemoteDifficult(code, _period(row), value == "true", row["basis"], origin)


_PARSERS: dict[FileKind, Callable[[dict[str, str], Origin], object]] = {
    FileKind.UNITS: _unit,
    FileKind.AGENCIES: _agency,
    FileKind.SUCCESSIONS: _succession,
    FileKind.REMOTE_DIFFICULT: _remote,
}


def _read(path: Path, kind: FileKind, name: str | None = None) -> Parsed[object]:
    shown = name or str(path)
    out: Parsed[object] = Parsed()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        out.problems.append(Problem(f"cannot read {kind.value} file: {exc}", Origin(shown, 0)))
        return out
    reader = csv.reader(io.StringIO(text, newline=""))
    header = tuple(next(reader, []))
    expected = HEADERS[kind]
    if header != expected:
        out.problems.append(Problem(f"header must be {','.join(expected)}, found {','.join(header)}", Origin(shown, 1)))
        return out
    parse = _PARSERS[kind]
    for row in reader:
        origin = Origin(shown, reader.line_num)
        if not row or row == [""]:
            continue
        if len(row) != len(expected):
            out.problems.append(Problem(f"{len(row)} fields, expected {len(expected)}", origin))
            continue
        try:
            out.records.append(parse(dict(zip(expected, row, strict=True)), origin))
        except RowError as exc:
            out.problems.append(Problem(str(exc), origin))
    return out


def read_units(path: Path, name: str | None = None) -> Parsed[Unit]:
    return _read(path, FileKind.UNITS, name)  # type: ignore[return-value]


def read_agencies(path: Path, name: str | None = None) -> Parsed[Agency]:
    return _read(path, FileKind.AGENCIES, name)  # type: ignore[return-value]


def read_successions(path: Path, name: str | None = None) -> Parsed[Succession]:
    return _read(path, FileKind.SUCCESSIONS, name)  # type: ignore[return-value]


def read_remote_difficult(path: Path, name: str | None = None) -> Parsed[RemoteDifficult]:
    return _read(path, FileKind.REMOTE_DIFFICULT, name)  # type: ignore[return-value]


# --- writing ---------------------------------------------------------------------------------------------------


def _d(value: date | None) -> str:
    return value.isoformat() if value else ""


def _write(path: Path, kind: FileKind, rows: Iterable[Sequence[str]]) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(HEADERS[kind])
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode("utf-8"))


def write_units(path: Path, units: Iterable[Unit]) -> None:
    _write(
        path,
        FileKind.UNITS,
        ((u.code, u.level.value, u.type, u.name, u.parent or "", _d(u.period.start), _d(u.period.end)) for u in units),
    )


def write_agencies(path: Path, agencies: Iterable[Agency]) -> None:
    _write(
        path,
        FileKind.AGENCIES,
        (
            (
                a.id,
                a.kind.value,
                a.name,
                a.unit,
                a.level.value,
                a.supervisor or "",
                _d(a.period.start),
                _d(a.period.end),
            )
            for a in agencies
        ),
    )


def write_successions(path: Path, successions: Iterable[Succession]) -> None:
    _write(
        path,
        FileKind.SUCCESSIONS,
        ((s.level.value, s.old_code, s.new_code, s.effective.isoformat(), s.transfer.value) for s in successions),
    )


def write_remote_difficult(path: Path, flags: Iterable[RemoteDifficult]) -> None:
    _write(
        path,
        FileKind.REMOTE_DIFFICULT,
        ((r.code, _d(r.period.start), _d(r.period.end), "true" if r.value else "false", r.basis) for r in flags),
    )
