"""Health and readiness of a service, asked and answered over NATS request/reply.

Every service answers on ``casereg.<province>.health.<service>`` with a :class:`HealthReport`; a supervised process
that is not a NATS service (:mod:`casereg.platform.processes`) answers the same document over HTTP. ``ready``
means the service finished starting and every readiness check passes; ``status`` is ``ok`` when every check
passes and ``degraded`` otherwise.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import httpx
from nats.aio.client import Client as NATS
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from pydantic import BaseModel, ConfigDict, ValidationError

from casereg.platform.nats_config import health_subject


class CheckStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    detail: str = ""


class HealthReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    service: str
    status: Literal["ok", "degraded"]
    ready: bool
    pid: int
    started_at: datetime
    checks: dict[str, CheckStatus]

    @property
    def healthy(self) -> bool:
        return self.status == "ok" and self.ready


class HealthUnavailable(Exception):
    """No valid answer from a service within the timeout."""


async def request_health(nc: NATS, province: str, service: str, reply_timeout: float = 2.0) -> HealthReport:
    try:
        reply = await nc.request(health_subject(province, service), b"", timeout=reply_timeout)
    except NoRespondersError:
        raise HealthUnavailable("no responders") from None
    except (TimeoutError, NatsTimeoutError):
        raise HealthUnavailable(f"no answer within {reply_timeout}s") from None
    return _parse(reply.data)


async def request_http_health(url: str, reply_timeout: float = 2.0) -> HealthReport:
    """The health of a supervised process that is not a NATS service (``GET url`` answers a HealthReport)."""
    try:
        async with httpx.AsyncClient(timeout=reply_timeout) as client:
            response = await client.get(url)
    except httpx.TimeoutException:
        raise HealthUnavailable(f"no answer within {reply_timeout}s") from None
    except httpx.TransportError as exc:
        raise HealthUnavailable(f"unreachable: {type(exc).__name__}") from None
    if response.status_code != 200:
        raise HealthUnavailable(f"health answered HTTP {response.status_code}")
    return _parse(response.content)


def _parse(data: bytes) -> HealthReport:
    try:
        return HealthReport.model_validate_json(data)
    except ValidationError as exc:
        raise HealthUnavailable(f"invalid health reply: {exc.error_count()} errors") from None
