"""Reception sessions and the reception book over HTTP, in process, on the real log and read models."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from casereg.log.events import EventRegistry
from casereg.projections.rebuild import Rebuild
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from intake.domain.reception import RECEPTION_EVENTS
from intake.projections import reception_entries, reception_sessions
from intake.reception_book import reception_projection

from tests.intake.api_support import AUDITOR, A, Api, B, petition_body, running_api
from tests.intake.conftest import IntakeEnv
from tests.intake.test_api import log_messages
from tests.projections.conftest import running

PROBLEM = "application/problem+json"
DAY = "2026-07-06"
NAMES = ("Trần Văn Bình", "Phạm Thị Lan", "Lê Thị Mai", "Đỗ Minh Quân")
ID_NUMBERS = ("052190007001", "052190007002", "052190004321", "052190007004")
CONTENT = "Tranh chấp ranh giới thửa đất số 15"


@contextlib.asynccontextmanager
async def reception_api(env: IntakeEnv, tmp_path: Path) -> AsyncIterator[Api]:
    """The intake API with its registry projection and, beside it, the reception projection."""
    async with running_api(env, tmp_path) as api:
        projection = reception_projection(env.settings.province, (reception_sessions, reception_entries))
        runner = ProjectionRunner(
            projection,
            api.state.engine,
            api.state.deps.log.js,
            env.settings.stream,
            EventRegistry(RECEPTION_EVENTS),
            options=RunnerOptions(batch_size=100, fetch_timeout=0.2),
        )
        async with running(runner):
            yield api


def session_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "held_on": DAY,
        "reception_type": "periodic",
        "host_officer": "chu-tich-xa",
        "location": "Trụ sở tiếp công dân xã A",
    }
    body.update(changes)
    return body


def citizen(i: int) -> dict[str, Any]:
    return {"full_name": NAMES[i % 4], "id_number": ID_NUMBERS[i % 4], "phone": "0905000222"}


def entry_body(
    people: int = 1, citizens: int = 1, representatives: tuple[int, ...] = (), **changes: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "citizens": [citizen(i) for i in range(citizens)],
        "people_count": people,
        "representatives": list(representatives),
        "content": CONTENT,
        "requests": "Đề nghị xác minh lại ranh giới",
        "result": "Đã hướng dẫn công dân gửi đơn",
    }
    body.update(changes)
    return body


class Recorder:
    """Every answer seen in a test, to check that none carries an identity or a text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, response: httpx.Response) -> httpx.Response:
        self.texts.append(response.text)
        return response

    def assert_no_personal_data(self) -> None:
        for text in self.texts:
            for secret in (*NAMES, *ID_NUMBERS, CONTENT, "0905000222", "Khiếu nại quyết định thu hồi đất"):
                assert secret not in text


async def open_session(api: Api, agency: str = A, key: str = "s1", **changes: Any) -> str:
    r = await api.client.post("/v1/reception-sessions", json=session_body(**changes), headers=api.headers(agency, key))
    assert r.status_code == 201, r.text
    session_id: str = r.json()["session_id"]
    assert r.headers["Location"] == f"/v1/reception-sessions/{session_id}"
    return session_id


