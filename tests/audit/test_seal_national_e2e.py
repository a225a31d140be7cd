"""After a sync run the period's seal is on the national side, and the national copy verifies offline.

The whole system as ``casereg up`` runs it with the simulator behind the real HTTP adapter (fixtures of
``tests/national_sync/test_e2e_sync.py``). Nobody calls ``casereg seal``: the national-sync service's periodic sealer
(``CASEREG_SEAL_INTERVAL`` shortened to one second) seals the period, and its seal follower pushes the seal.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from casereg_verify.verify import canonical

from tests.audit.support import run_offline
from tests.national_sync.test_e2e_sync import casereg, caught_up, finished, seed, simulator, system
from tests.platform.test_e2e import System, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
__all__ = ["simulator", "system"]
PROVINCE = "52"


def national_seals(url: str) -> list[dict[str, Any]]:
    r = httpx.get(f"{url}/v1/provinces/{PROVINCE}/records/seal/{PROVINCE}", timeout=10)
    if r.status_code != 200:
        return []
    return [v["payload"] for v in sorted(r.json()["versions"], key=lambda v: v["version"])]


def everything_sealed(system: System) -> list[dict[str, Any]] | None:
    """Our seals once the last one covers every aggregate (``verify --seals`` lists nothing unsealed)."""
    checked = casereg(system, "verify", "--seals", timeout=60)
    if checked.returncode != 0 or "not sealed yet" in checked.stdout:
        return None
    exported = system.var_dir.parent / "seals.jsonl"
    if casereg(system, "seal", "export", "-o", str(exported)).returncode != 0:
        return None
    return [json.loads(line) for line in exported.read_text().splitlines() if line.strip()]


def test_the_periods_seal_reaches_the_national_side_and_verifies_there(
    system: System, simulator: Any, tmp_path: Path
) -> None:
    system.env["CASEREG_SEAL_INTERVAL"] = "1"
    system.up()
    until(system.healthy, 120, "all services healthy")
    finished(seed(system, 5, 31))
    until(lambda: caught_up(system, 5), 120, "the petitions pushed")
    ours = until(lambda: everything_sealed(system), 120, "the periodic sealer covers every aggregate")
    assert any(".case." in h["subject"] for s in ours for h in s["heads"])

    def national_copy() -> list[dict[str, Any]] | None:
        theirs = national_seals(simulator.url)
        return theirs if len(theirs) >= len(ours) else None

    theirs = until(national_copy, 60, "every seal of the period on the national side")
    assert theirs[: len(ours)] == ours

    # An auditor holding the national copy of the seal and the province's public key checks an export.
    key = tmp_path / "seal-key.pem"
    key.write_text(casereg(system, "seal", "public-key").stdout)
    national = tmp_path / "national-seals.jsonl"
    national.write_text("".join(canonical(s).decode() + "\n" for s in theirs[: len(ours)]))
    case_subject = next(h["subject"] for s in ours for h in s["heads"] if ".case." in h["subject"])
    bundle = tmp_path / "bundle.jsonl"
    exported = casereg(system, "export", case_subject.rsplit(".", 1)[1], "-o", str(bundle))
    assert exported.returncode == 0, exported.stderr
    done = run_offline(tmp_path, str(bundle), "--seal", str(national), "--public-key", str(key))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith(f"{len(ours)} seal(s) verified")
