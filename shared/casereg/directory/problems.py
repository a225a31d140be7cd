"""Errors of the directory: problems found in its files, and failed look-ups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from casereg.directory.model import Origin


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the directory's data, with the file and line it came from when known."""

    message: str
    origin: Origin | None = None

    def __str__(self) -> str:
        return f"{self.origin}: {self.message}" if self.origin else self.message


class DirectoryError(Exception):
    """Base class of the directory's errors."""


class InvalidDirectory(DirectoryError):
    """The files do not make a consistent directory; ``problems`` lists every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[:20])
        more = f"\n  ... and {len(self.problems) - 20} more" if len(self.problems) > 20 else ""
        super().__init__(f"{len(self.problems)} problem(s) in the directory files:\n{shown}{more}")


class NotFound(DirectoryError, LookupError):
    """No unit or agency answers the question at that date."""