async def test_open_record_and_read_the_book(intake_env: IntakeEnv, tmp_path: Path) -> None:
    seen = Recorder()
    async with reception_api(intake_env, tmp_path) as api:
        session_id = await open_session(api)
        got = seen(await api.client.get(f"/v1/reception-sessions/{session_id}", headers=api.headers(A)))
        assert got.status_code == 200
        assert got.json() | {"session_id": "-"} == {
            "session_id": "-",
            "agency": A,
            "held_on": DAY,
            "reception_type": "periodic",
            "host_officer": "chu-tich-xa",
            "location": "Trụ sở tiếp công dân xã A",
            "online": False,
            "status": "open",
            "closed_on": None,
            "entries": 0,
            "people_count": 0,
            "crowded_groups": 0,
            "cases_opened": 0,
        }
        url = f"/v1/reception-sessions/{session_id}/entries"
        one = seen(await api.client.post(url, json=entry_body(), headers=api.headers(A, "e1")))
        assert one.status_code == 201, one.text
        assert (one.json()["serial_no"], one.json()["year"], one.json()["case_id"]) == (1, 2026, None)
        crowd = seen(await api.client.post(url, json=entry_body(7, 3, (0, 2)), headers=api.headers(A, "e2")))
        assert crowd.status_code == 201, crowd.text
        assert crowd.json()["serial_no"] == 2

        before = await log_messages(intake_env)
        too_many = seen(
            await api.client.post(url, json=entry_body(12, 6, (0, 1, 2, 3, 4, 5)), headers=api.headers(A, "e3"))
        )
        assert too_many.status_code == 422 and too_many.headers["content-type"] == PROBLEM
        assert [e["field"] for e in too_many.json()["errors"]] == ["body.representatives"]
        no_id = entry_body()
        no_id["citizens"] = [{"full_name": NAMES[0]}]  # from 1 July 2026 an ID number is given
        for bad, field in (
            (entry_body(7, 2, (0, 5)), "body.representatives"),  # not among the citizens
            (entry_body(7, 2, ()), "body.representatives"),  # a crowded group appoints representatives
            (entry_body(unknown=1), "body.unknown"),
            (no_id, "body.citizens[0].id_number"),
            (entry_body(content=""), "body.content"),
        ):
            r = seen(await api.client.post(url, json=bad, headers=api.headers(A, f"bad-{field}")))
            assert r.status_code == 422, (field, r.text)
            assert field in {e["field"] for e in r.json().get("errors") or []}, r.text
        assert await log_messages(intake_env) == before

        book = seen(await api.client.get(url, headers=api.headers(A)))
        assert book.status_code == 200
        lines = book.json()["items"]
        assert [(x["serial_no"], x["people_count"], x["citizens"], x["representatives"]) for x in lines] == [
            (1, 1, 1, 0),
            (2, 7, 3, 2),
        ]
        assert [x["crowded"] for x in lines] == [False, True]
        assert all(x["has_result"] and x["has_requests"] and not x["has_prior_handling"] for x in lines)
        assert {(x["held_on"], x["reception_type"], x["host_officer"]) for x in lines} == {
            (DAY, "periodic", "chu-tich-xa")
        }
        session = book.json()["session"]
        assert (session["entries"], session["people_count"], session["crowded_groups"]) == (2, 8, 1)
    seen.assert_no_personal_data()


async def test_an_entry_opens_a_case(intake_env: IntakeEnv, tmp_path: Path) -> None:
    seen = Recorder()
    async with reception_api(intake_env, tmp_path) as api:
        session_id = await open_session(api)
        url = f"/v1/reception-sessions/{session_id}/entries"
        before = await log_messages(intake_env)
        by_post = entry_body(petition=petition_body())  # a petition handed in at a reception comes in person
        r = seen(await api.client.post(url, json=by_post, headers=api.headers(A, "wrong-channel")))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.petition.channel", r.text
        other_day = entry_body(petition=petition_body(channel="in_person", received_on="2026-07-03"))
        r = seen(await api.client.post(url, json=other_day, headers=api.headers(A, "wrong-day")))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.petition.received_on", r.text
        unknown_unit = entry_body(petition=petition_body(channel="in_person", unit_code="99999"))
        r = seen(await api.client.post(url, json=unknown_unit, headers=api.headers(A, "wrong-unit")))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "body.petition.unit_code", r.text
        assert await log_messages(intake_env) == before  # no case, no entry, no number

        body = entry_body(petition=petition_body(channel="in_person"))
        r = seen(await api.client.post(url, json=body, headers=api.headers(A, "with-case")))
        assert r.status_code == 201, r.text
        out = r.json()
        assert out["serial_no"] == 1 and out["receipt_no"] == 1 and out["case_id"]
        case = seen(await api.client.get(f"/v1/cases/{out['case_id']}", headers=api.headers(A)))
        assert case.status_code == 200 and case.json()["receipt_no"] == 1
        history = seen(await api.client.get(f"/v1/cases/{out['case_id']}/history", headers=api.headers(A)))
        (received,) = history.json()["events"]
        assert received["type"] == "PetitionReceived"
        assert received["payload"]["reception_entry"] == out["entry_id"]
        assert received["payload"]["channel"] == "in_person"

        again = seen(await api.client.post(url, json=body, headers=api.headers(A, "with-case")))
        assert again.status_code == 201 and again.json() == out
        other = entry_body(petition=petition_body(channel="in_person", summary="khác"))
        r = seen(await api.client.post(url, json=other, headers=api.headers(A, "with-case")))
        assert r.status_code == 422
        book = seen(await api.client.get(url, headers=api.headers(A))).json()
        assert [x["case_id"] for x in book["items"]] == [out["case_id"]]
        assert book["session"]["cases_opened"] == 1
        listed = seen(await api.client.get("/v1/cases", headers=api.headers(A))).json()
        assert listed["total"] == 1
    seen.assert_no_personal_data()


