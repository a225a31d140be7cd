"""``casereg deadline``: the fixed contract of issue 8 (in process with typer's CliRunner, and as the program)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest
import typer
from escalation.cli import register
from typer.testing import CliRunner, Result

CASEREG = Path(sys.executable).parent / "casereg"


def invoke(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    app = typer.Typer()

    @app.callback()
    def root() -> None:
        """casereg"""

    register(app)
    clean: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CASEREG_")}
    return CliRunner().invoke(app, ["deadline", *args], env={**clean, **(env or {})})


def test_json_carries_the_contract_fields() -> None:
    # Complicated first-time complaint accepted Wed 15 Jul 2026: 45 days -> Sat 29 Aug -> Thu 3 Sep.
    result = invoke("complaint.settlement.first", "--from", "2026-07-15", "--complicated", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert {k: out[k] for k in ("clock", "from", "due", "unit", "days", "rule_version", "article")} == {
        "clock": "complaint.settlement.first",
        "from": "2026-07-15",
        "due": "2026-09-03",
        "unit": "calendar",
        "days": 45,
        "rule_version": 1,
        "article": "LKN 2011 Art. 28",
    }
    assert out["rule_id"] == "complaint.settlement.first.lkn2011"
    assert out["last_day_before_roll_forward"] == "2026-08-29"


def test_law_date_picks_the_version() -> None:
    # From Thu 2 Jul: the new rule (7 working days) ends Mon 13 Jul (3, 6-10, 13 Jul); the old one (10) Thu 16 Jul.
    new = json.loads(invoke("complaint.acceptance", "--from", "2026-07-02", "--json").stdout)
    old = json.loads(
        invoke("complaint.acceptance", "--from", "2026-07-02", "--law-date", "2026-06-30", "--json").stdout
    )
    assert (new["due"], new["unit"], new["days"], new["law_date"]) == ("2026-07-13", "working", 7, "2026-07-02")
    assert (old["due"], old["days"], old["rule_id"]) == ("2026-07-16", 10, "complaint.acceptance.tt07-2013")


def test_extensions_and_remote() -> None:
    # Especially complicated denunciation, two extensions: 90 days from Fri 10 Jul -> Thu 8 Oct.
    out = json.loads(
        invoke(
            "denunciation.settlement", "--from", "2026-07-10", "--especially-complicated", "--extensions", "2", "--json"
        ).stdout
    )
    assert (out["due"], out["days"], out["extensions"]) == ("2026-10-08", 90, 2)
    # Remote second-round filing from Wed 1 Apr: 45 days -> Sat 16 May -> Mon 18 May.
    remote = json.loads(invoke("complaint.second_round_filing", "--from", "2026-04-01", "--remote", "--json").stdout)
    assert remote["due"] == "2026-05-18"


def test_human_output_names_the_rule_and_the_roll_forward() -> None:
    result = invoke("complaint.settlement.first", "--from", "2026-07-17")
    assert result.exit_code == 0
    assert "due 2026-08-17 (Monday)" in result.stdout
    assert "last day 2026-08-16 is not a working day (Sunday)" in result.stdout
    assert "LKN 2011 Art. 28" in result.stdout


def test_list_names_every_clock() -> None:
    result = invoke("--list")
    assert result.exit_code == 0
    listed = {line.split(":")[0] for line in result.stdout.splitlines() if not line.startswith(" ")}
    assert listed >= {
        "complaint.filing",
        "complaint.acceptance",
        "complaint.settlement.first",
        "complaint.settlement.second",
        "complaint.second_round_filing",
        "denunciation.intake",
        "denunciation.forward",
        "denunciation.settlement",
        "reception.reply",
    }
    as_json = json.loads(invoke("--list", "--json").stdout)
    acceptance = next(c for c in as_json if c["clock"] == "complaint.acceptance")
    assert [v["effective_from"] for v in acceptance["versions"]] == ["2013-12-16", "2026-07-01"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("complaint.settlement.third", "--from", "2026-07-01"), "unknown clock 'complaint.settlement.third'"),
        (("complaint.filing", "--from", "2026-02-30"), "--from '2026-02-30' is not a date (YYYY-MM-DD)"),
        (("complaint.filing", "--from", "2026-07-01", "--law-date", "July"), "--law-date 'July' is not a date"),
        (("complaint.filing",), "--from YYYY-MM-DD is required"),
        (("--from", "2026-07-01"), "name a clock"),
        (("denunciation.settlement", "--from", "2026-07-01", "--extensions", "1"), "allows 0 extension(s)"),
        (("denunciation.intake", "--from", "2018-06-01"), "no version of denunciation.intake in force"),
    ],
)
def test_clear_errors_exit_1(args: tuple[str, ...], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_local_day_off_from_the_settings() -> None:
    # A provincial day off on Mon 17 Aug: the Sunday 16 Aug last day rolls to Tue 18 Aug.
    env = {"CASEREG_ESCALATION_LOCAL_DAYS_OFF": '["2026-08-17"]'}
    out = json.loads(invoke("complaint.settlement.first", "--from", "2026-07-17", "--json", env=env).stdout)
    assert out["due"] == "2026-08-18"


def test_a_broken_rule_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "clocks.toml"
    path.write_text("format = 1\nversion = 'x'\nclocks = []\n")
    result = invoke("--list", env={"CASEREG_ESCALATION_RULES_FILE": str(path)})
    assert result.exit_code == 1
    assert str(path) in result.stderr


@pytest.mark.skipif(not CASEREG.exists(), reason="the casereg program is not installed in this environment")
def test_the_installed_program() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEREG_")}
    done = subprocess.run(
        [str(CASEREG), "deadline", "reception.reply", "--from", "2026-11-17", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["due"] == "2026-12-02"  # 24 Nov (Vietnam Cultural Day) skipped
