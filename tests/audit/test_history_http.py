"""GET /v1/cases/{case_id}/history: the labelled timeline in Vietnamese or English, as of a moment, recorded."""

from __future__ import annotations

from pathlib import Path

from casereg.access.records import access_records
from casereg.log.envelope import AggregateRef

from tests.intake.api_support import AUDITOR, A, B, petition_body, running_api
from tests.intake.conftest import IntakeEnv


async def test_history_timeline_languages_as_of_and_access_records(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with running_api(intake_env, tmp_path) as api:
        posted = await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "tl"))
        case_id = posted.json()["case_id"]
        act = {
            "kind": "confirm_outcome",
            "on": "2026-07-06",
            "outcome": "forward",
            "to_agency": B,
            "basis": "Thông tư 05/2021/TT-TTCP Điều 14",
            "override_reason": "thuộc thẩm quyền xã B",
        }
        r = await api.client.post(f"/v1/cases/{case_id}/actions", json=act, headers=api.headers(A, "tl-fwd"))
        assert r.status_code == 200, r.text
        url = f"/v1/cases/{case_id}/history"

        vi = await api.client.get(url, headers=api.headers(AUDITOR, officer="kiem-tra.01"))
        assert vi.status_code == 200, vi.text
        received, forwarded = vi.json()["events"]
        assert (received["label"], forwarded["label"]) == ("Tiếp nhận đơn", "Chuyển đơn")
        facts = {f["field"]: f for f in forwarded["facts"]}
        assert facts["to_agency"] == {"field": "to_agency", "label": "Chuyển đến", "value": B}
        assert forwarded["rule"] == "Thông tư 05/2021/TT-TTCP Điều 14"
        assert forwarded["actor"]["agency"] == A
        assert "Lê Thị Mai" not in vi.text and "052190004321" not in vi.text

        en = await api.client.get(f"{url}?lang=en", headers=api.headers(AUDITOR))
        assert [e["label"] for e in en.json()["events"]] == ["Petition received", "Petition forwarded"]
        assert {f["label"] for f in en.json()["events"][1]["facts"]} >= {"To agency", "Override reason"}

        deps = await intake_env.deps()
        last = await deps.log.last(AggregateRef.case(case_id))
        assert last is not None and last.last.type == "PetitionForwarded"
        first_stream_seq = last.stream_seq
        before = await api.client.get(f"{url}?as_of={first_stream_seq - 1}", headers=api.headers(AUDITOR))
        assert [e["type"] for e in before.json()["events"]] == ["PetitionReceived"]
        assert (await api.client.get(f"{url}?lang=fr", headers=api.headers(AUDITOR))).status_code == 422

        records = await access_records(deps.log, case_id)
        assert [r.action.value for r in records] == ["history", "history", "history"]
        assert records[0].actor.agency == AUDITOR and records[0].actor.officer == "kiem-tra.01"
        assert records[2].detail == f"GET history as of {first_stream_seq - 1}"
