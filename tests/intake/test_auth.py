"""``current_caller``: the agency's key and the officer's id, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from intake.adapters.agencies import add_agency, revoke_agency
from intake.api.auth import OFFICER_HEADER, CurrentCaller
from intake.api.problems import PROBLEM_JSON, install_problem_handlers, problem_responses

from tests.intake.databases import db_url_fixture, engine_fixture  # noqa: F401 - fixtures


def build_app(engine: sa.Engine) -> FastAPI:
    app = FastAPI()
    app.state.engine = engine
    install_problem_handlers(app)

    @app.get("/whoami", responses=problem_responses(401))
    def whoami(caller: CurrentCaller) -> dict[str, str]:
        return {"agency": caller.agency.code, "role": caller.agency.role.value, "officer": caller.officer_id}

    return app


@pytest.fixture
async def client(engine: sa.Engine) -> AsyncIterator[AsyncClient]:
    async with AsyncClient(transport=ASGITransport(build_app(engine)), base_url="http://intake") as client:
        yield client


async def test_key_and_officer_make_a_caller(engine: sa.Engine, client: AsyncClient) -> None:
    _, key = add_agency(engine, "2tier/21583/ubnd", "UBND phường Quy Nhơn", "21583", "clerk")
    response = await client.get(
        "/whoami", headers={"Authorization": f"Bearer {key}", OFFICER_HEADER: "nguyen.van.a@quynhon"}
    )
    assert response.status_code == 200
    assert response.json() == {"agency": "2tier/21583/ubnd", "role": "clerk", "officer": "nguyen.van.a@quynhon"}


@pytest.mark.parametrize(
    ("authorization", "officer", "says"),
    [
        (None, "o-1", "missing Authorization"),
        ("Basic dXNlcjpwYXNz", "o-1", "invalid or revoked API key"),
        ("Bearer cr_000000000000_" + "x" * 43, "o-1", "invalid or revoked API key"),
        ("GOOD", None, f"missing {OFFICER_HEADER}"),
        ("GOOD", "", f"missing {OFFICER_HEADER}"),
        ("GOOD", "has space", f"invalid {OFFICER_HEADER}"),
        ("GOOD", "x" * 65, f"invalid {OFFICER_HEADER}"),
    ],
)
async def test_401_says_which_header(
    engine: sa.Engine, client: AsyncClient, authorization: str | None, officer: str | None, says: str
) -> None:
    _, key = add_agency(engine, "a1", "A", "52", "handler")
    headers: dict[str, str] = {}
    if authorization is not None:
        headers["Authorization"] = f"Bearer {key}" if authorization == "GOOD" else authorization
    if officer is not None:
        headers[OFFICER_HEADER] = officer
    response = await client.get("/whoami", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == "Bearer"
    assert says in response.json()["detail"]


async def test_revoked_agency_is_refused(engine: sa.Engine, client: AsyncClient) -> None:
    _, key = add_agency(engine, "a1", "A", "52", "handler")
    revoke_agency(engine, "a1")
    response = await client.get("/whoami", headers={"Authorization": f"Bearer {key}", OFFICER_HEADER: "o-1"})
    assert response.status_code == 401


async def test_openapi_documents_both_headers(engine: sa.Engine, client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["AgencyKey"]["scheme"] == "bearer"
    assert schemes["OfficerId"] == {
        "type": "apiKey",
        "in": "header",
        "name": OFFICER_HEADER,
        "description": schemes["OfficerId"]["description"],
    }
