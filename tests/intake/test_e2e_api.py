"""Intake as agencies use it: real processes (`casereg up`), HTTP and NATS, two agencies and an auditor."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import pytest

from tests.intake.api_support import petition_body
from tests.platform.test_e2e import CASEREG, System, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

A, B, AUDITOR = "2tier/52/ubnd-a", "2tier/52/ubnd-b", "2tier/52/thanh-tra-e2e"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = System(tmp_path)
    yield system
    system.kill_everything()


def add_agency(system: System, code: str, role: str) -> str:
    done = subprocess.run(
        [CASEREG, "agency", "add", code, "--name", code, "--unit", "21583", "--role", role],
        env=system.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def headers(key: str, idem: str | None = None) -> dict[str, str]:
    h = {"Authorization": f"Bearer {key}", "X-Officer-Id": "e2e-officer"}
    if idem:
        h["Idempotency-Key"] = idem
    return h


def intake_healthy_again(system: System, old_pid: int) -> dict[str, Any] | None:
    view = system.healthy()
    if view is None:
        return None
    intake = view["services"]["intake"]
    return view if intake["pid"] != old_pid and intake["health"]["ready"] else None


def test_agencies_over_http_and_nats(system: System) -> None:
    system.up()
    view = until(system.healthy, 120, "all services healthy")
    keys = {
        A: add_agency(system, A, "clerk"),
        B: add_agency(system, B, "handler"),
        AUDITOR: add_agency(system, AUDITOR, "auditor"),
    }
    base = f"http://127.0.0.1:{system.env['CASEREG_INTAKE_HTTP_PORT']}"
    with httpx.Client(base_url=base, timeout=30) as http:
        # POST then an immediate GET finds the case, 100 times out of 100.
        a_cases = []
        for i in range(100):
            r = http.post("/v1/petitions", json=petition_body(), headers=headers(keys[A], f"e2e-{i}"))
            assert r.status_code == 201, r.text
            a_cases.append(r.json()["case_id"])
            assert http.get(f"/v1/cases/{a_cases[-1]}", headers=headers(keys[A])).status_code == 200
        b_case = http.post("/v1/petitions", json=petition_body(), headers=headers(keys[B], "b-1")).json()["case_id"]
        # Isolation both ways.
        assert http.get(f"/v1/cases/{b_case}", headers=headers(keys[A])).status_code == 404
        assert http.get(f"/v1/cases/{a_cases[0]}", headers=headers(keys[B])).status_code == 404
        act = {"kind": "accept", "on": "2026-07-07", "basis": "LKN Art. 27"}
        assert http.post(f"/v1/cases/{a_cases[0]}/actions", json=act, headers=headers(keys[B], "x")).status_code == 404
        # The auditor reads every history but cannot act.
        history = http.get(f"/v1/cases/{b_case}/history", headers=headers(keys[AUDITOR]))
        assert history.status_code == 200 and history.json()["events"][0]["type"] == "PetitionReceived"
        refused = http.post(f"/v1/cases/{b_case}/actions", json=act, headers=headers(keys[AUDITOR], "aud"))
        assert refused.status_code == 409

        # A retry after intake was restarted returns the same case; another body under the key is 422.
        old_pid = view["services"]["intake"]["pid"]
        os.kill(old_pid, signal.SIGKILL)
        until(lambda: intake_healthy_again(system, old_pid), 120, "intake restarted")
        retried = http.post("/v1/petitions", json=petition_body(), headers=headers(keys[A], "e2e-0"))
        assert retried.status_code == 201 and retried.json()["case_id"] == a_cases[0]
        other = http.post("/v1/petitions", json=petition_body(summary="khác"), headers=headers(keys[A], "e2e-0"))
        assert other.status_code == 422

        # The NATS entry point answers like HTTP, for the front-end user.
        reply = asyncio.run(nats_submit(system, keys[A]))
        assert reply["status"] == 201, reply
        case_id = reply["body"]["case_id"]
        assert http.get(f"/v1/cases/{case_id}", headers=headers(keys[A])).status_code == 200

    assert system.proc is not None
    system.proc.send_signal(signal.SIGINT)
    system.proc.wait(60)
    assert system.leftovers() == []


async def nats_submit(system: System, key: str) -> dict[str, Any]:
    passwords = json.loads((system.var_dir / "secrets" / "nats-users.json").read_text())
    url = f"nats://127.0.0.1:{system.env['CASEREG_EMBEDDED_NATS_PORT']}"
    nc = await nats.connect(url, user="frontend", password=passwords["frontend"])
    try:
        msg = await nc.request(
            "reg.52.api.intake.petitions.submit",
            json.dumps(petition_body()).encode(),
            headers={"Authorization": f"Bearer {key}", "X-Officer-Id": "desk-1", "Idempotency-Key": str(uuid.uuid4())},
            timeout=30,
        )
    finally:
        await nc.close()
    result: dict[str, Any] = json.loads(msg.data)
    return result
