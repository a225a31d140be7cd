"""Reading a directory from its files: which files, and every problem in them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from casereg.directory.directory import Directory
from casereg.directory.files import (
    FileKind,
    detect,
    read_agencies,
    read_remote_difficult,
    read_successions,
    read_units,
)
from casereg.directory.model import Agency, RemoteDifficult, Succession, Unit
from casereg.directory.problems import InvalidDirectory, Problem
from casereg.directory.validate import validate

#: The data shipped with the code: all units of both trees, the transition table, agencies per province.
DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class DirectoryFiles:
    """The files one directory is made of."""

    units: tuple[Path, ...]
    successions: tuple[Path, ...]
    agencies: tuple[Path, ...]
    remote_difficult: tuple[Path, ...]

    @classmethod
    def shipped(cls, province: str, data_dir: Path = DATA_DIR) -> DirectoryFiles:
        """Every units and successions file of ``data_dir``, and the province's agency and remote-area files."""
        return cls(
            units=tuple(sorted(data_dir.glob("units-*.csv"))),
            successions=tuple(sorted(data_dir.glob("successions-*.csv"))),
            agencies=(data_dir / "agencies" / f"{province}.csv",),
            remote_difficult=(data_dir / "remote_difficult" / f"{province}.csv",),
        )

    def with_files(self, paths: Iterable[Path]) -> DirectoryFiles:
        """These files in place of configured ones, each kind told by its header.

        A units or successions file replaces the configured file of the same name, or is added if none has it; an
        agencies or remote-difficult file replaces the configured one (a deployment has one of each).
        """
        files = self
        for path in paths:
            kind = detect(path)
            if kind is FileKind.AGENCIES:
                files = replace(files, agencies=(path,))
            elif kind is FileKind.REMOTE_DIFFICULT:
                files = replace(files, remote_difficult=(path,))
            else:
                field = "units" if kind is FileKind.UNITS else "successions"
                current: tuple[Path, ...] = getattr(files, field)
                kept = tuple(p for p in current if p.name != path.name)
                files = replace(files, **{field: (*kept, path)})
        return files


@dataclass(frozen=True)
class Records:
    units: list[Unit]
    agencies: list[Agency]
    successions: list[Succession]
    remote_difficult: list[RemoteDifficult]
    problems: list[Problem]


def read(files: DirectoryFiles) -> Records:
    """All records of the files, with every problem of form found on the way (content is not checked here)."""
    out = Records([], [], [], [], [])
    for path in files.units:
        parsed_units = read_units(path)
        out.units.extend(parsed_units.records)
        out.problems.extend(parsed_units.problems)
    for path in files.successions:
        parsed_successions = read_successions(path)
        out.successions.extend(parsed_successions.records)
        out.problems.extend(parsed_successions.problems)
    for path in files.agencies:
        parsed_agencies = read_agencies(path)
        out.agencies.extend(parsed_agencies.records)
        out.problems.extend(parsed_agencies.problems)
    for path in files.remote_difficult:
        parsed_remote = read_remote_difficult(path)
        out.remote_difficult.extend(parsed_remote.records)
        out.problems.extend(parsed_remote.problems)
    if not files.units:
        out.problems.append(Problem("no units file (units-*.csv) was found"))
    return out


def check(files: DirectoryFiles) -> tuple[Records, list[Problem]]:
    """Every problem of form and of content in the files."""
    records = read(files)
    problems = [
        *records.problems,
        *validate(records.units, records.agencies, records.successions, records.remote_difficult),
    ]
    return records, problems


def load(files: DirectoryFiles) -> Directory:
    """The directory of these files; :class:`InvalidDirectory` lists every problem when they are not consistent."""
    records, problems = check(files)
    if problems:
        raise InvalidDirectory(problems)
    return Directory(records.units, records.agencies, records.successions, records.remote_difficult, check=False)
