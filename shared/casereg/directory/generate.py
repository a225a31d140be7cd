"""Generate the directory's data files from pinned releases of the ``vietnam-provinces`` package.

    python -m casereg.directory.generate [--out DIR] [--cache DIR] [--pip CMD] [--agencies-only]

Two releases are read, each downloaded as a wheel by pip and checked against its pinned SHA-256; the wheel is read
as a zip file (its code is never imported, so a release that needs a newer Python still serves):

* 0.6.0, the last release of the three-tier tree (province, district, commune; data of 4 January 2025), gives
  ``units-3tier.csv``, in force until 30 June 2025;
* 2026.9.0 gives the two-tier tree in force since 1 July 2025 (``units-2tier.csv``) and the statistics office's
  transition table old commune -> new commune and old province -> new province (``successions-2025.csv``).

The agencies of a province (``agencies/<code>.csv``) are generated from the units files and a hand-written seed
(``seeds/<code>.toml``: the province-level departments). Every file is written in a fixed order, so running this
again reproduces the committed files byte for byte; ``sources.json`` records versions, hashes, counts and gaps.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from casereg.directory.files import write_agencies, write_successions, write_units
from casereg.directory.load import DATA_DIR
from casereg.directory.model import (
    REFORM_DATE,
    UNIT_TYPES,
    Agency,
    AgencyKind,
    Level,
    Period,
    Succession,
    Transfer,
    Unit,
    day_before,
)

PACKAGE = "vietnam-provinces"
MODULE = "vietnam_provinces"


@dataclass(frozen=True)
class Pin:
    """One release of the package: exact version, the hash of its wheel, and a Python version pip may ask for."""

    version: str
    sha256: str
    python: str

    @property
    def wheel(self) -> str:
        return f"{MODULE}-{self.version}-py3-none-any.whl"


#: Last release with the three-tier tree (data retrieved 2025-01-04).
THREE_TIER = Pin("0.6.0", "4b5772870efdcb7c58a64fbdc0e0c9ce497e67017a0c189dff99582ddadb7815", "3.11")
#: Release with the two-tier tree (official codes) and the 2025 transition table; it requires Python >= 3.12 to
#: install, which does not matter here: only its data is read.
TWO_TIER = Pin("2026.9.0", "b5f3540a98937d38b9bebcbdb792fa4f5b9712737d41b05c7254beb2308ebcd1", "3.12")

OLD_END = day_before(REFORM_DATE)
OLD_PERIOD = Period(None, OLD_END)
NEW_PERIOD = Period(REFORM_DATE, None)
OLD_TREE, NEW_TREE = "3tier", "2tier"


class GenerateError(Exception):
    pass


# --- getting the wheels ----------------------------------------------------------------------------------------


def find_pip() -> list[str]:
    """A pip to download with: this interpreter's, else the first ``pip3``/``pip`` on PATH."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    for name in ("pip3", "pip"):
        found = shutil.which(name)
        if found:
            return [found]
    raise GenerateError("no pip found to download the pinned wheels: install pip or pass --pip")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_wheel(pin: Pin, cache: Path, pip: Sequence[str] | None = None) -> Path:
    """The pinned wheel, from ``cache`` if it is there with the right hash, else downloaded into it by pip."""
    target = cache / pin.wheel
    if target.is_file() and _sha256(target) == pin.sha256:
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        command = [
            *(pip or find_pip()),
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--python-version",
            pin.python,
            "--dest",
            tmp,
            "--quiet",
            f"{PACKAGE}=={pin.version}",
        ]
        env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        downloaded = Path(tmp) / pin.wheel
        if result.returncode != 0 or not downloaded.is_file():
            raise GenerateError(
                f"pip could not download {PACKAGE}=={pin.version}:\n{result.stderr.strip() or result.stdout.strip()}"
            )
        digest = _sha256(downloaded)
        if digest != pin.sha256:
            raise GenerateError(f"{pin.wheel} has SHA-256 {digest}, pinned {pin.sha256}: refusing to use it")
        downloaded.replace(target)
    return target


# --- reading a wheel -------------------------------------------------------------------------------------------


def _member(wheel: zipfile.ZipFile, name: str) -> str:
    return wheel.read(f"{MODULE}/{name}").decode("utf-8")


