"""Errors as RFC 9457 problem details (``application/problem+json``), and the request limits that produce them.

Every refusal of the HTTP API is a :class:`Problem`: ``type`` (``about:blank`` unless a route says otherwise),
``title`` (the status phrase), ``status``, ``detail``, ``instance`` (the request path) and, for bad fields,
``errors: [{field, message}]`` with paths such as ``body.submitters[0].full_name``. Error messages never repeat
what the caller sent: personal data must not travel back in an error (or into a log through one).

``install_problem_handlers(app)`` maps: invalid JSON → 400; a body that fails validation → 422 naming each field;
``HTTPException`` → its status; :class:`ProblemError` → itself; anything else → 500 without internals (logged).
:func:`require_json` (a dependency) answers 415 to a body that is not JSON; :class:`BodySizeLimit` (ASGI
middleware) answers 413 to a body above its limit. :func:`problem_responses` documents these answers in OpenAPI.
"""

from __future__ import annotations

import email.message
import http
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
#: The default body limit of :class:`BodySizeLimit`: 1 MiB.
DEFAULT_MAX_BODY_BYTES = 1024 * 1024

_DESCRIPTIONS: dict[int, str] = {
    400: "The body is not valid JSON, or the request is malformed.",
    401: "Missing or invalid API key (`Authorization: Bearer …`), or missing or invalid `X-Officer-Id`.",
    403: "The caller may see the resource but not this part of it (identities: the settling officer only).",
    404: "No such resource, or not one the calling agency may see.",
    409: "The request conflicts with the current state (the reason is in `detail`), or a request with the same "
    "Idempotency-Key is still in progress.",
    413: "The request body is larger than the limit.",
    415: "The body is not sent as `application/json`.",
    422: "A field is missing or invalid (each one named in `errors`), or the Idempotency-Key was used for another "
    "request.",
}
#: What ``problem_responses()`` documents by default (403 only where a route names it).
ALL_PROBLEM_CODES = tuple(code for code in _DESCRIPTIONS if code != 403)


class FieldError(BaseModel):
    field: str = Field(description="Where the error is: `body.submitters[0].full_name`, `query.limit`, ...")
    message: str = Field(description="What is wrong with it (never the value sent).")


class Problem(BaseModel):
    """RFC 9457 problem details, with an ``errors`` extension listing the fields at fault."""

    type: str = Field(default="about:blank", description="A URI naming the problem type.")
    title: str = Field(description="Short summary of the problem type (the HTTP status phrase for about:blank).")
    status: int = Field(description="The HTTP status code.")
    detail: str | None = Field(default=None, description="What went wrong in this occurrence.")
    instance: str | None = Field(default=None, description="The request path this occurrence belongs to.")
    errors: list[FieldError] | None = Field(default=None, description="The fields at fault, when fields are.")


class ProblemError(Exception):
    """Raise to answer with a problem: ``raise ProblemError(409, "Conflict", "the case is closed")``.

    ``errors`` are :class:`FieldError` or ``{"field": ..., "message": ...}`` mappings.
    """

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: Sequence[FieldError | Mapping[str, str]] | None = None,
        *,
        type: str = "about:blank",  # the RFC's member name
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        fields = [e if isinstance(e, FieldError) else FieldError.model_validate(e) for e in errors or ()]
        self.problem = Problem(type=type, title=title, status=status, detail=detail, errors=fields or None)
        self.headers = dict(headers or {})


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


#: RFC 9110's names where Python 3.11 still has the older ones.
_RFC9110_PHRASES = {413: "Content Too Large", 422: "Unprocessable Content"}