async def test_serial_numbers_are_gap_free_under_concurrency(intake_env: IntakeEnv, tmp_path: Path) -> None:
    async with reception_api(intake_env, tmp_path) as api:
        first = await open_session(api, key="s-a")
        second = await open_session(api, key="s-b", reception_type="regular")
        b_session = await open_session(api, agency=B, key="s-a")

        async def record(session_id: str, agency: str, i: int) -> httpx.Response:
            url = f"/v1/reception-sessions/{session_id}/entries"
            return await api.client.post(url, json=entry_body(), headers=api.headers(agency, f"c{i}"))

        answers = await asyncio.gather(
            *(record(first if i % 2 else second, A, i) for i in range(30)),
            *(record(b_session, B, i) for i in range(5)),
        )
        assert all(r.status_code in (201, 202) for r in answers), [r.text for r in answers if r.status_code >= 300]
        a_serials = sorted(r.json()["serial_no"] for r in answers[:30])
        assert a_serials == list(range(1, 31))  # one book per agency and year, across its sessions
        assert sorted(r.json()["serial_no"] for r in answers[30:]) == [1, 2, 3, 4, 5]
        books: list[int] = []
        for session_id in (first, second):
            for _ in range(200):
                book = (
                    await api.client.get(f"/v1/reception-sessions/{session_id}/entries", headers=api.headers(A))
                ).json()
                if book["total"] == 15:
                    break
                await asyncio.sleep(0.05)
            books.extend(x["serial_no"] for x in book["items"])
        assert sorted(books) == list(range(1, 31))


async def test_sessions_are_isolated_between_agencies(intake_env: IntakeEnv, tmp_path: Path) -> None:
    seen = Recorder()
    async with reception_api(intake_env, tmp_path) as api:
        session_id = await open_session(api)
        url = f"/v1/reception-sessions/{session_id}"
        assert (await api.client.get(url, headers=api.headers(B))).status_code == 404
        assert (await api.client.get(f"{url}/entries", headers=api.headers(B))).status_code == 404
        r = await api.client.post(f"{url}/entries", json=entry_body(), headers=api.headers(B, "x"))
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
        r = await api.client.post(f"{url}/close", json={"closed_on": DAY}, headers=api.headers(B, "x2"))
        assert r.status_code == 404
        assert (await api.client.get("/v1/reception-sessions/no-such", headers=api.headers(A))).status_code == 404
        assert (await api.client.get("/v1/reception-sessions/bad.id", headers=api.headers(A))).status_code == 404
        assert seen(await api.client.get(url, headers=api.headers(AUDITOR))).status_code == 200
        r = await api.client.post(f"{url}/entries", json=entry_body(), headers=api.headers(AUDITOR, "x3"))
        assert r.status_code == 409  # auditors read, they do not keep the book
        r = await api.client.post("/v1/reception-sessions", json=session_body(), headers=api.headers(AUDITOR, "x4"))
        assert r.status_code == 409


