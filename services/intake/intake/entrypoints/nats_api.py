"""Intake's NATS entry point: request/reply mirroring the HTTP commands.

A request is translated into the same HTTP request and answered by the same ASGI application in process, so
validation, authentication, idempotency and permissions are those of the HTTP API by construction.

Subjects (``<p>`` is the province): ``reg.<p>.api.intake.petitions.submit`` (body: the petition JSON),
``reg.<p>.api.intake.cases.act`` (body: the act JSON; header ``Case-Id``) and ``reg.<p>.api.intake.cases.get``
(header ``Case-Id``). Headers as over HTTP: ``Authorization``, ``X-Officer-Id``, ``Idempotency-Key``; W3C
``traceparent`` continues the caller's trace. The reply is ``{"status": <HTTP status>, "headers": {...},
"body": <JSON body or problem>}``. The ``frontend`` NATS user may publish only to these subjects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import httpx
from fastapi import FastAPI

FORWARDED_HEADERS = ("authorization", "x-officer-id", "idempotency-key", "traceparent", "tracestate")
_CASE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def subjects(province: str) -> dict[str, tuple[str, str]]:
    """Subject → (method, path template)."""
    base = f"reg.{province}.api.intake"
    return {
        f"{base}.petitions.submit": ("POST", "/v1/petitions"),
        f"{base}.cases.act": ("POST", "/v1/cases/{case_id}/actions"),
        f"{base}.cases.get": ("GET", "/v1/cases/{case_id}"),
    }


def _problem(status: int, detail: str) -> dict[str, Any]:
    title = {400: "Bad Request", 404: "Not Found"}.get(status, "Error")
    return {
        "status": status,
        "headers": {"content-type": "application/problem+json"},
        "body": {"type": "about:blank", "title": title, "status": status, "detail": detail},
    }


class NatsApi:
    """Answers NATS requests through the HTTP application."""

    def __init__(self, app: FastAPI, province: str) -> None:
        self.routes = subjects(province)
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nats-entry")

    async def handle(self, subject: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
        route = self.routes.get(subject)
        if route is None:
            return _problem(404, f"no such request subject: {subject}")
        method, template = route
        lowered = {k.lower(): v for k, v in headers.items()}
        path = template
        if "{case_id}" in template:
            case_id = lowered.get("case-id", "")
            if not _CASE_ID.match(case_id):
                return _problem(400, "the Case-Id header is required: letters, digits, '-' and '_'")
            path = template.format(case_id=case_id)
        forwarded = {k: v for k, v in lowered.items() if k in FORWARDED_HEADERS}
        if method == "POST":
            forwarded["content-type"] = "application/json"
        response = await self.client.request(
            method, path, content=body if method == "POST" else None, headers=forwarded
        )
        try:
            payload: Any = response.json()
        except ValueError:
            payload = response.text
        kept = {k: v for k, v in response.headers.items() if k in ("content-type", "location")}
        return {"status": response.status_code, "headers": kept, "body": payload}

    async def close(self) -> None:
        await self.client.aclose()


def encode_reply(reply: dict[str, Any]) -> bytes:
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
