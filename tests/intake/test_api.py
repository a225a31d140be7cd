"""The intake HTTP API in process, on the real log and databases: contract, isolation, idempotency, bad input."""

from __future__ import annotations

import asyncio
from pathlib import Path

from intake.adapters.agencies import add_agency

from tests.intake.api_support import AUDITOR, A, B, petition_body, running_api
from tests.intake.conftest import IntakeEnv

PROBLEM = "application/problem+json"


async def log_messages(env: IntakeEnv) -> int:
    deps = await env.deps()
    return int((await deps.log.js.stream_info(env.settings.stream)).state.messages)


async def test_post_then_get_and_isolation_both_ways(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with running_api(intake_env, tmp_path) as api:
        for i in range(20):
            r = await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, f"p{i}"))
            assert r.status_code == 201, r.text
            case_id = r.json()["case_id"]
            assert r.headers["Location"] == f"/v1/cases/{case_id}"
            got = await api.client.get(f"/v1/cases/{case_id}", headers=api.headers(A))
            assert got.status_code == 200 and got.json()["receipt_no"] == i + 1
        assert (await api.client.get(f"/v1/cases/{case_id}", headers=api.headers(B))).status_code == 404
        b_case = (await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(B, "b1"))).json()
        assert b_case["receipt_no"] == 1  # numbers are per receiving agency
        assert (await api.client.get(f"/v1/cases/{b_case['case_id']}", headers=api.headers(A))).status_code == 404
        listed = (await api.client.get("/v1/cases?limit=5", headers=api.headers(A))).json()
        assert listed["total"] == 20 and len(listed["items"]) == 5
        assert (await api.client.get("/v1/cases", headers=api.headers(AUDITOR))).json()["total"] == 21


async def test_forward_makes_the_case_visible_to_the_target_and_feeds_it(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with running_api(intake_env, tmp_path) as api:
        case_id = (await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "f"))).json()[
            "case_id"
        ]
        act = {
            "kind": "confirm_outcome",
            "on": "2026-07-07",
            "outcome": "forward",
            "to_agency": B,
            "basis": "Circular 05/2021 Art. 14",
            "override_reason": "thuộc thẩm quyền xã B",
        }
        r = await api.client.post(f"/v1/cases/{case_id}/actions", json=act, headers=api.headers(A, "a1"))
        assert r.status_code == 200, r.text
        assert r.json()["status"] == "forwarded"
        feed = (await api.client.get("/v1/feed", headers=api.headers(B))).json()
        for _ in range(200):
            if feed["items"]:
                break
            feed = (await api.client.get("/v1/feed", headers=api.headers(B))).json()
        assert [i["event_type"] for i in feed["items"]] == ["PetitionForwarded"]
        again = (await api.client.get(f"/v1/feed?after={feed['next']}", headers=api.headers(B))).json()
        assert again["items"] == []
        accept = {"kind": "accept", "on": "2026-07-08", "basis": "LKN Art. 27"}
        r = await api.client.post(f"/v1/cases/{case_id}/actions", json=accept, headers=api.headers(B, "b-acc"))
        assert r.status_code == 200 and r.json()["status"] == "accepted"


async def test_auditor_reads_history_but_cannot_act(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with running_api(intake_env, tmp_path) as api:
        case_id = (await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "h"))).json()[
            "case_id"
        ]
        history = await api.client.get(f"/v1/cases/{case_id}/history", headers=api.headers(AUDITOR))
        assert history.status_code == 200
        (event,) = history.json()["events"]
        assert event["type"] == "PetitionReceived"
        assert event["payload"]["summary"] == {"encrypted": True}
        assert "Lê Thị Mai" not in history.text and "052190004321" not in history.text
        before = await log_messages(intake_env)
        r = await api.client.post(
            f"/v1/cases/{case_id}/actions",
            json={"kind": "close", "on": "2026-07-07"},
            headers=api.headers(AUDITOR, "x"),
        )
        assert r.status_code == 409 and r.headers["content-type"] == PROBLEM
        assert await log_messages(intake_env) == before


async def test_idempotency_replay_mismatch(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with running_api(intake_env, tmp_path) as api:
        first = await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "same"))
        again = await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "same"))
        assert first.status_code == again.status_code == 201
        assert again.json() == first.json()
        other = await api.client.post(
            "/v1/petitions", json=petition_body(summary="khác"), headers=api.headers(A, "same")
        )
        assert other.status_code == 422 and other.headers["content-type"] == PROBLEM
        missing = await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A))
        assert missing.status_code == 400


