"""Routing end to end over HTTP with real processes: a petition shows its proposal, the officer confirms a forward,
the competent agency then sees the case and the submitting agency still does (issue 7)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.intake.api_support import petition_body
from tests.intake.test_e2e_api import add_agency, headers
from tests.platform.test_e2e import System, until

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

RECEPTION = "2tier/52/ban-tiep-cong-dan"  # Ban Tiếp công dân tỉnh Gia Lai
WARD = "2tier/21583/ubnd"  # Ủy ban nhân dân phường Quy Nhơn


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    system = System(tmp_path)
    yield system
    system.kill_everything()


def test_proposal_then_confirmed_forward(system: System) -> None:
    system.up()
    until(system.healthy, 120, "all services healthy")
    reception, ward = add_agency(system, RECEPTION, "clerk"), add_agency(system, WARD, "handler")
    base = f"http://127.0.0.1:{system.env['CASEREG_INTAKE_HTTP_PORT']}"
    # A denunciation against an official of the ward, handed to the province's reception board: LTC Art. 12-13
    # make the ward's head competent, so routing proposes forwarding it there (LTC Art. 24(2)).
    body = petition_body(
        declared_kind="denunciation",
        subject_matter={"kind": "official", "agency": WARD},
        submitters=[{"full_name": "Phạm Văn Tâm", "address": "Phường Quy Nhơn, Gia Lai", "id_number": "052090001111"}],
    )
    with httpx.Client(base_url=base, timeout=30) as http:
        created = http.post("/v1/petitions", json=body, headers=headers(reception, "den-1"))
        assert created.status_code == 201, created.text
        case_id = created.json()["case_id"]

        def proposed() -> dict[str, Any] | None:
            case = http.get(f"/v1/cases/{case_id}", headers=headers(reception)).json()
            proposal: dict[str, Any] | None = case.get("proposal")
            return proposal

        deadline = time.monotonic() + 15
        proposal = None
        while proposal is None and time.monotonic() < deadline:
            proposal = proposed()
            if proposal is None:
                time.sleep(0.1)
        assert proposal is not None, "no proposal within 15 s"
        assert proposal["outcome"] == "forward" and proposal["to_agency"] == WARD
        assert proposal["rule_id"] and proposal["article"]
        assert http.get(f"/v1/cases/{case_id}", headers=headers(ward)).status_code == 404  # not yet the ward's

        act = {
            "kind": "confirm_outcome",
            "on": "2026-07-07",
            "outcome": "forward",
            "to_agency": WARD,
            "basis": proposal["article"],
        }
        confirmed = http.post(f"/v1/cases/{case_id}/actions", json=act, headers=headers(reception, "fwd-1"))
        assert confirmed.status_code == 200, confirmed.text
        assert confirmed.json()["status"] == "forwarded"

        def visible_to_ward() -> bool | None:
            return http.get(f"/v1/cases/{case_id}", headers=headers(ward)).status_code == 200 or None

        until(visible_to_ward, 15, "the ward sees the case")
        assert http.get(f"/v1/cases/{case_id}", headers=headers(reception)).status_code == 200
        history = http.get(f"/v1/cases/{case_id}/history", headers=headers(ward)).json()
        types = [e["type"] for e in history["events"]]
        assert "DeadlineSet" in types  # escalation's clocks and watch flags (issue 8) interleave; the rest in order
        assert [t for t in types if not t.startswith("Deadline") and t != "CaseFlagged"] == [
            "PetitionReceived",
            "PetitionClassified",
            "OutcomeProposed",
            "PetitionForwarded",
        ]
