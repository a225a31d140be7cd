"""Processes ``casereg up`` supervises besides the services: the ``casereg.processes`` entry-point group.

An entry is a callable ``(PlatformSettings) -> ExtraProcess | None`` (``None``: not wanted in this configuration,
e.g. a development tool in production). Such a process is started, prefixed, restarted and stopped like a service,
but is not a NATS service: ``casereg status`` asks its ``health_url`` over HTTP for a :class:`HealthReport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from casereg.settings import PlatformSettings

PROCESSES_GROUP = "casereg.processes"


@dataclass(frozen=True)
class ExtraProcess:
    name: str
    #: Arguments after the Python interpreter, e.g. ``("-m", "package.module", "--port", "1234")``.
    args: tuple[str, ...]
    #: ``GET`` answers a :class:`casereg.platform.health.HealthReport` as JSON.
    health_url: str
    #: Variables given to every supervised process (e.g. where the services find this one).
    env: Mapping[str, str] = field(default_factory=dict)


def extra_processes(settings: PlatformSettings) -> list[ExtraProcess]:
    """The extra processes wanted under ``settings``, by entry-point name."""
    wanted: list[ExtraProcess] = []
    for ep in sorted(entry_points(group=PROCESSES_GROUP), key=lambda e: e.name):
        process = ep.load()(settings)
        if process is not None:
            wanted.append(process)
    return wanted
