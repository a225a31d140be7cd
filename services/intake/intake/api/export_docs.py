"""``python -m intake.api.export_docs [--out DIR]``: write intake's contracts as ``openapi.json`` and ``asyncapi.json``.

- ``openapi.json`` is the HTTP application's own OpenAPI document (what ``/openapi.json`` serves), built without a
  server, database or NATS connection: the application is created around placeholders that are never called.
- ``asyncapi.json`` (AsyncAPI 3.0) describes the NATS entry point (``intake.entrypoints.nats_api``): request/reply
  on ``reg.<province>.api.intake.petitions.submit``, ``….cases.act`` and ``….cases.get``, with the same JSON
  bodies as over HTTP (the pydantic models' JSON schemas) and the same headers, plus ``Case-Id``.

``make docs`` runs it; a test checks that the committed documents equal a fresh export.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, cast

import sqlalchemy as sa
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from intake.adapters.idempotency import MAX_KEY_LENGTH
from intake.api.app import create_app
from intake.api.auth import OFFICER_HEADER
from intake.api.idempotent import KEY_HEADER
from intake.api.problems import Problem
from intake.api.schemas import ActionBody, ActionOut, CaseOut, PetitionBody, SubmissionOut
from intake.api.state import ApiState
from intake.handlers.deps import IntakeDeps

DEFAULT_OUT = Path("docs")
CASE_ID_HEADER = "Case-Id"
_REF = "#/components/schemas/{model}"


class _Unavailable:
    """Stands in for a live dependency while only the schema is built: any use of it is a bug."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> NoReturn:
        raise RuntimeError(f"{self._name}.{attribute}: not available while exporting the API documents")


def openapi_document() -> dict[str, Any]:
    """The HTTP API's OpenAPI document, exactly as ``GET /openapi.json`` serves it."""
    state = ApiState(
        deps=cast(IntakeDeps, _Unavailable("deps")),
        engine=cast(sa.Engine, _Unavailable("engine")),
        directory=None,
    )
    return create_app(state).openapi()


# --- AsyncAPI ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NatsRequest:
    """One request subject of the NATS entry point and the HTTP operation it mirrors."""

    operation: str  # the AsyncAPI operation id
    subject: str  # after ``reg.<province>.api.intake.``
    http: str
    summary: str
    request: type[BaseModel] | None  # the JSON body, as over HTTP (None: no body)
    reply: type[BaseModel]  # the body of a 2xx answer
    idempotent: bool  # needs an Idempotency-Key
    case_id: bool  # names its case in the Case-Id header


NATS_REQUESTS = (
    NatsRequest(
        "submitPetition",
        "petitions.submit",
        "POST /v1/petitions",
        "Submit a petition: a new case with the receiving agency's next receipt number.",
        PetitionBody,
        SubmissionOut,
        idempotent=True,
        case_id=False,
    ),
    NatsRequest(
        "recordAction",
        "cases.act",
        "POST /v1/cases/{case_id}/actions",
        "Record a legal act of the handling agency; an act the case's state forbids is a 409.",
        ActionBody,
        ActionOut,
        idempotent=True,
        case_id=True,
    ),
    NatsRequest(
        "readCase",
        "cases.get",
        "GET /v1/cases/{case_id}",
        "Read a case this agency may see.",
        None,
        CaseOut,
        idempotent=False,
        case_id=True,
    ),
)


def nats_subject(province: str, request: NatsRequest) -> str:
    return f"reg.{province}.api.intake.{request.subject}"


def _reply_schema(success: str) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "The HTTP answer, wrapped: its status, the headers that matter and its JSON body.",
        "required": ["status", "headers", "body"],
        "properties": {
            "status": {"type": "integer", "description": "The HTTP status the same request gets over HTTP."},
            "headers": {
                "type": "object",
                "description": "`content-type` (`application/json` or `application/problem+json`) and, "
                "for a new case, `location`.",
                "additionalProperties": {"type": "string"},
            },
            "body": {
                "description": f"`{success}` on success (2xx), a `Problem` (RFC 9457) otherwise.",
                "oneOf": [{"$ref": _REF.format(model=success)}, {"$ref": _REF.format(model="Problem")}],
            },
        },
    }


