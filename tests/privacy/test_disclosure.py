"""Need to know (issue 11 items 1-3) over intake's HTTP API in-process, on a real log and key store:
attachments encrypted, the clerk's redacted summary shown, pseudonyms for everyone, identities only for the
settling agency's handlers (recorded first), erasure seen at once, and v1 petitions still readable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from casereg.access.records import AccessAction, access_records
from casereg.crypto.fields import Encrypted, decrypt_text
from casereg.crypto.keystore import SqlKeyStore
from casereg.log.envelope import Actor, AggregateRef, Envelope
from casereg.log.events import EventRegistry
from cryptography.exceptions import InvalidTag
from intake.commands import Caller
from intake.domain.case import NEW, evolve
from intake.domain.events import INTAKE_EVENTS, PetitionReceived
from intake.domain.model import PetitionKind
from intake.domain.privacy import may_disclose, pseudonym

from tests.intake.api_support import AUDITOR, A, Api, B, petition_body, running_api
from tests.intake.conftest import IntakeEnv

NAME = "Võ Thị Bạch Tuyết"
ID_NUMBER = "052188776655"
PURPOSE = {"purpose": "Giải quyết tố cáo số 7/TC"}


def denunciation(**changes: Any) -> dict[str, Any]:
    return petition_body(
        declared_kind="denunciation",
        subject_matter={"kind": "official", "description": f"Do {NAME} cung cấp"},
        summary=f"Bà {NAME} tố cáo",
        content=f"Tôi là {NAME}, CCCD {ID_NUMBER}.",
        attachments=[f"Thư tay {NAME}.pdf", "Ảnh chụp.jpg"],
        redacted_summary="Tố cáo cán bộ nhận hối lộ",
        submitters=[
            {"full_name": NAME, "id_number": ID_NUMBER, "address": "Thôn 3, xã Ia Grai"},
            {"anonymous": True},
        ],
        **changes,
    )


async def _submit_and_forward_to_b(api: Api) -> str:
    created = await api.client.post("/v1/petitions", json=denunciation(), headers=api.headers(A, "d-1"))
    assert created.status_code == 201, created.text
    case_id: str = created.json()["case_id"]
    forward = {
        "kind": "confirm_outcome",
        "on": "2026-07-06",
        "outcome": "forward",
        "to_agency": B,
        "basis": "Luật Tố cáo 2018 Điều 24",
        "override_reason": "Thẩm quyền của xã B",
    }
    done = await api.client.post(f"/v1/cases/{case_id}/actions", json=forward, headers=api.headers(A, "d-1-fwd"))
    assert done.status_code == 200, done.text
    return case_id


async def test_attachments_are_ciphertext_and_the_redacted_summary_is_shown(
    intake_env: IntakeEnv, tmp_path: Path
) -> None:
    async with running_api(intake_env, tmp_path) as api:
        created = await api.client.post("/v1/petitions", json=denunciation(), headers=api.headers(A, "d-0"))
        case_id = created.json()["case_id"]
        case = (await api.client.get(f"/v1/cases/{case_id}", headers=api.headers(A))).json()
        events = await api.state.deps.log.events(AggregateRef.case(case_id))

    assert case["redacted_summary"] == "Tố cáo cán bộ nhận hối lộ"
    received = next(e for e in events if e.type == PetitionReceived.event_type)
    assert received.schema_version == 2
    petition = PetitionReceived.model_validate(received.payload)
    assert all(isinstance(a, Encrypted) and a.kid == f"case-{case_id}" for a in petition.attachments)
    keys = intake_env.keys
    opened = [decrypt_text(keys, a, f"case.attachments[{i}]") for i, a in enumerate(petition.attachments)]
    assert opened == [f"Thư tay {NAME}.pdf", "Ảnh chụp.jpg"]
    assert NAME not in received.model_dump_json() and ID_NUMBER not in received.model_dump_json()
    assert petition.legacy_attachments == ()
    # An attachment cannot be moved to another place in the list (its position is bound to the ciphertext).
    with pytest.raises(InvalidTag):
        decrypt_text(keys, petition.attachments[0], "case.attachments[1]")


async def test_pseudonyms_for_all_identities_for_the_settling_handler_only(
    intake_env: IntakeEnv, tmp_path: Path
) -> None:
    async with running_api(intake_env, tmp_path) as api:
        case_id = await _submit_and_forward_to_b(api)
        persons = {
            who: await api.client.get(f"/v1/cases/{case_id}/persons", headers=api.headers(who))
            for who in (A, B, AUDITOR)
        }
        refused = {
            who: await api.client.post(f"/v1/cases/{case_id}/disclosures", json=PURPOSE, headers=api.headers(who))
            for who in (A, AUDITOR)
        }
        no_purpose = await api.client.post(f"/v1/cases/{case_id}/disclosures", json={}, headers=api.headers(B))
        shown = await api.client.post(f"/v1/cases/{case_id}/disclosures", json=PURPOSE, headers=api.headers(B))
        unknown = await api.client.get("/v1/cases/nope/persons", headers=api.headers(B))
        records = await access_records(api.state.deps.log, case_id)

    for who, answer in persons.items():
        assert answer.status_code == 200, (who, answer.text)
        people = answer.json()["persons"]
        assert [(p["number"], p["label"], p["anonymous"]) for p in people] == [
            (1, "Người tố cáo #1", False),
            (2, "Người tố cáo #2", True),
        ]
        assert NAME not in answer.text and ID_NUMBER not in answer.text
    assert {who: r.status_code for who, r in refused.items()} == {A: 403, AUDITOR: 403}
    assert all(NAME not in r.text for r in refused.values())
    assert no_purpose.status_code == 422
    assert unknown.status_code == 404

    assert shown.status_code == 200, shown.text
    assert shown.headers["cache-control"] == "no-store"
    body = shown.json()
    first, second = body["persons"]
    assert (first["full_name"], first["id_number"], first["address"]) == (NAME, ID_NUMBER, "Thôn 3, xã Ia Grai")
    assert second["anonymous"] and second["full_name"] is None
    assert body["original"]["summary"] == f"Bà {NAME} tố cáo"
    assert body["original"]["content"] == f"Tôi là {NAME}, CCCD {ID_NUMBER}."
    assert body["original"]["subject_description"] == f"Do {NAME} cung cấp"
    assert body["original"]["attachments"] == [f"Thư tay {NAME}.pdf", "Ảnh chụp.jpg"]
    # Exactly one access record: the successful disclosure, with who, why and the log position it answered.
    assert [(r.action, r.actor.agency, r.actor.officer, r.purpose) for r in records] == [
        (AccessAction.IDENTITY_DISCLOSURE, B, "officer-1", PURPOSE["purpose"])
    ]
    assert body["access_seq"] == records[0].stream_seq


async def test_an_erasure_by_another_process_shows_at_once(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with running_api(intake_env, tmp_path) as api:
        case_id = await _submit_and_forward_to_b(api)
        before = await api.client.post(f"/v1/cases/{case_id}/disclosures", json=PURPOSE, headers=api.headers(B))
        person_id = before.json()["persons"][0]["person_id"]
        # Another process (``casereg person erase``) destroys the keys; this API process has them cached.
        other = SqlKeyStore(intake_env.keys._engine, "test-master")
        other.destroy(f"person-{person_id}")
        other.destroy(f"case-{case_id}")
        after = await api.client.post(f"/v1/cases/{case_id}/disclosures", json=PURPOSE, headers=api.headers(B))
        persons = await api.client.get(f"/v1/cases/{case_id}/persons", headers=api.headers(AUDITOR))

    assert before.json()["persons"][0]["full_name"] == NAME
    first = after.json()["persons"][0]
    assert first["erased"] is True and first["full_name"] is None and first["label"] == "Người tố cáo #1 (đã xoá)"
    assert after.json()["original"] == {
        "erased": True,
        "summary": None,
        "content": None,
        "subject_description": None,
        "attachments": [],
    }
    assert NAME not in after.text
    assert [(p["label"], p["erased"]) for p in persons.json()["persons"]] == [
        ("Người tố cáo #1 (đã xoá)", True),
        ("Người tố cáo #2", False),
    ]


def test_the_settling_agency_is_the_handling_one_and_the_role_is_handler() -> None:
    def state(*events: tuple[str, dict[str, Any]]) -> Any:
        s = NEW
        for i, (kind, payload) in enumerate(events, 1):
            s = evolve(s, _envelope(i, kind, payload))
        return s

    received = (
        "PetitionReceived",
        {
            "received_by": A,
            "declared_kind": "denunciation",
            "received_on": "2026-07-06",
            "receipt_no": 1,
            "request_hash": "h",
            "submitters": [{"person_id": "p1"}],
        },
    )
    at_a = state(received)
    at_b = state(received, ("PetitionForwarded", {"to_agency": B, "basis": "x"}))
    accepted = state(received, ("CaseAccepted", {"handling_agency": B, "accepted_on": "2026-07-07", "basis": "x"}))
    assert may_disclose(at_a, Caller(A, "o", "handler")) and not may_disclose(at_a, Caller(A, "o", "clerk"))
    assert not may_disclose(at_b, Caller(A, "o", "handler")) and may_disclose(at_b, Caller(B, "o", "handler"))
    assert may_disclose(accepted, Caller(B, "o", "handler"))
    assert not may_disclose(accepted, Caller(AUDITOR, "o", "auditor"))
    assert not may_disclose(accepted, Caller(B, "o", "inspector"))
    assert at_a.persons == ("p1",)
    assert pseudonym(PetitionKind.COMPLAINT, 2) == "Người khiếu nại #2"
    assert pseudonym(PetitionKind.REFLECTION, 1, erased=True) == "Người gửi đơn #1 (đã xoá)"


def _envelope(seq: int, kind: str, payload: dict[str, Any]) -> Envelope:
    return Envelope(
        event_id=f"e{seq}", case_id="c", type=kind, schema_version=1, seq=seq,
        occurred_at="2026-07-06T00:00:00Z", recorded_at="2026-07-06T00:00:00Z", actor=Actor(),
        payload=payload, prev_hash="", hash="",
    )  # fmt: skip


def test_v1_petitions_are_upcast_with_their_clear_attachments_kept_apart() -> None:
    """Events are never rewritten: a v1 PetitionReceived (attachments in clear) reads as v2 with them in
    ``legacy_attachments``, through any registry that knows the event (the upcaster is declared on it)."""
    summary = {"alg": "A256GCM", "kid": "case-c", "nonce": "bm9uY2U=", "ct": "Y3Q="}
    v1 = {
        "receipt_no": 1, "received_by": A, "channel": "post", "received_on": "2026-07-06",
        "declared_kind": "denunciation", "unit_code": "21583", "subject_matter": {"kind": "official"},
        "round": 1, "summary": summary, "attachments": ["Đơn.pdf"], "submitters": [], "people_count": 1,
        "request_hash": "h",
    }  # fmt: skip
    envelope = _envelope(1, "PetitionReceived", v1)
    registry = EventRegistry(INTAKE_EVENTS)
    event = registry.decode(envelope)
    assert isinstance(event, PetitionReceived)
    assert event.attachments == () and event.legacy_attachments == ("Đơn.pdf",) and event.redacted_summary is None
    assert registry.upcast(envelope).schema_version == 2
    assert envelope.payload["attachments"] == ["Đơn.pdf"]  # the stored payload is untouched


async def test_an_act_with_a_text_on_an_erased_case_is_a_conflict(intake_env: IntakeEnv, tmp_path: Path) -> None:
    """Once the case's key is destroyed no new text can be sealed under it: 409 saying so, and the act without
    texts still goes through."""
    async with running_api(intake_env, tmp_path) as api:
        case_id = await _submit_and_forward_to_b(api)
        api.state.deps.keys.destroy(f"case-{case_id}")  # as a restarted intake sees an erasure
        accept = {"kind": "accept", "on": "2026-07-06", "basis": "Luật Tố cáo 2018 Điều 29"}
        with_text = await api.client.post(
            f"/v1/cases/{case_id}/actions", json={**accept, "reason": "Đủ điều kiện"}, headers=api.headers(B, "a-1")
        )
        without = await api.client.post(f"/v1/cases/{case_id}/actions", json=accept, headers=api.headers(B, "a-2"))

    assert with_text.status_code == 409, with_text.text
    assert "erased" in with_text.json()["detail"]
    assert without.status_code == 200, without.text
