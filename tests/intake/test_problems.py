"""Problem details (RFC 9457) from a tiny FastAPI app wired as intake wires its API."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI, HTTPException
from httpx import ASGITransport, AsyncClient, Response
from intake.api.problems import (
    PROBLEM_JSON,
    BodySizeLimit,
    FieldError,
    ProblemError,
    field_path,
    install_problem_handlers,
    problem_responses,
    require_json,
    validation_problem,
)
from pydantic import BaseModel, Field

SECRET_NAME = "Nguyễn Văn Bí Mật"
LIMIT = 2000


class Submitter(BaseModel):
    full_name: str = Field(max_length=10)
    age: int


class Petition(BaseModel):
    summary: str
    submitters: list[Submitter] = Field(max_length=3)


def build_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=LIMIT)

    @app.post("/petitions", status_code=201, responses=problem_responses(), dependencies=[Depends(require_json)])
    def submit(petition: Petition) -> dict[str, int]:
        return {"submitters": len(petition.submitters)}

    @app.get("/cases/{case_id}", responses=problem_responses(404, 409))
    def case(case_id: str, limit: Annotated[int, Field(ge=1)] = 10) -> dict[str, str]:
        if case_id == "closed":
            raise ProblemError(
                409, "Conflict", "the case is closed", [FieldError(field="action", message="not allowed")]
            )
        raise HTTPException(404, f"no case {case_id}")

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError(f"secret internals {SECRET_NAME}")

    return app


@pytest.fixture
async def client() -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(build_app(), raise_app_exceptions=False)
    async with AsyncClient(transport=transport, base_url="http://intake") as client:
        yield client


def body_of(response: Response) -> dict[str, object]:
    assert response.headers["content-type"] == PROBLEM_JSON
    data = response.json()
    assert isinstance(data, dict)
    assert data["status"] == response.status_code
    assert data["type"] == "about:blank"
    return data


async def test_valid_request_passes(client: AsyncClient) -> None:
    response = await client.post("/petitions", json={"summary": "s", "submitters": [{"full_name": "A", "age": 3}]})
    assert response.status_code == 201
    assert response.json() == {"submitters": 1}


async def test_invalid_json_is_400(client: AsyncClient) -> None:
    response = await client.post("/petitions", content=b'{"summary": "' + SECRET_NAME.encode(), headers=JSON)
    assert response.status_code == 400
    problem = body_of(response)
    assert problem["title"] == "Invalid JSON"
    assert "not valid JSON" in str(problem["detail"])
    assert SECRET_NAME not in response.text
    assert problem["instance"] == "/petitions"


JSON = {"content-type": "application/json"}


async def test_missing_and_wrong_fields_are_422_named_without_their_values(client: AsyncClient) -> None:
    response = await client.post(
        "/petitions",
        json={"submitters": [{"full_name": "A", "age": 1}, {"full_name": SECRET_NAME, "age": "old-" + SECRET_NAME}]},
    )
    assert response.status_code == 422
    problem = body_of(response)
    fields = {e["field"]: e["message"] for e in problem["errors"]}  # type: ignore[attr-defined]
    assert set(fields) == {"body.summary", "body.submitters[1].full_name", "body.submitters[1].age"}
    assert fields["body.summary"] == "Field required"
    assert "body.summary" in str(problem["detail"])
    assert SECRET_NAME not in response.text
    assert "input" not in response.text


async def test_too_many_items_and_query_errors_are_named(client: AsyncClient) -> None:
    many = [{"full_name": "A", "age": 1}] * 4
    response = await client.post("/petitions", json={"summary": "s", "submitters": many})
    assert response.status_code == 422
    assert [e["field"] for e in body_of(response)["errors"]] == ["body.submitters"]  # type: ignore[attr-defined]
    response = await client.get("/cases/x", params={"limit": 0})
    assert response.status_code == 422
    assert [e["field"] for e in body_of(response)["errors"]] == ["query.limit"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_wrong_content_type_is_415(client: AsyncClient, content_type: str | None) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/petitions", content=b'{"summary": "s", "submitters": []}', headers=headers)
    assert response.status_code == 415
    assert body_of(response)["title"] == "Unsupported Media Type"


async def test_json_with_charset_or_plus_json_is_accepted(client: AsyncClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = await client.post(
            "/petitions", content=b'{"summary": "s", "submitters": []}', headers={"content-type": content_type}
        )
        assert response.status_code == 201, response.text


async def test_body_over_the_limit_is_413(client: AsyncClient) -> None:
    response = await client.post("/petitions", json={"summary": "x" * LIMIT, "submitters": []})
    assert response.status_code == 413
    assert "2000 bytes" in str(body_of(response)["detail"])


async def test_streamed_body_over_the_limit_is_413(client: AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"summary": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'", "submitters": []}'

    response = await client.post("/petitions", content=chunks(), headers=JSON)  # chunked: no Content-Length
    assert response.status_code == 413
    body_of(response)


async def test_http_exception_and_problem_error(client: AsyncClient) -> None:
    response = await client.get("/cases/c-1")
    assert response.status_code == 404
    assert body_of(response)["detail"] == "no case c-1"
    response = await client.get("/cases/closed")
    assert response.status_code == 409
    problem = body_of(response)
    assert problem == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "the case is closed",
        "instance": "/cases/closed",
        "errors": [{"field": "action", "message": "not allowed"}],
    }


async def test_unknown_route_and_method(client: AsyncClient) -> None:
    assert body_of(await client.get("/nowhere"))["status"] == 404
    assert body_of(await client.delete("/petitions"))["status"] == 405


async def test_unexpected_error_is_500_without_internals(client: AsyncClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="intake.api.problems"):
        response = await client.get("/boom")
    assert response.status_code == 500
    problem = body_of(response)
    assert "secret internals" not in response.text
    assert problem["title"] == "Internal Server Error"
    assert any(r.exc_info for r in caplog.records)


async def test_openapi_documents_problems() -> None:
    async with AsyncClient(transport=ASGITransport(build_app()), base_url="http://intake") as client:
        schema = (await client.get("/openapi.json")).json()
    assert "Problem" in schema["components"]["schemas"]
    assert "FieldError" in schema["components"]["schemas"]
    post = schema["paths"]["/petitions"]["post"]["responses"]
    assert set(post) == {"201", "400", "401", "404", "409", "413", "415", "422"}
    for code in ("400", "401", "404", "409", "413", "415", "422"):
        assert post[code]["content"] == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert "WWW-Authenticate" in post["401"]["headers"]
    # FastAPI's own 422 is documented as a problem too, and its HTTPValidationError schema is gone
    get = schema["paths"]["/cases/{case_id}"]["get"]["responses"]
    assert get["422"]["content"] == {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_field_path() -> None:
    assert field_path(("body", "submitters", 0, "full_name")) == "body.submitters[0].full_name"
    assert field_path(("body",)) == "body"
    assert field_path(()) == ""


def test_a_message_quoting_the_value_is_redacted() -> None:
    problem = validation_problem(
        [
            {
                "type": "value_error",
                "loc": ("body", "name"),
                "msg": f"Value error, {SECRET_NAME} is not allowed",
                "input": SECRET_NAME,
            }
        ]
    )
    assert problem.status == 422
    assert problem.errors is not None
    assert SECRET_NAME not in problem.errors[0].message
    assert problem.errors[0].message == "Value error, … is not allowed"


async def test_an_unexpected_error_is_logged_without_its_message(
    client: AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 11: an exception's message may quote personal data; the log keeps its type and frames only."""
    with caplog.at_level(logging.ERROR):
        response = await client.get("/boom")
    assert response.status_code == 500
    logged = "\n".join(caplog.text.splitlines())
    assert "RuntimeError" in logged and "message withheld" in logged and "in boom" in logged
    assert SECRET_NAME not in logged  # the frames show the source line, not the message's value


async def test_an_unexpected_error_is_not_re_raised_to_the_server() -> None:
    """The server (uvicorn) would log a re-raised exception with its message: it must end in the app."""
    transport = ASGITransport(build_app(), raise_app_exceptions=True)
    async with AsyncClient(transport=transport, base_url="http://intake") as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert SECRET_NAME not in response.text
