"""Reading the rule tables from their TOML files (shipped beside this module, or a deployment's own folder)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from routing.domain.checks import CLASSIFICATION_CHECKS, HANDLING_CHECKS
from routing.domain.rules import CompetenceTable, HandlingTable, RuleTables

#: The tables shipped with the code.
RULES_DIR = Path(__file__).parent
HANDLING_FILE = "handling.toml"
COMPETENCE_FILE = "competence.toml"


class RulesError(ValueError):
    """A rule file is missing, is not TOML, or breaks the tables' schema; the message names the file."""


def _read(path: Path) -> dict[str, object]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise RulesError(f"{path}: no such rule file") from None
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise RulesError(f"{path}: {exc}") from None


def _problems(path: Path, exc: ValidationError) -> RulesError:
    lines = [f"{path}: {'.'.join(str(p) for p in err['loc']) or '(file)'}: {err['msg']}" for err in exc.errors()]
    return RulesError("\n".join(lines))


def load_tables(folder: Path = RULES_DIR) -> RuleTables:
    """Both tables from ``folder``; every problem found is in the :class:`RulesError`'s message."""
    handling_path, competence_path = folder / HANDLING_FILE, folder / COMPETENCE_FILE
    try:
        handling = HandlingTable.model_validate(_read(handling_path))
    except ValidationError as exc:
        raise _problems(handling_path, exc) from None
    try:
        competence = CompetenceTable.model_validate(_read(competence_path))
    except ValidationError as exc:
        raise _problems(competence_path, exc) from None
    tables = RuleTables(handling=handling, competence=competence)
    problems = tables.problems(CLASSIFICATION_CHECKS, HANDLING_CHECKS)
    if problems:
        raise RulesError("\n".join(f"{folder}: {p}" for p in problems))
    return tables
