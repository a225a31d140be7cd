"""``casereg agency add|list|rotate-key|revoke``, in process (SQLite and PostgreSQL) and as the real program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from casereg.db import create_engine
from intake.adapters.agencies import authenticate
from intake.cli import ONCE, register
from typer.testing import CliRunner, Result

from tests.intake.databases import db_url_fixture  # noqa: F401 - fixture

CASEREG = Path(sys.executable).parent / "casereg"
WARD = "2tier/21583/ubnd"


@pytest.fixture
def env(db_url: str, tmp_path: Path) -> dict[str, str | None]:
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("CASEREG_")}
    return {**unset, "CASEREG_VAR_DIR": str(tmp_path / "var"), "CASEREG_INTAKE_DATABASE_URL": db_url}


def invoke(env: dict[str, str | None], *args: str) -> Result:
    app = typer.Typer()
    register(app)
    return CliRunner().invoke(app, ["agency", *args], env=env)


def authenticates(db_url: str, key: str) -> str | None:
    engine = create_engine(db_url)
    try:
        agency = authenticate(engine, f"Bearer {key}")
    finally:
        engine.dispose()
    return agency.code if agency else None


def test_add_list_rotate_revoke(env: dict[str, str | None], db_url: str) -> None:
    added = invoke(env, "add", WARD, "--name", "UBND phường Quy Nhơn", "--unit", "21583", "--role", "clerk")
    assert added.exit_code == 0, added.output
    assert ONCE in added.stderr
    lines = added.stdout.splitlines()
    assert lines[0] == f"added agency {WARD} (UBND phường Quy Nhơn), unit 21583, role clerk"
    key = lines[-1]
    assert key.startswith("cr_")
    assert authenticates(db_url, key) == WARD

    listed = invoke(env, "list")
    assert listed.exit_code == 0, listed.output
    header, row = listed.stdout.splitlines()
    assert header.split() == ["CODE", "ROLE", "UNIT", "STATUS", "KEYS", "ADDED", "NAME"]
    assert row.split()[:5] == [WARD, "clerk", "21583", "active", "1"]
    assert row.endswith("UBND phường Quy Nhơn")
    assert key not in listed.output

    rotated = invoke(env, "rotate-key", WARD)
    assert rotated.exit_code == 0, rotated.output
    assert ONCE in rotated.stderr
    new_key = rotated.stdout.splitlines()[-1]
    assert authenticates(db_url, key) is None
    assert authenticates(db_url, new_key) == WARD

    revoked = invoke(env, "revoke", WARD)
    assert revoked.exit_code == 0, revoked.output
    assert authenticates(db_url, new_key) is None
    assert "revoked 20" in invoke(env, "list").stdout


def test_refusals(env: dict[str, str | None]) -> None:
    assert invoke(env, "list").stdout.startswith("no agencies yet")
    args = ("--name", "A", "--unit", "21583", "--role", "handler")
    assert invoke(env, "add", "a1", *args).exit_code == 0
    again = invoke(env, "add", "a1", *args)
    assert again.exit_code == 1
    assert "already exists and is active" in again.stderr
    unknown_unit = invoke(env, "add", "a2", "--name", "A", "--unit", "99999", "--role", "clerk")
    assert unknown_unit.exit_code == 1
    assert "--unit '99999' is not an administrative unit" in unknown_unit.stderr
    unchecked = invoke(env, "add", "a2", "--name", "A", "--unit", "99999", "--role", "clerk", "--no-check-unit")
    assert unchecked.exit_code == 0, unchecked.output
    assert invoke(env, "add", "a3", "--name", "A", "--unit", "52", "--role", "boss").exit_code == 2
    for command in ("revoke", "rotate-key"):
        missing = invoke(env, command, "nope")
        assert missing.exit_code == 1
        assert "no agency 'nope'" in missing.stderr


def test_the_real_program(tmp_path: Path) -> None:
    """The command is registered through the casereg.cli entry point and uses CASEREG_VAR_DIR by default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEREG_")}
    env["CASEREG_VAR_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [str(CASEREG), "agency", "add", "a1", "--name", "A", "--unit", "21583", "--role", "auditor"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.splitlines()[-1]
    assert (tmp_path / "var" / "intake.db").exists()
    assert authenticates(f"sqlite:///{tmp_path / 'var' / 'intake.db'}", key) == "a1"
