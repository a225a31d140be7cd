"""``casereg directory show`` and ``casereg directory check``, in process and as the real program."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from casereg.directory import DATA_DIR
from casereg.directory.cli import register
from typer.testing import CliRunner, Result

CASEREG = Path(sys.executable).parent / "casereg"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CASEREG_"):
            monkeypatch.delenv(name)


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, ["directory", *args], env=env)


def test_show_a_ward_before_and_after_the_reform() -> None:
    before = invoke("show", "21583", "--at", "2025-06-30")
    assert before.exit_code == 0, before.output
    assert before.output.startswith("21583  Phường Thị Nại\n")
    assert "path:       Phường Thị Nại (21583) < Thành phố Quy Nhơn (540) < Tỉnh Bình Định (52)" in before.output
    assert "became:      21583 Phường Quy Nhơn (whole, 2025-07-01 – …)" in before.output
    assert "district  3tier/540/ubnd  Ủy ban nhân dân thành phố Quy Nhơn" in before.output

    after = invoke("show", "21583", "--at", "2025-07-01")
    assert after.exit_code == 0, after.output
    assert after.output.startswith("21583  Phường Quy Nhơn\n")
    assert "formed from: 21583 Phường Thị Nại (whole, … – 2025-06-30)" in after.output
    assert "2tier/21583/ubnd  Ủy ban nhân dân phường Quy Nhơn  [people_committee; supervisor 2tier/52/ubnd]" in (
        after.output
    )


def test_show_an_agency() -> None:
    result = invoke("show", "3tier/21583/ubnd")
    assert result.exit_code == 0, result.output
    assert "supervised by: 3tier/540/ubnd < 3tier/52/ubnd" in result.output


def test_show_other_province_from_the_environment() -> None:
    result = invoke("show", "56", "--at", "2025-07-01", env={"CASEREG_PROVINCE": "56"})
    assert result.exit_code == 0, result.output
    assert "2tier/56/ubnd  Ủy ban nhân dân tỉnh Khánh Hòa" in result.output
    assert "formed from: 58 Tỉnh Ninh Thuận (whole, … – 2025-06-30)" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "99999"), "no administrative unit has code 99999"),
        (("show", "52", "--at", "30/06/2025"), "is not a date"),
        (("show", "5"), "a unit code is 2 (province), 3 (district) or 5 (commune) digits"),
        (("show", "21583", "--at", "2025-07-01", "--province", "5"), "a province code is two digits"),
    ],
)
def test_show_errors_are_one_clear_line(args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_check_passes_on_the_shipped_files() -> None:
    for province in ("52", "56"):
        result = invoke("check", "--province", province)
        assert result.exit_code == 0, result.output
        assert f"agencies/{province}.csv" in result.output
        assert result.output.splitlines()[-1].startswith("ok: 14165 units, ")


def copy(tmp_path: Path, relative: str) -> Path:
    target = tmp_path / Path(relative).name
    shutil.copyfile(DATA_DIR / relative, target)
    return target


def append(path: Path, line: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(line + "\n")


def test_check_rejects_an_unknown_supervisor(tmp_path: Path) -> None:
    agencies = copy(tmp_path, "agencies/52.csv")
    append(agencies, "2tier/52/so-moi,department,Sở Mới tỉnh Gia Lai,52,province,2tier/99/ubnd,2026-01-01,")
    result = invoke("check", str(agencies))
    assert result.exit_code == 1
    assert f"error: {agencies}:586: agency 2tier/52/so-moi: unknown supervisor 2tier/99/ubnd" in result.output
    assert "1 problem(s) found" in result.output


def test_check_rejects_overlapping_validity(tmp_path: Path) -> None:
    agencies = copy(tmp_path, "agencies/52.csv")
    append(agencies, "2tier/52/ubnd-2,people_committee,Ủy ban nhân dân tỉnh Gia Lai,52,province,,2026-01-01,")
    result = invoke("check", str(agencies))
    assert result.exit_code == 1
    assert "overlapping validity: people_committee of unit 52 over 2026-01-01 – … overlaps 2025-07-01 – …" in (
        result.output
    )

    units = copy(tmp_path, "units-2tier.csv")
    append(units, "21583,commune,phường,Phường Thị Nại,52,2025-06-01,2025-12-31")
    result = invoke("check", str(units))
    assert result.exit_code == 1
    assert "overlapping validity: code 21583 over 2025-06-01 – 2025-12-31 overlaps 2025-07-01 – …" in result.output


def test_check_rejects_a_duplicate_code(tmp_path: Path) -> None:
    units = copy(tmp_path, "units-2tier.csv")
    append(units, "21583,commune,phường,Phường Quy Nhơn,52,2025-07-01,")
    result = invoke("check", str(units))
    assert result.exit_code == 1
    assert f"{units}:3357: duplicate code 21583 (first at {units}:" in result.output


def test_check_reports_malformed_lines_with_their_numbers(tmp_path: Path) -> None:
    remote = tmp_path / "52.csv"
    remote.write_text(
        "code,valid_from,valid_to,remote_difficult,basis\n"
        "21583,2025-07-01,,maybe,\n"
        "21583,2025-13-01,,true,\n"
        "99999,2025-07-01,,true,\n",
        encoding="utf-8",
    )
    result = invoke("check", str(remote))
    assert result.exit_code == 1
    assert f"{remote}:2: remote_difficult 'maybe' is not true or false" in result.output
    assert f"{remote}:3: valid_from '2025-13-01' is not a date (YYYY-MM-DD)" in result.output
    assert f"{remote}:4: remote_difficult: unit 99999 is not one unit in force over 2025-07-01 – …" in result.output


def test_check_refuses_a_file_of_unknown_kind(tmp_path: Path) -> None:
    stray = tmp_path / "stray.csv"
    stray.write_text("a,b\n1,2\n", encoding="utf-8")
    result = invoke("check", str(stray))
    assert result.exit_code == 1
    assert "unknown header 'a,b'" in result.output


def test_configured_agencies_file_is_used(tmp_path: Path) -> None:
    agencies = copy(tmp_path, "agencies/52.csv")
    append(agencies, "broken line")
    result = invoke("check", env={"CASEREG_DIRECTORY_AGENCIES_FILE": str(agencies)})
    assert result.exit_code == 1
    assert f"{agencies}:586: 1 fields, expected 8" in result.output


def test_the_real_program_has_the_directory_commands() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEREG_")}
    result = subprocess.run(
        [str(CASEREG), "directory", "show", "52", "--at", "2025-06-30"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("52  Tỉnh Bình Định\n")
