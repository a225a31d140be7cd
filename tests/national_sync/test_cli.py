"""``casereg sync status`` and ``retry`` on a ledger database, as an operator runs them (no NATS reachable here:
status still shows the ledger and says why the lag is unknown)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from casereg.platform.nats_embedded import free_port
from national_sync.tables import REJECTED, outbox

from tests.national_sync.ledger_support import add_versions, ledger_engine

CASEREG = str(Path(sys.executable).parent / "casereg")


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CASEREG, "sync", *args], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_status_shows_the_ledger_and_retry_puts_rejected_rows_back(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'national-sync.db'}"
    engine = ledger_engine(url)
    add_versions(engine, "case", "c1", range(1, 4))
    with engine.begin() as conn:
        conn.execute(outbox.update().where(outbox.c.version == 1).values(state=REJECTED, last_error="HTTP 422"))
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CASEREG_", "OTEL_"))}
    env |= {
        "CASEREG_VAR_DIR": str(tmp_path / "var"),
        "CASEREG_NATIONAL_SYNC_DATABASE_URL": url,
        "CASEREG_NATS_URL": f"nats://127.0.0.1:{free_port()}",
    }

    shown = run(env, "status")
    assert shown.returncode == 0, shown.stderr
    assert "backlog: 2 pending" in shown.stdout and "rejected: 1" in shown.stdout
    assert "last error: HTTP 422" in shown.stdout and "lag: unknown" in shown.stdout

    retried = run(env, "retry", "--kind", "case")
    assert retried.returncode == 0 and "1 row(s)" in retried.stdout, retried.stderr

    status = json.loads(run(env, "status", "--json").stdout)
    assert status["ledger"]["backlog"] == 3 and status["ledger"]["rejected"] == 0
    assert status["lag"] is None and status["nats_error"]

    refused = run(env, "reconcile")
    assert refused.returncode == 1 and "\nerror: " in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr


def test_retry_of_nothing_changes_nothing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'national-sync.db'}"
    ledger_engine(url).dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEREG_")}
    env["CASEREG_NATIONAL_SYNC_DATABASE_URL"] = url
    done = run(env, "retry")
    assert done.returncode == 0 and "0 row(s)" in done.stdout
    with sa.create_engine(url).connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(outbox)).scalar_one() == 0


def test_an_unmigrated_ledger_is_one_error_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASEREG_")}
    env["CASEREG_NATIONAL_SYNC_DATABASE_URL"] = f"sqlite:///{tmp_path / 'empty.db'}"
    for args in (["status"], ["retry"]):
        done = run(env, *args)
        assert done.returncode == 1 and done.stderr.startswith("error: ledger database"), done.stderr
        assert "Traceback" not in done.stderr
