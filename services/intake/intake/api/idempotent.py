"""Running a creating POST under its ``Idempotency-Key`` (the IETF draft's semantics).

The same key with the same request replays the first answer (also after a restart and days later); the same key
with another request is 422; a request still running under the key is 409. The key is released when the request
fails, so the caller may retry with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.responses import JSONResponse

from intake.adapters import idempotency
from intake.api.problems import ProblemError
from intake.api.state import ApiState

KEY_HEADER = "Idempotency-Key"


async def run_idempotent(
    api: ApiState,
    agency: str,
    key: str | None,
    operation: str,
    body: Any,
    work: Callable[[str], Awaitable[tuple[int, dict[str, Any], dict[str, str]]]],
) -> JSONResponse:
    """``work(request_hash)`` returns (status, JSON body, headers); its answer is stored for replays."""
    if not key:
        raise ProblemError(400, "Bad Request", f"the {KEY_HEADER} header is required on this request")
    if len(key) > idempotency.MAX_KEY_LENGTH:
        raise ProblemError(400, "Bad Request", f"{KEY_HEADER} is longer than {idempotency.MAX_KEY_LENGTH} characters")
    request_hash = idempotency.fingerprint(operation, body)
    begun = await asyncio.to_thread(idempotency.begin, api.engine, agency, key, request_hash)
    if begun.outcome == idempotency.Outcome.REPLAY:
        stored = json.loads(begun.response_json or "{}")
        return JSONResponse(stored.get("body"), status_code=begun.status_code or 200, headers=stored.get("headers"))
    if begun.outcome == idempotency.Outcome.MISMATCH:
        raise ProblemError(422, "Unprocessable Content", f"this {KEY_HEADER} was used for a different request")
    if begun.outcome == idempotency.Outcome.IN_FLIGHT:
        raise ProblemError(409, "Conflict", f"a request with this {KEY_HEADER} is still in progress")
    try:
        status, payload, headers = await work(request_hash)
    except BaseException:
        await asyncio.to_thread(idempotency.abandon, api.engine, agency, key)
        raise
    stored = json.dumps({"body": payload, "headers": headers})
    # LookupError: a retry took the key over as stale while this request ran; both did the same deterministic work.
    with contextlib.suppress(LookupError):
        await asyncio.to_thread(idempotency.complete, api.engine, agency, key, status, stored)
    return JSONResponse(payload, status_code=status, headers=headers)
