"""The push adapter: how records reach the national database (DOMAIN §7), behind :class:`NationalAdapter`.

:class:`HttpNationalAdapter` speaks the registry's own push contract (``docs/national-simulator.md``): one ``PUT``
per (record, version) with an ``Idempotency-Key``, reconciliation by paged ``GET``. Each HTTP request has a timeout;
timeouts, connection errors, ``5xx`` and ``429`` are retried with exponential backoff and full jitter (tenacity),
``Retry-After`` honoured up to the longest delay; ``409`` and other ``4xx`` answers are never retried. A circuit
breaker (``circuitbreaker``) counts consecutive failed requests: once open, calls fail at once with
:class:`NationalUnavailable` until the recovery time has passed, then one success closes it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol
from urllib.parse import quote

import httpx
import structlog
from casereg.log.canonical import canonical_bytes
from casereg.telemetry import inject_headers
from circuitbreaker import CircuitBreaker, CircuitBreakerError  # type: ignore[import-untyped]
from opentelemetry import trace
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from national_sync.settings import NationalSyncSettings

log = structlog.get_logger("national_sync.adapter")
tracer = trace.get_tracer("national_sync.adapter")

KINDS = ("reception", "case", "seal")
#: Items per reconciliation page asked of the national side.
HOLDINGS_PAGE = 500


@dataclass(frozen=True)
class PushRecord:
    """One version of one national record, as the province sends it."""

    kind: str  # "reception" | "case" | "seal"
    record_id: str  # the province's case id / reception-book entry id / the province code for seals
    version: int  # 1, 2, 3... gap-free per (kind, record_id)
    previous_version: int  # version - 1 (0 for the first)
    payload: Mapping[str, Any]  # the national record (JSON-able; no floats), opaque to the adapter

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown record kind {self.kind!r}")
        if not self.record_id or "/" in self.record_id:
            raise ValueError("a record id is non-empty and has no '/'")
        if self.version < 1 or self.previous_version != self.version - 1:
            raise ValueError("versions start at 1 and previous_version is version - 1")

    def idempotency_key(self, province: str) -> str:
        return f"{province}:{self.kind}:{self.record_id}:{self.version}"


class PushOutcome(StrEnum):
    ACCEPTED = "accepted"  # stored now, or already held with the same content (a duplicate ack) — both mean done
    CONFLICT = "conflict"  # 409: the national side does not hold previous_version; see PushResult.held_version
    REJECTED = "rejected"  # any other 4xx (permanent: bad record); needs an operator


@dataclass(frozen=True)
class PushResult:
    outcome: PushOutcome
    held_version: int | None = None
    detail: str = ""  # short, never contains payload values


@dataclass(frozen=True)
class Holding:
    """What the national side holds for one record: its latest version and the hash of that version's payload."""

    kind: str
    record_id: str
    latest_version: int
    payload_sha256: str  # sha256 of the canonical JSON of the held latest payload (casereg.log.canonical)


def payload_sha256(payload: Any) -> str:
    """What :attr:`Holding.payload_sha256` holds: the sha256 of a payload's canonical JSON, hex."""
    return hashlib.sha256(canonical_bytes(payload)).hexdigest()


class NationalUnavailable(Exception):
    """Retries exhausted or the circuit breaker open; the message is safe to log."""


class NationalAdapter(Protocol):
    async def push(self, record: PushRecord) -> PushResult: ...

    def holdings(self, kind: str | None = None) -> AsyncIterator[Holding]: ...

    async def aclose(self) -> None: ...


class _Transient(Exception):
    """A failed request worth another try (counted by the breaker)."""

    def __init__(self, detail: str, retry_after: float | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # absent, or an HTTP date (not worth parsing for a hint)


class _Backoff:
    """Full-jitter exponential backoff; a server's ``Retry-After`` raises the delay (both capped at ``cap``)."""

    def __init__(self, initial: float, cap: float) -> None:
        self.jitter = wait_random_exponential(multiplier=initial, max=cap)
        self.cap = cap

    def __call__(self, state: RetryCallState) -> float:
        delay: float = self.jitter(state)
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Transient) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, self.cap))
        return delay