async def test_open_and_close_are_idempotent_and_a_closed_session_takes_no_entry(
    intake_env: IntakeEnv, tmp_path: Path
) -> None:
    async with reception_api(intake_env, tmp_path) as api:
        first = await api.client.post("/v1/reception-sessions", json=session_body(), headers=api.headers(A, "k"))
        again = await api.client.post("/v1/reception-sessions", json=session_body(), headers=api.headers(A, "k"))
        assert first.status_code == again.status_code == 201 and first.json() == again.json()
        other = await api.client.post(
            "/v1/reception-sessions", json=session_body(reception_type="ad_hoc"), headers=api.headers(A, "k")
        )
        assert other.status_code == 422
        for bad, field in (
            (session_body(held_on="2099-01-01"), "body.held_on"),
            (session_body(reception_type="weekly"), "body.reception_type"),
            (session_body(host_officer="chủ tịch"), "body.host_officer"),
        ):
            r = await api.client.post("/v1/reception-sessions", json=bad, headers=api.headers(A, f"b-{field}"))
            assert r.status_code == 422 and field in {e["field"] for e in r.json()["errors"]}, r.text
        session_id = first.json()["session_id"]
        url = f"/v1/reception-sessions/{session_id}"
        early = await api.client.post(f"{url}/close", json={"closed_on": "2026-07-05"}, headers=api.headers(A, "c0"))
        assert early.status_code == 409
        closed = await api.client.post(f"{url}/close", json={"closed_on": DAY}, headers=api.headers(A, "c1"))
        assert closed.status_code == 200 and closed.json() == {
            "session_id": session_id,
            "status": "closed",
            "closed_on": DAY,
        }
        assert (
            await api.client.post(f"{url}/close", json={"closed_on": DAY}, headers=api.headers(A, "c1"))
        ).json() == closed.json()
        twice = await api.client.post(f"{url}/close", json={"closed_on": DAY}, headers=api.headers(A, "c2"))
        assert twice.status_code == 409 and "already closed" in twice.json()["detail"]
        late = await api.client.post(f"{url}/entries", json=entry_body(), headers=api.headers(A, "late"))
        assert late.status_code == 409 and "closed" in late.json()["detail"]
        for _ in range(200):
            got = (await api.client.get(url, headers=api.headers(A))).json()
            if got["status"] == "closed":
                break
            await asyncio.sleep(0.05)
        assert (got["status"], got["closed_on"]) == ("closed", DAY)


def _snapshot(engine: sa.Engine) -> list[list[tuple[object, ...]]]:
    with engine.connect() as conn:
        return [
            [tuple(r) for r in conn.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in (reception_sessions, reception_entries)
        ]


async def test_the_read_model_rebuilds_to_the_same_rows_and_matches_its_migration(
    intake_env: IntakeEnv, tmp_path: Path
) -> None:
    async with reception_api(intake_env, tmp_path) as api:
        session_id = await open_session(api)
        url = f"/v1/reception-sessions/{session_id}"
        for i in range(3):
            r = await api.client.post(f"{url}/entries", json=entry_body(6, 2, (1,)), headers=api.headers(A, f"r{i}"))
            assert r.status_code == 201
        await api.client.post(f"{url}/close", json={"closed_on": DAY}, headers=api.headers(A, "close"))
        for _ in range(200):
            if (await api.client.get(url, headers=api.headers(A))).json()["status"] == "closed":
                break
            await asyncio.sleep(0.05)
        engine = api.state.engine
        ours = sa.MetaData()
        for table in (reception_sessions, reception_entries):
            table.to_metadata(ours)

        def only_ours(name: str | None, kind: str, _parent: object) -> bool:
            return kind != "table" or name in ours.tables

        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn, opts={"include_name": only_ours}), ours) == []
        before = _snapshot(engine)
        assert len(before[1]) == 3
        with engine.connect() as conn:
            row = conn.execute(sa.select(reception_sessions)).one()
        counts = (row.entries, row.people_count, row.crowded_groups, row.cases_opened)
        assert (row.status, row.closed_on.isoformat(), counts) == ("closed", DAY, (3, 18, 3, 0))
        projection = reception_projection(intake_env.settings.province, (reception_sessions, reception_entries))
        log = api.state.deps.log
        await Rebuild(projection, engine, log.js, intake_env.settings.stream, EventRegistry(RECEPTION_EVENTS)).run()
        assert _snapshot(engine) == before