def _request_headers(request: NatsRequest) -> dict[str, Any]:
    properties: dict[str, Any] = {
        "Authorization": {
            "type": "string",
            "pattern": "^Bearer .+$",
            "description": "`Bearer <API key>`: the agency's API key, issued by `casereg agency add`.",
        },
        OFFICER_HEADER: {
            "type": "string",
            "pattern": "^[A-Za-z0-9._@-]{1,64}$",
            "description": "The acting officer, as the agency's system names them; recorded in the event's actor.",
        },
    }
    if request.idempotent:
        properties[KEY_HEADER] = {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_KEY_LENGTH,
            "description": "A unique key per request: a retry with the same key and body returns the first answer.",
        }
    if request.case_id:
        properties[CASE_ID_HEADER] = {
            "type": "string",
            "pattern": "^[A-Za-z0-9_-]{1,64}$",
            "description": "The case (the `{case_id}` of the HTTP path); missing or malformed: a 400 reply.",
        }
    properties["traceparent"] = {"type": "string", "description": "W3C trace context (optional)."}
    return {
        "type": "object",
        "required": [name for name in properties if name != "traceparent"],
        "properties": properties,
    }


def _component_schemas() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for request in NATS_REQUESTS:
        if request.request is not None:
            models.append((request.request, "validation"))
        models.append((request.reply, "serialization"))
    _, top = models_json_schema(models, ref_template=_REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    for request in NATS_REQUESTS:
        schemas[_name(request, "Reply")] = _reply_schema(request.reply.__name__)
    return dict(sorted(schemas.items()))


def _name(request: NatsRequest, suffix: str = "") -> str:
    return request.operation[0].upper() + request.operation[1:] + suffix


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 for intake's NATS request/reply entry point (intake is the application described)."""
    province = {
        "province": {
            "description": "The province's code in the registry's subjects, e.g. `52`.",
            "examples": ["52"],
        }
    }
    inbox = "The requester's inbox: NATS delivers the reply to the reply subject of the request."
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for request in NATS_REQUESTS:
        op, name, reply = request.operation, _name(request), _name(request, "Reply")
        message: dict[str, Any] = {
            "name": name,
            "contentType": "application/json",
            "headers": _request_headers(request),
        }
        if request.request is not None:
            message["payload"] = {"$ref": _REF.format(model=request.request.__name__)}
        messages[name] = message
        messages[reply] = {
            "name": reply,
            "contentType": "application/json",
            "payload": {"$ref": _REF.format(model=reply)},
        }
        channels[op] = {
            "address": nats_subject("{province}", request),
            "description": f"Same as `{request.http}`.",
            "parameters": province,
            "messages": {op: {"$ref": f"#/components/messages/{name}"}},
        }
        channels[f"{op}Reply"] = {
            "address": None,
            "description": inbox,
            "messages": {f"{op}Reply": {"$ref": f"#/components/messages/{reply}"}},
        }
        operations[op] = {
            "action": "receive",
            "channel": {"$ref": f"#/channels/{op}"},
            "summary": request.summary,
            "messages": [{"$ref": f"#/channels/{op}/messages/{op}"}],
            "reply": {
                "channel": {"$ref": f"#/channels/{op}Reply"},
                "messages": [{"$ref": f"#/channels/{op}Reply/messages/{op}Reply"}],
            },
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "casereg intake NATS API",
            "version": "1",
            "description": (
                "The NATS entry point of intake, mirroring the HTTP commands (docs/api.md, docs/openapi.json): "
                "the same JSON bodies and headers, answered by the same application, so validation, "
                "idempotency and permissions are the HTTP API's. Send a NATS request (the `frontend` user may "
                "publish only to `reg.<province>.api.intake.>`); the reply wraps the answer the same request "
                "gets over HTTP. Intake is the application described: it receives the requests and replies."
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _component_schemas()},
    }


# --- writing ----------------------------------------------------------------------------------------------------


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def documents() -> dict[str, str]:
    """File name → content."""
    return {"openapi.json": render(openapi_document()), "asyncapi.json": render(asyncapi_document())}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m intake.api.export_docs", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory to write into (default: docs)")
    args = parser.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, text in documents().items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
