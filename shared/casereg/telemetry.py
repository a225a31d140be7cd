"""Tracing and structured logging for every casereg process, set up once at start-up.

Tracing follows the standard OpenTelemetry variables: ``OTEL_TRACES_EXPORTER`` is a comma-separated list of
``none`` (the default), ``console`` and ``otlp``; the OTLP exporter reads its own ``OTEL_EXPORTER_OTLP_*``
variables. Trace context travels in NATS headers as W3C ``traceparent``/``tracestate`` (``OTEL_PROPAGATORS``
chooses the propagators).

Logging goes to stderr through structlog, one line per event: ``CASEREG_LOG_FORMAT`` is ``kv`` (key=value, the
default) or ``json``; ``CASEREG_LOG_LEVEL`` the level. Standard-library loggers (nats, faststream) are routed
through the same renderer. Values whose key looks like a secret are replaced by ``***``.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, Literal

import structlog
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICE_NAMESPACE = "casereg"
_SECRET_WORDS = ("password", "secret", "token", "credential", "authorization", "master_key", "private_key")


# --- tracing -----------------------------------------------------------------------------------------------


def _exporters(spec: str) -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    for name in (part.strip().lower() for part in spec.split(",")):
        if name in ("", "none"):
            continue
        if name == "console":
            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())
        else:
            raise ValueError(f"OTEL_TRACES_EXPORTER: unsupported exporter {name!r} (none, console, otlp)")
    return exporters


def setup_telemetry(service_name: str) -> None:
    """Install the process's tracer provider; calling it again in the same process changes nothing.

    Spans are always created (so trace ids reach events and logs); they are exported only when
    ``OTEL_TRACES_EXPORTER`` names an exporter.
    """
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        return
    resource = Resource.create({SERVICE_NAME: service_name, "service.namespace": SERVICE_NAMESPACE})
    provider = TracerProvider(resource=resource)
    for exporter in _exporters(os.environ.get("OTEL_TRACES_EXPORTER", "none")):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def shutdown_telemetry() -> None:
    """Flush and stop the exporters (at process exit)."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        provider.shutdown()


def inject_headers(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    """A copy of ``headers`` carrying the current trace context (W3C ``traceparent``) for a NATS message."""
    carrier = dict(headers or {})
    propagate.inject(carrier)
    return carrier


def extract_context(headers: Mapping[str, str] | None) -> Context:
    """The trace context carried by a NATS message's headers (an empty context when there is none)."""
    return propagate.extract(dict(headers or {}))


def current_trace_id() -> str | None:
    """The current span's trace id as 32 lowercase hex digits, or ``None`` outside a recorded trace."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return trace.format_trace_id(ctx.trace_id)


# --- logging -----------------------------------------------------------------------------------------------


class LoggingSettings(BaseSettings):
    """``CASEREG_LOG_LEVEL`` and ``CASEREG_LOG_FORMAT``."""

    model_config = SettingsConfigDict(env_prefix="CASEREG_LOG_", extra="ignore", frozen=True)

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["kv", "json"] = "kv"


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def redact_secrets(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: never render a secret, whatever a caller passed."""
    for key, value in event_dict.items():
        if isinstance(value, SecretStr) or (_is_secret_key(key) and value not in (None, "")):
            event_dict[key] = "***"
    return event_dict


def add_trace_id(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    trace_id = current_trace_id()
    if trace_id is not None:
        event_dict.setdefault("trace_id", trace_id)
    return event_dict


#: Libraries that log each request at INFO; kept at WARNING (or the configured level when it is stricter).
QUIET_LIBRARY_LOGGERS = ("httpx", "httpcore")


def setup_logging(service_name: str, settings: LoggingSettings | None = None) -> None:
    """Route structlog and the standard library to stderr as key=value or JSON lines."""
    settings = settings or LoggingSettings()
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_id,
        redact_secrets,
    ]
    renderer: structlog.types.Processor
    if settings.format == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.processors.LogfmtRenderer(
            key_order=["timestamp", "level", "service", "event"], drop_missing=True
        )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level)
    # httpx logs every request at INFO (one line per national push); its failures still reach us as exceptions.
    for chatty in QUIET_LIBRARY_LOGGERS:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service_name)
