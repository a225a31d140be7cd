"""Create the registry's stream, and refuse to run against one that weakens the append-only rules."""

from __future__ import annotations

import dataclasses
import logging

from nats.aio.client import Client as NATS
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from casereg.log.errors import WeakStreamConfig
from casereg.settings import PlatformSettings

log = logging.getLogger(__name__)


SEAL_SUBJECTS = "seal.*"


def seal_subject(province: str) -> str:
    """The one subject of the seals stream (``casereg.audit.seals``)."""
    return f"seal.{province}"


def log_subjects(province: str) -> list[str]:
    """``reg.<province>.{case,session,access}.<id>`` and ``reg.<province>.counter.<agency>.<year>``.

    Request subjects (``reg.<province>.api.>``) stay outside the stream on purpose.
    """
    return [
        f"reg.{province}.case.*",
        f"reg.{province}.session.*",
        f"reg.{province}.access.*",
        f"reg.{province}.counter.*.*",
    ]


def desired_config(settings: PlatformSettings) -> StreamConfig:
    return StreamConfig(
        name=settings.stream,
        description=f"casereg event log of province {settings.province}: append-only",
        subjects=log_subjects(settings.province),
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        num_replicas=settings.stream_replicas,
        discard=DiscardPolicy.OLD,
        max_msgs=-1,
        max_bytes=-1,
        max_age=0,
        max_msgs_per_subject=-1,
        deny_delete=True,
        deny_purge=True,
        allow_rollup_hdrs=False,
        allow_msg_ttl=False,
        allow_msg_schedules=False,
        allow_atomic=True,
        duplicate_window=120.0,
    )


def problems_with(config: StreamConfig, province: str, subjects: list[str] | None = None) -> list[str]:
    """Every way an existing stream weakens the log's guarantees (DESIGN §2)."""
    found = []
    if not config.deny_delete:
        found.append("deny_delete is off")
    if not config.deny_purge:
        found.append("deny_purge is off")
    if config.allow_rollup_hdrs:
        found.append("rollups are allowed")
    for name in ("max_msgs", "max_bytes", "max_msgs_per_subject"):
        value = getattr(config, name)
        if value is not None and value not in (-1, 0):
            found.append(f"{name} is limited to {value}")
    if config.max_age:
        found.append(f"max_age is {config.max_age}s")
    if config.allow_msg_ttl:
        found.append("per-message TTL is allowed")
    if config.allow_msg_schedules:
        found.append("message schedules are allowed")
    if config.subject_delete_marker_ttl:
        found.append("subject delete markers have a TTL")
    if config.retention not in (None, RetentionPolicy.LIMITS):
        found.append(f"retention is {config.retention}")
    if config.sealed:
        found.append("the stream is sealed")
    missing = set(log_subjects(province) if subjects is None else subjects) - set(config.subjects or [])
    if missing:
        found.append(f"subjects {sorted(missing)} are missing")
    return found


async def check(nc: NATS, settings: PlatformSettings) -> None:
    """Raise :class:`WeakStreamConfig` unless the stream exists with the append-only config (any user may check)."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(settings.stream)
    except NotFoundError:
        raise WeakStreamConfig(settings.stream, ["the stream does not exist: run `casereg provision`"]) from None
    problems = problems_with(info.config, settings.province)
    if problems:
        raise WeakStreamConfig(settings.stream, problems)


def seals_config(settings: PlatformSettings) -> StreamConfig:
    """The seals' own stream: as append-only as the log, without atomic batches.

    It takes ``seal.*`` (each province seals on ``seal.<province>``, so provinces sharing a server, as tests do,
    share the stream but never a chain).
    """
    return dataclasses.replace(
        desired_config(settings),
        name=settings.seals_stream,
        description=f"casereg seals of province {settings.province}: append-only",
        subjects=[SEAL_SUBJECTS],
        allow_atomic=False,
    )


async def check_seals(nc: NATS, settings: PlatformSettings) -> None:
    """Raise :class:`WeakStreamConfig` unless the seals stream exists with the append-only config."""
    js = nc.jetstream()
    try:
        info = await js.stream_info(settings.seals_stream)
    except NotFoundError:
        raise WeakStreamConfig(settings.seals_stream, ["the stream does not exist: run `casereg provision`"]) from None
    problems = problems_with(info.config, settings.province, [SEAL_SUBJECTS])
    if problems:
        raise WeakStreamConfig(settings.seals_stream, problems)


async def provision(nc: NATS, settings: PlatformSettings) -> None:
    """Create the log and seals streams if missing (admin user), then check them. Never loosens or rewrites one."""
    js = nc.jetstream()
    for config in (desired_config(settings), seals_config(settings)):
        try:
            await js.stream_info(config.name or "")
        except NotFoundError:
            await js.add_stream(config)
            log.info("created stream %s", config.name)
    await check(nc, settings)
    await check_seals(nc, settings)
