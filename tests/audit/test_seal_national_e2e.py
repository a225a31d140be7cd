"""After a sync run the period's seal is on the national side, and the national copy verifies offline.

The whole system as ``casereg up`` runs it with the simulator behind the real HTTP adapter (fixtures of
``tests/national_sync/test_e2e_sync.py``); ``casereg seal`` seals (the periodic sealer runs the same code).
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


def national_seal(url: str, seal_no: int) -> dict[str, Any] | None:
    r = httpx.get(f"{url}/v1/provinces/{PROVINCE}/records/seal/{PROVINCE}", timeout=10)
    if r.status_code != 200:
        return None
    found = [v["payload"] for v in r.json()["versions"] if v["version"] == seal_no]
    return found[0] if found else None


def test_the_periods_seal_reaches_the_national_side_and_verifies_there(
    system: System, simulator: Any, tmp_path: Path
) -> None:
    system.up()
    until(system.healthy, 120, "all services healthy")
    finished(seed(system, 5, 31))
    until(lambda: caught_up(system, 5), 120, "the petitions pushed")
    sealed = casereg(system, "seal")
    assert sealed.returncode == 0, sealed.stderr
    assert sealed.stdout.startswith("seal #1: ")
    ours = tmp_path / "seals.jsonl"
    assert casereg(system, "seal", "export", "-o", str(ours)).returncode == 0
    seal = json.loads(ours.read_text())

    theirs = until(lambda: national_seal(simulator.url, 1), 60, "seal #1 on the national side")
    assert theirs == seal

    # An auditor holding the national copy of the seal and the province's public key checks an export.
    key = tmp_path / "seal-key.pem"
    key.write_text(casereg(system, "seal", "public-key").stdout)
    national = tmp_path / "national-seals.jsonl"
    national.write_text(canonical(theirs).decode() + "\n")
    case_subject = next(h["subject"] for h in seal["heads"] if ".case." in h["subject"])
    bundle = tmp_path / "bundle.jsonl"
    exported = casereg(system, "export", case_subject.rsplit(".", 1)[1], "-o", str(bundle))
    assert exported.returncode == 0, exported.stderr
    done = run_offline(tmp_path, str(bundle), "--seal", str(national), "--public-key", str(key))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("1 seal(s) verified")
