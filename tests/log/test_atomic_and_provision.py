"""Atomic two-subject writes, and provisioning that refuses a weakened stream (issue 3)."""

from __future__ import annotations

import dataclasses
from typing import Any

import nats.errors
import pytest
from casereg.log.envelope import Actor, AggregateRef, new_event_id
from casereg.log.errors import ConcurrencyConflict, WeakStreamConfig
from casereg.log.events import NewEvent
from casereg.log.provision import check, desired_config, provision
from casereg.log.store import Head
from casereg.settings import PlatformSettings
from nats.aio.client import Client as NATS
from nats.js.api import StreamConfig
from nats.js.errors import APIError

from tests.conftest import connect_as
from tests.log.conftest import LogEnv


def ev(env: LogEnv, kind: str) -> NewEvent:
    return NewEvent(new_event_id(), kind, 1, {}, env.clock.now(), Actor(service="intake"))


async def test_counter_and_case_land_together(log_env: LogEnv) -> None:
    counter = AggregateRef(kind="counter", id="ubnd-xa-1-2026")
    case = AggregateRef.case("k1")
    results = await log_env.log.append_atomic(
        [
            (counter, [ev(log_env, "ReceiptNumberIssued")], Head.genesis(counter.id)),
            (case, [ev(log_env, "PetitionReceived")], Head.genesis(case.id)),
        ]
    )
    assert results[1].stream_seq == results[0].stream_seq + 1
    assert len(await log_env.log.events(counter)) == 1
    assert len(await log_env.log.events(case)) == 1


async def test_atomic_batch_with_a_stale_head_writes_nothing(log_env: LogEnv) -> None:
    case = AggregateRef.case("k2")
    first = await log_env.log.append(case, [ev(log_env, "PetitionReceived")], Head.genesis(case.id))
    await log_env.log.append(case, [ev(log_env, "NoteAdded")], first.head)
    counter = AggregateRef(kind="counter", id="ubnd-xa-2-2026")
    with pytest.raises(ConcurrencyConflict):
        await log_env.log.append_atomic(
            [
                (counter, [ev(log_env, "ReceiptNumberIssued")], Head.genesis(counter.id)),
                (case, [ev(log_env, "NoteAdded")], first.head),
            ]
        )
    assert await log_env.log.events(counter) == []
    assert len(await log_env.log.events(case)) == 2


async def test_service_user_cannot_delete_or_purge(log_env: LogEnv, admin_nc: NATS) -> None:
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await connect_as(log_env.server, "routing")
    nc._error_cb = on_error  # the client keeps its callback here; connect_as has no parameter for it
    js = nc.jetstream(timeout=1)
    stream = log_env.settings.stream
    ref = AggregateRef.case("kept")
    await log_env.log.append(ref, [ev(log_env, "PetitionReceived")], Head.genesis(ref.id))
    for attempt in (js.delete_msg(stream, 1), js.purge_stream(stream), js.delete_stream(stream)):
        with pytest.raises(nats.errors.TimeoutError):  # a denied request gets no reply
            await attempt
    info = await admin_nc.jetstream().stream_info(stream)
    assert info.state.messages == 1
    assert any("permissions violation" in str(e).lower() for e in errors)
    # The stream flags refuse even the admin a message delete or purge.
    with pytest.raises(APIError, match=r"(?i)delete"):
        await admin_nc.jetstream().delete_msg(stream, 1)
    await nc.close()


@pytest.mark.parametrize(
    "weaken",
    [
        {"deny_delete": False},
        {"deny_purge": False},
        {"max_age": 3600.0},
        {"max_msgs": 1000},
        {"max_bytes": 10_000_000},
        {"max_msgs_per_subject": 5},
        {"allow_rollup_hdrs": True, "deny_purge": False},  # the server ties roll-ups to purging
        {"allow_msg_ttl": True},
        {"allow_msg_schedules": True},
    ],
)
async def test_provisioning_refuses_a_weakened_stream(admin_nc: NATS, unique: str, weaken: dict[str, Any]) -> None:
    settings = PlatformSettings(province=f"w{unique}", stream=f"WEAK_{unique}")
    config: StreamConfig = dataclasses.replace(desired_config(settings), **weaken)
    js = admin_nc.jetstream()
    await js.add_stream(config)
    try:
        with pytest.raises(WeakStreamConfig) as caught:
            await provision(admin_nc, settings)
        assert caught.value.problems
    finally:
        await js.delete_stream(settings.stream)


async def test_check_refuses_a_missing_stream(admin_nc: NATS, unique: str) -> None:
    with pytest.raises(WeakStreamConfig):
        await check(admin_nc, PlatformSettings(stream=f"NONE_{unique}"))