def _literal(node: ast.expr) -> Any:
    """Value of a data literal; a call ``Name(args...)`` (the package's NamedTuples) becomes ``(Name, *args)``."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple | ast.List):
        return tuple(_literal(e) for e in node.elts)
    if isinstance(node, ast.Dict):
        return {_literal(k): _literal(v) for k, v in zip(node.keys, node.values, strict=True) if k is not None}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        return (node.func.id, *(_literal(a) for a in node.args))
    raise GenerateError(f"unexpected expression in package data: {ast.unparse(node)[:80]}")


def _module_constants(source: str, names: set[str]) -> dict[str, Any]:
    """Module-level constants of a source file, read without running it."""
    found: dict[str, Any] = {}
    for stmt in ast.parse(source).body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            target, value = stmt.target, stmt.value
        if isinstance(target, ast.Name) and target.id in names and value is not None:
            found[target.id] = _literal(value)
    missing = names - found.keys()
    if missing:
        raise GenerateError(f"package data lacks {', '.join(sorted(missing))}")
    return found


def _data_version(wheel: zipfile.ZipFile) -> str:
    return str(_module_constants(_member(wheel, "__init__.py"), {"__data_version__"})["__data_version__"])


_TYPE_PREFIXES: dict[Level, tuple[tuple[str, str], ...]] = {
    Level.PROVINCE: (("thành phố ", "thành phố trung ương"), ("tỉnh ", "tỉnh")),
    Level.DISTRICT: (("quận ", "quận"), ("huyện ", "huyện"), ("thị xã ", "thị xã"), ("thành phố ", "thành phố")),
    Level.COMMUNE: (("xã ", "xã"), ("phường ", "phường"), ("thị trấn ", "thị trấn"), ("đặc khu ", "đặc khu")),
}


def type_from_name(name: str, level: Level) -> str:
    """The division type a unit's name starts with (release 0.6.0 gives one type per level for every unit)."""
    lowered = name.lower()
    for prefix, kind in _TYPE_PREFIXES[level]:
        if lowered.startswith(prefix):
            return kind
    raise GenerateError(f"cannot tell the {level.value} type of {name!r}")


def read_three_tier(path: Path) -> tuple[list[Unit], str]:
    """Provinces, districts and communes of release 0.6.0, in force until the day before the reform."""
    with zipfile.ZipFile(path) as wheel:
        tree = json.loads(_member(wheel, "data/nested-divisions.json"))
        version = _data_version(wheel)
    units: list[Unit] = []
    for p in tree:
        province = f"{p['code']:02d}"
        units.append(
            Unit(province, Level.PROVINCE, type_from_name(p["name"], Level.PROVINCE), p["name"], None, OLD_PERIOD)
        )
        for d in p["districts"]:
            district = f"{d['code']:03d}"
            units.append(
                Unit(
                    district, Level.DISTRICT, type_from_name(d["name"], Level.DISTRICT), d["name"], province, OLD_PERIOD
                )
            )
            for w in d["wards"]:
                units.append(
                    Unit(
                        f"{w['code']:05d}",
                        Level.COMMUNE,
                        type_from_name(w["name"], Level.COMMUNE),
                        w["name"],
                        district,
                        OLD_PERIOD,
                    )
                )
    return units, version


def _checked_type(value: str, level: Level, name: str) -> str:
    if value not in UNIT_TYPES[level]:
        raise GenerateError(f"{name!r}: unknown {level.value} type {value!r}")
    return value


def read_two_tier(path: Path) -> tuple[list[Unit], str]:
    """Provinces and communes of the current release, in force from the reform on."""
    with zipfile.ZipFile(path) as wheel:
        tree = json.loads(_member(wheel, "data/nested-divisions.json"))
        version = _data_version(wheel)
    units: list[Unit] = []
    for p in tree:
        province = f"{p['code']:02d}"
        ptype = _checked_type(p["division_type"], Level.PROVINCE, p["name"])
        units.append(Unit(province, Level.PROVINCE, ptype, p["name"], None, NEW_PERIOD))
        for w in p["wards"]:
            wtype = _checked_type(w["division_type"], Level.COMMUNE, w["name"])
            units.append(Unit(f"{w['code']:05d}", Level.COMMUNE, wtype, w["name"], province, NEW_PERIOD))
    return units, version


@dataclass(frozen=True)
class Table:
    """The transition table as the package gives it: (level, old, new, transfer) rows."""

    rows: list[tuple[Level, str, str, Transfer]]
    effective: date
    source: str