class HttpNationalAdapter:
    """:class:`NationalAdapter` over HTTP with ``httpx.AsyncClient`` (one per adapter; close it with ``aclose``)."""

    def __init__(self, settings: NationalSyncSettings, province: str, *, page_size: int = HOLDINGS_PAGE) -> None:
        self.province = province
        self.page_size = page_size
        self._attempts = settings.retry_attempts
        self._backoff = _Backoff(settings.retry_initial, settings.retry_max)
        headers = {"User-Agent": "casereg-national-sync"}
        if token := settings.national_token.get_secret_value():
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.AsyncClient(
            base_url=settings.national_url.rstrip("/"),
            timeout=httpx.Timeout(settings.push_timeout),
            headers=headers,
        )
        self.breaker = CircuitBreaker(
            failure_threshold=settings.breaker_failures,
            recovery_timeout=settings.breaker_recovery,
            expected_exception=_Transient,
        )
        self._send: Callable[[httpx.Request], Awaitable[httpx.Response]] = self.breaker.decorate(self._send_once)

    @property
    def _base(self) -> str:
        return f"/v1/provinces/{quote(self.province, safe='')}/records"

    async def _send_once(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._client.send(request)
        except httpx.TimeoutException as exc:
            raise _Transient(f"timed out ({type(exc).__name__})") from None
        except httpx.TransportError as exc:
            raise _Transient(f"transport error ({type(exc).__name__})") from None
        if response.status_code == 429 or response.status_code >= 500:
            raise _Transient(f"HTTP {response.status_code}", _retry_after(response))
        return response

    async def _request(self, what: str, build: Callable[[], httpx.Request]) -> httpx.Response:
        """One logical request, retried; :class:`NationalUnavailable` when it cannot get an answer."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._attempts),
            wait=self._backoff,
            retry=retry_if_exception_type(_Transient),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send(build())
        except _Transient as exc:
            raise NationalUnavailable(f"{what}: gave up after {self._attempts} tries, last: {exc}") from None
        except CircuitBreakerError:
            raise NationalUnavailable(
                f"{what}: circuit open after {self.breaker.failure_count} failures "
                f"(next try in about {max(self.breaker.open_remaining, 0)} s)"
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def push(self, record: PushRecord) -> PushResult:
        path = f"{self._base}/{record.kind}/{quote(record.record_id, safe='')}/versions/{record.version}"
        body = canonical_bytes(
            {"version": record.version, "previous_version": record.previous_version, "payload": dict(record.payload)}
        )
        attributes: dict[str, str | int] = {
            "national.kind": record.kind,
            "national.record_id": record.record_id,
            "national.version": record.version,
        }
        with tracer.start_as_current_span("national.push", kind=trace.SpanKind.CLIENT, attributes=attributes) as span:

            def build() -> httpx.Request:
                headers = inject_headers(
                    {"Idempotency-Key": record.idempotency_key(self.province), "Content-Type": "application/json"}
                )
                return self._client.build_request("PUT", path, content=body, headers=headers)

            response = await self._request(f"push {record.kind} v{record.version}", build)
            result = _result(response)
            span.set_attribute("national.outcome", result.outcome.value)
            span.set_attribute("http.response.status_code", response.status_code)
            return result

    async def holdings(self, kind: str | None = None) -> AsyncIterator[Holding]:
        after: str | None = None
        while True:
            params: dict[str, str | int] = {"limit": self.page_size}
            if kind is not None:
                params["kind"] = kind
            if after is not None:
                params["after"] = after

            def build(params: dict[str, str | int] = params) -> httpx.Request:
                return self._client.build_request("GET", self._base, params=params, headers=inject_headers())

            with tracer.start_as_current_span("national.holdings", kind=trace.SpanKind.CLIENT):
                response = await self._request("reconciliation query", build)
            if response.status_code != 200:
                raise NationalUnavailable(f"reconciliation query answered HTTP {response.status_code}")
            try:
                page = response.json()
                items = [
                    Holding(
                        kind=str(item["kind"]),
                        record_id=str(item["record_id"]),
                        latest_version=int(item["latest_version"]),
                        payload_sha256=str(item["payload_sha256"]),
                    )
                    for item in page["items"]
                ]
                after = page.get("next")
            except (ValueError, KeyError, TypeError, AttributeError):
                raise NationalUnavailable("reconciliation query answered a malformed page") from None
            for holding in items:
                yield holding
            if not after:
                return

    async def aclose(self) -> None:
        await self._client.aclose()


def _result(response: httpx.Response) -> PushResult:
    code = response.status_code
    if code == 201:
        return PushResult(PushOutcome.ACCEPTED, detail="stored")
    if code == 200:
        return PushResult(PushOutcome.ACCEPTED, detail="already held (duplicate)")
    if code == 409:
        held: int | None = None
        try:
            value = response.json().get("held_version")
            held = int(value) if value is not None else None
        except (json.JSONDecodeError, AttributeError, TypeError, ValueError):
            pass
        return PushResult(PushOutcome.CONFLICT, held_version=held, detail=f"HTTP 409, national side holds v{held}")
    return PushResult(PushOutcome.REJECTED, detail=f"HTTP {code}")
