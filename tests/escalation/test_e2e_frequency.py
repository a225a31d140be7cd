"""The inspectorate reads the frequency statistics over intake's HTTP API, kept by the escalation service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.intake.api_support import petition_body
from tests.intake.test_e2e_api import add_agency, headers
from tests.platform.test_e2e import System, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WARD = "2tier/21583/ubnd"
INSPECTORATE = "2tier/52/thanh-tra"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = System(tmp_path)
    yield system
    system.kill_everything()


def test_frequency_over_http_for_inspectors_only(system: System) -> None:
    system.up()
    until(system.healthy, 120, "all services healthy")
    ward, inspector = add_agency(system, WARD, "clerk"), add_agency(system, INSPECTORATE, "inspector")
    base = f"http://127.0.0.1:{system.env['CASEREG_INTAKE_HTTP_PORT']}"
    with httpx.Client(base_url=base, timeout=30) as http:
        for i, kind in enumerate(["complaint", "complaint", "denunciation"]):
            body = petition_body(declared_kind=kind, received_on="2026-07-06")
            assert http.post("/v1/petitions", json=body, headers=headers(ward, f"f{i}")).status_code in (201, 202)

        def counted() -> dict[str, Any] | None:
            r = http.get("/v1/stats/frequency?from=2026-07&to=2026-07&unit=21583", headers=headers(inspector))
            assert r.status_code == 200, r.text
            report: dict[str, Any] = r.json()
            return report if report["totals"]["received"] == 3 else None

        report = until(counted, 30, "three petitions counted")
        by_kind = {row["kind"]: row["received"] for row in report["rows"]}
        assert by_kind == {"complaint": 2, "denunciation": 1}
        assert http.get("/v1/stats/frequency", headers=headers(ward)).status_code == 404
        bad = http.get("/v1/stats/frequency?from=2026-13", headers=headers(inspector))
        assert bad.status_code == 422