async def test_bad_input_is_a_problem_naming_the_field_and_appends_nothing(
    intake_env: IntakeEnv, tmp_path: Path
) -> None:
    async with running_api(intake_env, tmp_path) as api:
        before = await log_messages(intake_env)
        h = api.headers(A, "bad")
        cases = [
            (petition_body(received_on="2099-01-01"), 422, "body.received_on"),
            (petition_body(unit_code="99999"), 422, "body.unit_code"),
            (petition_body(declared_kind="gossip"), 422, "body.declared_kind"),
            (petition_body(submitters=[{"anonymous": False}] * 51), 422, "body.submitters"),
            ({k: v for k, v in petition_body().items() if k != "summary"}, 422, "body.summary"),
            (petition_body(summary="x" * 3000), 422, "body.summary"),
        ]
        for body, status, field in cases:
            r = await api.client.post("/v1/petitions", json=body, headers=h)
            assert r.status_code == status, (field, r.text)
            assert r.headers["content-type"] == PROBLEM
            assert field in {e["field"] for e in r.json().get("errors") or []} or field in r.text
            assert "Lê Thị Mai" not in r.text
        r = await api.client.post(
            "/v1/petitions", content=b"{not json", headers={**h, "Content-Type": "application/json"}
        )
        assert r.status_code == 400
        r = await api.client.post("/v1/petitions", content=b"a=b", headers={**h, "Content-Type": "text/plain"})
        assert r.status_code == 415
        r = await api.client.post("/v1/petitions", json=petition_body(content="x" * 70_000), headers=h)
        assert r.status_code == 413
        r = await api.client.post("/v1/petitions", json=petition_body(), headers={"X-Officer-Id": "o"})
        assert r.status_code == 401
        assert await log_messages(intake_env) == before


async def test_forbidden_act_is_409_and_log_unchanged(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with running_api(intake_env, tmp_path) as api:
        case_id = (await api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "c"))).json()[
            "case_id"
        ]
        before = await log_messages(intake_env)
        for act in (
            {"kind": "issue_decision", "on": "2026-07-09", "decision_number": "1", "decision_result": "upheld"},
            {"kind": "resume", "on": "2026-07-09"},
            {"kind": "publish_decision", "on": "2026-07-09"},
            {"kind": "confirm_outcome", "on": "2026-07-09", "outcome": "archive", "basis": "x"},
        ):
            r = await api.client.post(f"/v1/cases/{case_id}/actions", json=act, headers=api.headers(A, act["kind"]))
            assert r.status_code == 409, r.text
            assert r.headers["content-type"] == PROBLEM and r.json()["detail"]
        assert await log_messages(intake_env) == before


async def test_concurrent_submissions_over_http(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with running_api(intake_env, tmp_path) as api:
        # 50 concurrent submissions under one key: one case, one receipt number; the others replay or wait (409).
        same = await asyncio.gather(
            *(
                api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(A, "one-key"))
                for _ in range(50)
            )
        )
        assert {r.status_code for r in same} <= {201, 202, 409}
        created = {r.json()["case_id"] for r in same if r.status_code in (201, 202)}
        assert len(created) == 1
        assert {r.json()["receipt_no"] for r in same if r.status_code in (201, 202)} == {1}
        # 200 concurrent submissions across three agencies: numbers 1..n per agency, no gap, no repeat.
        third = "2tier/52/ubnd-xa-c"
        _, api.keys[third] = add_agency(api.state.engine, third, third, "21583", "clerk")
        agencies = [A, B, third]
        answers = await asyncio.gather(
            *(
                api.client.post("/v1/petitions", json=petition_body(), headers=api.headers(agencies[i % 3], f"k{i}"))
                for i in range(200)
            )
        )
        assert all(r.status_code in (201, 202) for r in answers), [r.text for r in answers if r.status_code >= 300][:3]
        numbers: dict[str, list[int]] = {a: [] for a in agencies}
        for i, r in enumerate(answers):
            numbers[agencies[i % 3]].append(r.json()["receipt_no"])
        assert sorted(numbers[A]) == list(range(2, len(numbers[A]) + 2))  # A's number 1 went to the one-key case
        assert sorted(numbers[B]) == list(range(1, len(numbers[B]) + 1))
        assert sorted(numbers[third]) == list(range(1, len(numbers[third]) + 1))
