"""Domain events: frozen payload models with a stable type name and version, and their upcasters.

Services own their payload models and build an :class:`EventRegistry` from them explicitly at start-up; there is
no global list of every event and nothing registers itself at import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from casereg.log.commit import StoredCommit
from casereg.log.envelope import Actor, Envelope

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class DomainEvent(BaseModel):
    """Base of every event payload. Subclasses set ``event_type`` (never a Python path) and ``schema_version``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    #: Upcasters this event declares itself, by the version they lift from (every registry of it uses them).
    upcasters: ClassVar[Mapping[int, Upcaster]] = {}


@dataclass(frozen=True)
class NewEvent:
    """An event decided but not yet written: the log client adds seq, recorded_at and the hashes."""

    event_id: str
    type: str
    schema_version: int
    payload: dict[str, Any]
    occurred_at: datetime
    actor: Actor
    causation_id: str | None = None
    correlation_id: str | None = None

    @classmethod
    def of(
        cls,
        event: DomainEvent,
        *,
        event_id: str,
        occurred_at: datetime,
        actor: Actor,
        causation_id: str | None = None,
        correlation_id: str | None = None,
    ) -> NewEvent:
        return cls(
            event_id=event_id,
            type=event.event_type,
            schema_version=event.schema_version,
            payload=event.model_dump(mode="json"),
            occurred_at=occurred_at,
            actor=actor,
            causation_id=causation_id,
            correlation_id=correlation_id,
        )


class UnknownEventType(LookupError):
    pass


class EventRegistry:
    """Event types a reader knows, with the upcasters that lift old versions to the current one."""

    def __init__(
        self,
        events: Iterable[type[DomainEvent]] = (),
        upcasters: Iterable[tuple[str, int, Upcaster]] = (),
    ) -> None:
        self._models: dict[str, type[DomainEvent]] = {}
        self._upcasters: dict[tuple[str, int], Upcaster] = {}
        for model in events:
            if model.event_type in self._models:
                raise ValueError(f"event type {model.event_type!r} registered twice")
            self._models[model.event_type] = model
            for from_version, step in model.upcasters.items():
                self._upcasters[(model.event_type, from_version)] = step
        for event_type, from_version, fn in upcasters:
            self._upcasters[(event_type, from_version)] = fn

    def current_version(self, event_type: str) -> int | None:
        model = self._models.get(event_type)
        return model.schema_version if model else None

    def upcast(self, envelope: Envelope) -> Envelope:
        """The envelope as the current version reads it. Stored bytes are never changed; ``verify`` never upcasts."""
        target = self.current_version(envelope.type)
        if target is None or envelope.schema_version >= target:
            return envelope
        payload, version = dict(envelope.payload), envelope.schema_version
        while version < target:
            step = self._upcasters.get((envelope.type, version))
            if step is None:
                raise LookupError(f"no upcaster for {envelope.type} v{version}")
            payload, version = step(payload), version + 1
        return envelope.model_copy(update={"payload": payload, "schema_version": version})

    def upcast_commit(self, commit: StoredCommit) -> StoredCommit:
        """The commit with every event as the current version reads it."""
        return StoredCommit(commit.stream_seq, commit.subject, commit.time, tuple(map(self.upcast, commit.events)))

    def decode(self, envelope: Envelope) -> DomainEvent:
        model = self._models.get(envelope.type)
        if model is None:
            raise UnknownEventType(envelope.type)
        return model.model_validate(self.upcast(envelope).payload)