def _phrase(status: int) -> str:
    if status in _RFC9110_PHRASES:
        return _RFC9110_PHRASES[status]
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_response(
    problem: Problem, request: Request | None = None, headers: Mapping[str, str] | None = None
) -> ProblemResponse:
    if request is not None and problem.instance is None:
        problem = problem.model_copy(update={"instance": request.url.path})
    return ProblemResponse(problem.model_dump(exclude_none=True), status_code=problem.status, headers=headers)


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` entries for these codes (default: 400, 401, 404, 409, 413, 415, 422)."""
    out: dict[int | str, dict[str, Any]] = {}
    for code in codes or ALL_PROBLEM_CODES:
        entry: dict[str, Any] = {
            "description": _DESCRIPTIONS.get(code, _phrase(code)),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        if code == 401:
            entry["headers"] = {
                "WWW-Authenticate": {"description": "`Bearer`", "schema": {"type": "string"}},
            }
        out[code] = entry
    return out


# --- validation errors ------------------------------------------------------------------------------------------


def field_path(loc: Sequence[int | str]) -> str:
    """``("body", "submitters", 0, "full_name")`` → ``body.submitters[0].full_name``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def _safe_message(error: Mapping[str, Any]) -> str:
    """Pydantic's message without the value sent, should a message quote it."""
    message = str(error.get("msg", "invalid"))
    value = error.get("input")
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        text = str(value)
        if len(text) >= 3 and text in message:
            message = message.replace(text, "…")
    return message


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> Problem:
    """422 naming every field at fault, or 400 when the body is not JSON at all."""
    for error in errors:
        if error.get("type") == "json_invalid":
            loc = error.get("loc", ())
            position = f" at character {loc[1]}" if len(loc) > 1 and isinstance(loc[1], int) else ""
            reason = (error.get("ctx") or {}).get("error", "")
            return Problem(
                title="Invalid JSON", status=400, detail=f"the body is not valid JSON: {reason}{position}".strip()
            )
    fields = [FieldError(field=field_path(e.get("loc", ())), message=_safe_message(e)) for e in errors]
    names = ", ".join(dict.fromkeys(f.field for f in fields))
    return Problem(
        title=_phrase(422),
        status=422,
        detail=f"invalid or missing: {names}" if names else "the request is invalid",
        errors=fields,
    )


# --- handlers ---------------------------------------------------------------------------------------------------


async def _on_validation(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    return problem_response(validation_problem(exc.errors()), request)


async def _on_http(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, StarletteHTTPException)
    phrase = _phrase(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    problem = Problem(title=phrase, status=exc.status_code, detail=detail)
    return problem_response(problem, request, exc.headers)


async def _on_problem(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(exc.problem, request, exc.headers)


class WithheldError(Exception):
    """Stands in for an unexpected exception in logs: its type and traceback, never its message.

    An exception's message may quote personal data (a pydantic error repeats the value it refused), and so may
    the exceptions chained to it; the frames are enough to find the bug.
    """


def withheld(exc: BaseException) -> WithheldError:
    names: list[str] = []
    seen: BaseException | None = exc
    while seen is not None and len(names) < 5:
        names.append(type(seen).__name__)
        seen = seen.__cause__ or seen.__context__
    stand_in = WithheldError(f"{' <- '.join(names)} (message withheld: it may hold personal data)")
    return stand_in.with_traceback(exc.__traceback__)


def _log_unexpected(method: str, path: str, exc: BaseException) -> None:
    log.error("unhandled error in %s %s", method, path, exc_info=withheld(exc))


def _unexpected_problem(path: str | None) -> Problem:
    detail = "an unexpected error occurred; it has been logged"
    return Problem(title=_phrase(500), status=500, detail=detail, instance=path)


async def _on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
    _log_unexpected(request.method, request.url.path, exc)
    return problem_response(_unexpected_problem(request.url.path), request)


class ContainUnexpected:
    """ASGI middleware: an unexpected exception ends here as a 500 problem and a message-free log line.

    Without it Starlette re-raises the exception after answering, and the server and the tracing middleware
    would log and record it with its message.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        except Exception as exc:
            _log_unexpected(str(scope.get("method", "")), str(scope.get("path", "")), exc)
            if not started:
                problem = _unexpected_problem(scope.get("path"))
                await ProblemResponse(problem.model_dump(exclude_none=True), status_code=500)(scope, receive, send)


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error of ``app`` as a problem, and document FastAPI's default 422 as one."""
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(Exception, _on_unexpected)
    app.add_middleware(ContainUnexpected)
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        _document_problems(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_problems(schema: dict[str, Any]) -> None:
    """Add the Problem schema; replace FastAPI's default 422 (``HTTPValidationError``) with a problem."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(problem_schema.pop("$defs", {}))
    components["Problem"] = problem_schema
    default_422 = {"$ref": "#/components/schemas/HTTPValidationError"}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            response = operation.get("responses", {}).get("422") if isinstance(operation, dict) else None
            if response and response.get("content", {}).get("application/json", {}).get("schema") == default_422:
                response["description"] = _DESCRIPTIONS[422]
                response["content"] = problem_responses(422)[422]["content"]
    if "HTTPValidationError" not in str(schema.get("paths", {})):
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)


# --- content type and size --------------------------------------------------------------------------------------


def is_json_media_type(content_type: str | None) -> bool:
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


def require_json(request: Request) -> None:
    """Dependency of routes with a JSON body: anything but ``application/json`` (or ``+json``) is 415."""
    if not is_json_media_type(request.headers.get("content-type")):
        raise ProblemError(
            415,
            "Unsupported Media Type",
            "send the body as application/json",
            headers={"Accept-Post": "application/json"},
        )


class BodyTooLarge(HTTPException):
    """Raised while the body streams in; FastAPI lets HTTPExceptions out of its body reading."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit} bytes")


class BodySizeLimit:
    """ASGI middleware: 413 for a body above ``max_bytes``, told by Content-Length or counted as it streams."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    break
                if declared > self.max_bytes:
                    await self._refuse(scope, receive, send)
                    return
        seen = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem = Problem(
            title=_phrase(413),
            status=413,
            detail=f"the request body is larger than {self.max_bytes} bytes",
            instance=scope.get("path"),
        )
        response = ProblemResponse(
            problem.model_dump(exclude_none=True), status_code=413, headers={"Connection": "close"}
        )
        await response(scope, receive, send)