def read_transition(path: Path) -> Table:
    """Commune rows from ``_ward_conversion_2025.py`` (one per old/new pair, with the table's whole/part note) and
    province rows from ``_province_conversion_2025.py`` (whole when an old province went to one new province)."""
    with zipfile.ZipFile(path) as wheel:
        wards = _module_constants(
            _member(wheel, "_ward_conversion_2025.py"), {"NEW_TO_OLD", "EFFECTIVE_DATE", "SOURCE"}
        )
        provinces = _module_constants(_member(wheel, "_province_conversion_2025.py"), {"OLD_TO_NEW", "EFFECTIVE_DATE"})
    effective = date.fromisoformat(wards["EFFECTIVE_DATE"])
    if effective != REFORM_DATE or date.fromisoformat(provinces["EFFECTIVE_DATE"]) != REFORM_DATE:
        raise GenerateError(f"transition table is effective {effective}, expected {REFORM_DATE}")
    rows: list[tuple[Level, str, str, Transfer]] = []
    # NEW_TO_OLD: {new: NewToOldEntry(NewWardRef(code, province), (OldWardRef(code, district, province, partly), ...))}
    for new_code, (_entry, _new_ref, old_refs) in wards["NEW_TO_OLD"].items():
        for _name, old_code, _district, _province, partly in old_refs:
            transfer = Transfer.PART if partly else Transfer.WHOLE
            rows.append((Level.COMMUNE, f"{old_code:05d}", f"{new_code:05d}", transfer))
    # OLD_TO_NEW: {old: OldToNewEntry(OldProvinceRef(code), (NewProvinceRef(code), ...))}
    for old_code, (_entry, _old_ref, new_refs) in provinces["OLD_TO_NEW"].items():
        transfer = Transfer.WHOLE if len(new_refs) == 1 else Transfer.PART
        for _name, new_code in new_refs:
            rows.append((Level.PROVINCE, f"{old_code:02d}", f"{new_code:02d}", transfer))
    return Table(rows, effective, str(wards["SOURCE"]))


# --- building the files ----------------------------------------------------------------------------------------


def _unit_order(unit: Unit) -> tuple[int, str]:
    return (unit.level.rank, unit.code)


def successions(table: Table, old: list[Unit], new: list[Unit]) -> tuple[list[Succession], dict[str, Any]]:
    """Rows whose old and new units are both in the trees, and a record of what was left out or not covered."""
    old_codes = {(u.level, u.code) for u in old}
    new_codes = {(u.level, u.code) for u in new}
    kept: list[Succession] = []
    unknown_old: list[list[str]] = []
    unknown_new: list[list[str]] = []
    for level, old_code, new_code, transfer in table.rows:
        if (level, old_code) not in old_codes:
            unknown_old.append([level.value, old_code, new_code])
        elif (level, new_code) not in new_codes:
            unknown_new.append([level.value, old_code, new_code])
        else:
            kept.append(Succession(level, old_code, new_code, table.effective, transfer))
    kept.sort(key=lambda s: (s.level.rank, s.old_code, s.new_code))
    followed = {(s.level, s.old_code) for s in kept}
    preceded = {(s.level, s.new_code) for s in kept}
    gaps = {
        "rows_left_out_old_unit_not_in_3tier_tree": sorted(unknown_old),
        "rows_left_out_new_unit_not_in_2tier_tree": sorted(unknown_new),
        "3tier_communes_without_successor": sorted(
            u.code for u in old if u.level is Level.COMMUNE and (u.level, u.code) not in followed
        ),
        "2tier_communes_without_predecessor": sorted(
            u.code for u in new if u.level is Level.COMMUNE and (u.level, u.code) not in preceded
        ),
    }
    return kept, gaps


def _counts(units: list[Unit]) -> dict[str, int]:
    return {
        level.value: sum(1 for u in units if u.level is level)
        for level in Level
        if any(u.level is level for u in units)
    }


