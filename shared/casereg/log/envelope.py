"""The envelope every event is stored in (DESIGN §2), and the commit that carries a decision's events."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from casereg.log.canonical import check_json_value, format_time

#: Aggregate kinds and their subject layout ``reg.<province>.<kind>.<id>``.
AGGREGATE_KINDS = ("case", "session", "counter", "access")
_ID = re.compile(r"^[A-Za-z0-9_-]+$")
#: Format tag of a stored commit message.
COMMIT_FORMAT = "casereg.commit/1"


class Actor(BaseModel):
    """Who caused an event: an officer of an agency, or a service reacting on its own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: str | None = None
    officer: str | None = None
    role: str | None = None
    service: str | None = None


class Envelope(BaseModel):
    """One stored event. ``case_id`` is the aggregate's id (a case, session, counter...)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    case_id: str
    type: str
    schema_version: int = Field(ge=1)
    seq: int = Field(ge=1)
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    causation_id: str | None = None
    correlation_id: str | None = None
    trace_id: str | None = None
    payload: dict[str, Any]
    prev_hash: str
    hash: str

    @field_serializer("occurred_at", "recorded_at")
    def _time(self, value: datetime) -> str:
        return format_time(value)

    @field_validator("payload")
    @classmethod
    def _json_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        check_json_value(value)
        return value

    def stored(self) -> dict[str, Any]:
        """The envelope exactly as it is written (JSON types only)."""
        return self.model_dump(mode="json")


class AggregateRef(BaseModel):
    """An aggregate's address in the log."""

    model_config = ConfigDict(frozen=True)

    kind: str
    id: str

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in AGGREGATE_KINDS:
            raise ValueError(f"aggregate kind must be one of {AGGREGATE_KINDS}")
        return value

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("aggregate ids are letters, digits, '-' and '_' (no dots)")
        return value

    def subject(self, province: str) -> str:
        if self.kind == "counter":
            # reg.<province>.counter.<agency>.<year>: the id is "<agency>-<year>" split at the last dash.
            agency, _, year = self.id.rpartition("-")
            return f"reg.{province}.counter.{agency}.{year}"
        return f"reg.{province}.{self.kind}.{self.id}"

    @classmethod
    def case(cls, case_id: str) -> AggregateRef:
        return cls(kind="case", id=case_id)

    @classmethod
    def from_subject(cls, subject: str) -> AggregateRef:
        parts = subject.split(".")
        if len(parts) < 4 or parts[0] != "reg":
            raise ValueError(f"not a log subject: {subject}")
        kind = parts[2]
        if kind == "counter":
            return cls(kind=kind, id=f"{parts[3]}-{parts[4]}")
        return cls(kind=kind, id=parts[3])


def new_event_id() -> str:
    return str(uuid.uuid4())


#: Namespace of reaction event ids: uuid5(namespace, f"{causation_id}/{type}/{index}").
REACTION_NAMESPACE = uuid.UUID("6c1f3c52-6f0b-5b55-9a7e-2b6f7b0c9a11")


def reaction_event_id(causation_id: str, event_type: str, index: int = 0) -> str:
    """Deterministic id of an event emitted in reaction to another, so a re-run recognises its own append."""
    return str(uuid.uuid5(REACTION_NAMESPACE, f"{causation_id}/{event_type}/{index}"))


def command_event_id(scope: str, idempotency_key: str, event_type: str, index: int = 0) -> str:
    """Deterministic id of an event decided from a caller's command with an idempotency key."""
    return str(uuid.uuid5(REACTION_NAMESPACE, f"cmd/{scope}/{idempotency_key}/{event_type}/{index}"))
