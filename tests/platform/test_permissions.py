"""Issue 2 acceptance: only the admin may delete or purge a stream; every other user gets a permission violation.

The stream here has no ``deny_delete``/``deny_purge`` flags, so the server's permissions are the only guard.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import nats
import pytest
from casereg.platform.credentials import FRONTEND_USER, OPERATOR_USER, SERVICE_USERS
from casereg.platform.nats_embedded import EmbeddedNats
from nats.aio.client import Client as NATS
from nats.js.errors import NotFoundError

NON_ADMIN_USERS = (*SERVICE_USERS, OPERATOR_USER, FRONTEND_USER)
#: The JetStream API requests behind nats-py's ``delete_stream``, ``purge_stream``, ``delete_msg``, ``update_stream``.
API = {
    "delete": ("STREAM.DELETE", b""),
    "purge": ("STREAM.PURGE", b"{}"),
    "delete_msg": ("STREAM.MSG.DELETE", b'{"seq": 1}'),
    "update": ("STREAM.UPDATE", b"{}"),
}


async def until(probe: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not await probe():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s")
        await asyncio.sleep(0.02)


@pytest.fixture
async def stream(admin_nc: NATS, unique: str) -> AsyncIterator[str]:
    """A stream with one message, guarded only by permissions."""
    name = f"PERM_{unique}"
    js = admin_nc.jetstream()
    await js.add_stream(name=name, subjects=[f"perm.{unique}.>"])
    await js.publish(f"perm.{unique}.a", b"kept")
    yield name
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(name)


async def _violation(server: EmbeddedNats, user: str, action: str, stream: str) -> list[Exception]:
    """Run one stream-management call as ``user``; the errors the server reported through ``error_cb``."""
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(server.url, user=user, password=server.credentials.password(user), error_cb=on_error)
    try:
        api, payload = API[action]
        with pytest.raises(nats.errors.TimeoutError):
            await nc.request(f"$JS.API.{api}.{stream}", payload, timeout=0.25)

        async def seen() -> bool:
            return any("permissions violation" in str(e).lower() for e in errors)

        await until(seen)
    finally:
        await nc.close()
    return errors


@pytest.mark.parametrize("user", NON_ADMIN_USERS)
@pytest.mark.parametrize("action", sorted(API))
async def test_non_admin_users_cannot_delete_purge_or_weaken_a_stream(
    nats_server: EmbeddedNats, admin_nc: NATS, stream: str, user: str, action: str
) -> None:
    errors = await _violation(nats_server, user, action, stream)

    api = API[action][0]
    # nats-py lower-cases the server's message
    assert any(f"$js.api.{api}.{stream}".lower() in str(e).lower() for e in errors), errors
    info = await admin_nc.jetstream().stream_info(stream)
    assert info.state.messages == 1


async def test_admin_can_purge_and_delete(admin_nc: NATS, stream: str) -> None:
    js = admin_nc.jetstream()
    assert await js.purge_stream(stream)
    assert (await js.stream_info(stream)).state.messages == 0
    assert await js.delete_stream(stream)
    with pytest.raises(NotFoundError):
        await js.stream_info(stream)


async def test_service_user_may_append_to_its_own_subjects_only(
    nats_server: EmbeddedNats, admin_nc: NATS, unique: str
) -> None:
    """The other side of the guard: routing may publish to ``reg.<province>.case.>`` but not to counters."""
    js_admin = admin_nc.jetstream()
    name = f"OWN_{unique}"
    await js_admin.add_stream(name=name, subjects=[f"reg.52.case.{unique}", f"reg.52.counter.{unique}.2026"])
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    nc = await nats.connect(
        nats_server.url, user="routing", password=nats_server.credentials.password("routing"), error_cb=on_error
    )
    try:
        js = nc.jetstream(timeout=0.25)
        ack = await js.publish(f"reg.52.case.{unique}", b"{}")
        assert ack.stream == name
        with pytest.raises(nats.errors.TimeoutError):
            await js.publish(f"reg.52.counter.{unique}.2026", b"{}")

        async def seen() -> bool:
            return any("permissions violation" in str(e).lower() for e in errors)

        await until(seen)
    finally:
        await nc.close()
        await js_admin.delete_stream(name)
