"""NATS connections for CLI commands: fail fast with one readable line instead of reconnecting forever."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import nats.errors
from nats.aio.client import Client as NATS

from casereg.cli.runtime import CommandError
from casereg.platform.connect import password_for
from casereg.settings import PlatformSettings


def reason(exc: BaseException) -> str:
    text = str(exc).strip()
    return text or type(exc).__name__


@asynccontextmanager
async def connected(settings: PlatformSettings, user: str) -> AsyncIterator[NATS]:
    """A NATS connection as ``user`` that fails fast (no endless reconnecting) with a readable error.

    NATS and JetStream errors raised inside the block become :class:`CommandError`.
    """
    try:
        password = password_for(settings, user)
    except FileNotFoundError as exc:
        raise CommandError(str(exc)) from None
    except KeyError as exc:
        raise CommandError(str(exc.args[0]) if exc.args else f"no NATS password for {user!r}") from None
    problems: list[Exception] = []

    async def remember(exc: Exception) -> None:
        problems.append(exc)

    try:
        nc = await nats.connect(
            settings.nats_url,
            user=user,
            password=password,
            name=f"casereg-cli-{user}",
            connect_timeout=3,
            allow_reconnect=False,
            # nats-py retries the first connection too (default: 60 attempts, 2 s apart); a CLI fails fast.
            max_reconnect_attempts=2,
            reconnect_time_wait=0.5,
            error_cb=remember,
        )
    except Exception as exc:
        cause = problems[-1] if problems else exc
        raise CommandError(f"cannot connect to NATS at {settings.nats_url} as {user!r}: {reason(cause)}") from None
    try:
        yield nc
    except (nats.errors.Error, TimeoutError) as exc:
        raise CommandError(f"NATS at {settings.nats_url}: {reason(exc)}") from None
    finally:
        with contextlib.suppress(Exception):
            await nc.close()