def generate_units(out: Path, cache: Path, pip: Sequence[str] | None = None) -> list[Path]:
    """Write ``units-3tier.csv``, ``units-2tier.csv``, ``successions-2025.csv`` and ``sources.json`` into ``out``."""
    old_wheel = fetch_wheel(THREE_TIER, cache, pip)
    new_wheel = fetch_wheel(TWO_TIER, cache, pip)
    old, old_version = read_three_tier(old_wheel)
    new, new_version = read_two_tier(new_wheel)
    old.sort(key=_unit_order)
    new.sort(key=_unit_order)
    table = read_transition(new_wheel)
    rows, gaps = successions(table, old, new)
    written = [out / "units-3tier.csv", out / "units-2tier.csv", out / "successions-2025.csv", out / "sources.json"]
    write_units(written[0], old)
    write_units(written[1], new)
    write_successions(written[2], rows)
    sources = {
        "generator": "python -m casereg.directory.generate",
        "package": PACKAGE,
        "trees": {
            OLD_TREE: {
                "file": written[0].name,
                "version": THREE_TIER.version,
                "wheel_sha256": THREE_TIER.sha256,
                "data_version": old_version,
                "valid_from": None,
                "valid_to": OLD_END.isoformat(),
                "units": _counts(old),
                "notes": "division types derived from the name prefix (the release gives one type per level)",
            },
            NEW_TREE: {
                "file": written[1].name,
                "version": TWO_TIER.version,
                "wheel_sha256": TWO_TIER.sha256,
                "data_version": new_version,
                "valid_from": REFORM_DATE.isoformat(),
                "valid_to": None,
                "units": _counts(new),
            },
        },
        "successions": {
            "file": written[2].name,
            "version": TWO_TIER.version,
            "source": f"{MODULE}/_ward_conversion_2025.py (from {table.source}) and "
            f"{MODULE}/_province_conversion_2025.py",
            "effective": table.effective.isoformat(),
            "rows": _counts_succession(rows),
            "gaps": gaps,
        },
    }
    written[3].write_bytes((json.dumps(sources, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return written


def _counts_succession(rows: list[Succession]) -> dict[str, int]:
    return {level.value: sum(1 for s in rows if s.level is level) for level in (Level.PROVINCE, Level.COMMUNE)}


# --- agencies --------------------------------------------------------------------------------------------------

_NAME_PREFIXES = ("thành phố", "tỉnh", "quận", "huyện", "thị xã", "thị trấn", "phường", "xã", "đặc khu")


def locative(name: str) -> str:
    """A unit's name as it follows an agency's: "Tỉnh Gia Lai" -> "tỉnh Gia Lai", "Phường 14" -> "phường 14"."""
    lowered = name.lower()
    for prefix in _NAME_PREFIXES:
        if lowered.startswith(prefix + " "):
            return prefix + name[len(prefix) :]
    return name


@dataclass(frozen=True)
class Department:
    slug: str
    name: str


@dataclass(frozen=True)
class Seed:
    """The hand-written part of a province's agencies."""

    province: str
    departments: tuple[Department, ...]


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_RESERVED = {"ubnd", "chu-tich", "thanh-tra", "ban-tiep-cong-dan"}


def read_seed(path: Path) -> Seed:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GenerateError(f"{path}: {exc}") from None
    province = raw.get("province")
    if not isinstance(province, str) or len(province) != 2 or not province.isdigit():
        raise GenerateError(f"{path}: province must be a two-digit code in quotes")
    departments = []
    for item in raw.get("departments", []):
        slug, name = item.get("slug"), item.get("name")
        if not isinstance(slug, str) or not _SLUG.match(slug) or slug in _RESERVED:
            raise GenerateError(f"{path}: department slug {slug!r} must be lower-case letters, digits and '-'")
        if not isinstance(name, str) or not name:
            raise GenerateError(f"{path}: department {slug} needs a name")
        departments.append(Department(slug, name))
    if len({d.slug for d in departments}) != len(departments):
        raise GenerateError(f"{path}: two departments share a slug")
    return Seed(province, tuple(departments))


def _province_agencies(tree: str, province: Unit, seed: Seed) -> list[Agency]:
    loc = locative(province.name)
    ppc = f"{tree}/{province.code}/ubnd"

    def make(slug: str, kind: AgencyKind, name: str, supervisor: str | None) -> Agency:
        return Agency(
            f"{tree}/{province.code}/{slug}", kind, name, province.code, Level.PROVINCE, supervisor, province.period
        )

    return [
        make("ubnd", AgencyKind.PEOPLE_COMMITTEE, f"Ủy ban nhân dân {loc}", None),
        make("chu-tich", AgencyKind.CHAIRMAN, f"Chủ tịch Ủy ban nhân dân {loc}", ppc),
        make("thanh-tra", AgencyKind.INSPECTORATE, f"Thanh tra {loc}", ppc),
        make("ban-tiep-cong-dan", AgencyKind.CITIZEN_RECEPTION, f"Ban Tiếp công dân {loc}", ppc),
        *(make(d.slug, AgencyKind.DEPARTMENT, f"{d.name} {loc}", ppc) for d in seed.departments),
    ]


def _committee(tree: str, unit: Unit, supervisor: str) -> Agency:
    return Agency(
        f"{tree}/{unit.code}/ubnd",
        AgencyKind.PEOPLE_COMMITTEE,
        f"Ủy ban nhân dân {locative(unit.name)}",
        unit.code,
        unit.level,
        supervisor,
        unit.period,
    )


def agencies_for(seed: Seed, units: Sequence[Unit], rows: Sequence[Succession]) -> list[Agency]:
    """The province's agencies since the reform, and those of the provinces it was formed from before it."""
    by_key = {(u.code, u.period.start): u for u in units}
    children: dict[tuple[str, date | None], list[Unit]] = {}
    for u in units:
        if u.parent is not None:
            children.setdefault((u.parent, u.period.start), []).append(u)
    new = by_key.get((seed.province, REFORM_DATE))
    if new is None or new.level is not Level.PROVINCE:
        raise GenerateError(f"seed names province {seed.province}, which is not a province since {REFORM_DATE}")
    old_codes = sorted(
        s.old_code for s in rows if s.level is Level.PROVINCE and s.new_code == new.code and s.effective == REFORM_DATE
    )
    agencies: list[Agency] = []
    for code in old_codes:
        province = by_key[(code, None)]
        agencies += _province_agencies(OLD_TREE, province, seed)
        ppc = f"{OLD_TREE}/{code}/ubnd"
        for district in sorted(children.get((code, None), []), key=lambda u: u.code):
            district_committee = _committee(OLD_TREE, district, ppc)
            agencies.append(district_committee)
            for commune in sorted(children.get((district.code, None), []), key=lambda u: u.code):
                agencies.append(_committee(OLD_TREE, commune, district_committee.id))
    agencies += _province_agencies(NEW_TREE, new, seed)
    ppc = f"{NEW_TREE}/{new.code}/ubnd"
    for commune in sorted(children.get((new.code, REFORM_DATE), []), key=lambda u: u.code):
        agencies.append(_committee(NEW_TREE, commune, ppc))
    return agencies


def generate_agencies(data: Path, seeds: Path, out: Path) -> list[Path]:
    """Write ``agencies/<province>.csv`` for every seed, from the units and successions files in ``data``."""
    from casereg.directory.files import read_successions, read_units

    units: list[Unit] = []
    for path in sorted(data.glob("units-*.csv")):
        parsed = read_units(path)
        if parsed.problems:
            raise GenerateError("\n".join(str(p) for p in parsed.problems))
        units += parsed.records
    rows: list[Succession] = []
    for path in sorted(data.glob("successions-*.csv")):
        parsed_rows = read_successions(path)
        if parsed_rows.problems:
            raise GenerateError("\n".join(str(p) for p in parsed_rows.problems))
        rows += parsed_rows.records
    written = []
    for seed_path in sorted(seeds.glob("*.toml")):
        seed = read_seed(seed_path)
        if seed_path.stem != seed.province:
            raise GenerateError(f"{seed_path}: file name must be the province code {seed.province}")
        target = out / "agencies" / f"{seed.province}.csv"
        write_agencies(target, agencies_for(seed, units, rows))
        written.append(target)
    return written


def default_cache() -> Path:
    return Path(tempfile.gettempdir()) / "casereg-directory-wheels"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m casereg.directory.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR, help="where to write (default: the shipped data)")
    parser.add_argument("--seeds", type=Path, default=DATA_DIR / "seeds", help="agency seeds, one TOML per province")
    parser.add_argument("--cache", type=Path, default=default_cache(), help="where downloaded wheels are kept")
    parser.add_argument("--pip", help="pip command to download with, e.g. 'python3.11 -m pip'")
    parser.add_argument(
        "--agencies-only", action="store_true", help="only regenerate agencies from the units files in --out"
    )
    args = parser.parse_args(argv)
    try:
        written: list[Path] = []
        if not args.agencies_only:
            written += generate_units(args.out, args.cache, args.pip.split() if args.pip else None)
        written += generate_agencies(args.out, args.seeds, args.out)
    except GenerateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
