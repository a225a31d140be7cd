"""Canonical JSON (RFC 8785, JCS) and the hash chain rule of DESIGN §2.

``hash = sha256(JCS(event as stored, without "hash"))``, hex; the first event's ``prev_hash`` is
``sha256("casereg:genesis:" + case_id)``. ``docs/log-format.md`` restates this for independent re-implementation.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

GENESIS_PREFIX = "casereg:genesis:"
#: Integers must stay exact in every JSON reader (JCS serialises numbers as IEEE doubles).
MAX_SAFE_INT = 2**53 - 1


def canonical_bytes(value: Any) -> bytes:
    """RFC 8785 canonical JSON of an event value.

    For the values events may hold (checked by :func:`check_json_value`: ASCII keys, no floats, integers within
    ±2^53) JCS is exactly sorted-key compact JSON with non-ASCII written as itself, which the standard library's
    C encoder produces several times faster than a general JCS implementation. ``tests/log`` holds the
    ``rfc8785`` package to this equality for arbitrary such values.
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def event_hash(stored_event: dict[str, Any]) -> str:
    """The hash of one stored event: every field but ``hash`` itself."""
    body = {k: v for k, v in stored_event.items() if k != "hash"}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def genesis_hash(case_id: str) -> str:
    return hashlib.sha256((GENESIS_PREFIX + case_id).encode("utf-8")).hexdigest()


def format_time(value: datetime) -> str:
    """RFC 3339 UTC with microseconds and ``Z``: the only time format in events."""
    if value.tzinfo is None:
        raise ValueError("event times must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def check_json_value(value: Any, path: str = "payload") -> None:
    """Refuse what would make hashes unstable across readers: floats, huge ints, non-ASCII keys, non-JSON types."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise ValueError(f"{path}: integer out of the exact range; store it as a string")
        return
    if isinstance(value, float):
        raise ValueError(f"{path}: floats are not allowed in events; use a decimal string")
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str) or not k.isascii():
                raise ValueError(f"{path}: keys must be ASCII strings")
            check_json_value(v, f"{path}.{k}")
        return
    if isinstance(value, list):
        for i, v in enumerate(value):
            check_json_value(v, f"{path}[{i}]")
        return
    raise ValueError(f"{path}: {type(value).__name__} is not a JSON value")
