"""Tracing set-up, W3C trace context in NATS headers, and structured logs.

``setup_telemetry`` and ``setup_logging`` change process-wide state, so those tests run in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import pytest
from casereg.telemetry import _exporters, current_trace_id, extract_context, inject_headers
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "CASEREG_"))}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )


def test_trace_context_round_trips_through_headers() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("publish") as span:
        trace_id = current_trace_id()
        headers = inject_headers({"Nats-Msg-Id": "abc"})
    assert trace_id == trace.format_trace_id(span.get_span_context().trace_id)
    assert headers["Nats-Msg-Id"] == "abc"
    assert re.fullmatch(rf"00-{trace_id}-[0-9a-f]{{16}}-[0-9a-f]{{2}}", headers["traceparent"])

    with tracer.start_as_current_span("handle", context=extract_context(headers)):
        assert current_trace_id() == trace_id


def test_no_trace_outside_a_span() -> None:
    assert current_trace_id() is None
    assert "traceparent" not in inject_headers()
    assert trace.get_current_span(extract_context(None)).get_span_context().is_valid is False


def test_unknown_exporter_is_refused() -> None:
    assert _exporters("none") == []
    assert _exporters("") == []
    with pytest.raises(ValueError, match="zipkin"):
        _exporters("zipkin")


def test_console_exporter_prints_spans_with_the_service_name() -> None:
    out = _python(
        """
        from opentelemetry import trace
        from casereg.telemetry import setup_telemetry, shutdown_telemetry, current_trace_id
        setup_telemetry("intake")
        setup_telemetry("ignored-second-call")
        with trace.get_tracer("t").start_as_current_span("work"):
            print("TRACE", current_trace_id())
        shutdown_telemetry()
        """,
        OTEL_TRACES_EXPORTER="console",
    ).stdout
    trace_id = re.search(r"^TRACE ([0-9a-f]{32})$", out, re.MULTILINE)
    assert trace_id is not None
    assert f'"trace_id": "0x{trace_id.group(1)}"' in out
    assert '"service.name": "intake"' in out


def test_no_exporter_by_default_but_trace_ids_exist() -> None:
    out = _python(
        """
        from opentelemetry import trace
        from casereg.telemetry import setup_telemetry, shutdown_telemetry, current_trace_id
        setup_telemetry("intake")
        with trace.get_tracer("t").start_as_current_span("work"):
            print(current_trace_id())
        shutdown_telemetry()
        """
    ).stdout
    assert re.fullmatch(r"[0-9a-f]{32}\n", out)


def test_json_logs_carry_service_and_trace_and_never_a_secret() -> None:
    err = _python(
        """
        import logging
        import structlog
        from pydantic import SecretStr
        from opentelemetry import trace
        from casereg.telemetry import setup_logging, setup_telemetry
        setup_telemetry("routing")
        setup_logging("routing")
        log = structlog.get_logger("t")
        with trace.get_tracer("t").start_as_current_span("work"):
            log.info("connected", user="routing", password="hunter2", key=SecretStr("k-hunter2"))
        log.debug("hidden at info")
        logging.getLogger("nats").warning("from the standard library")
        """,
        CASEREG_LOG_FORMAT="json",
    ).stderr
    lines = [json.loads(line) for line in err.splitlines()]
    assert [line["event"] for line in lines] == ["connected", "from the standard library"]
    first = lines[0]
    assert first["service"] == "routing"
    assert first["level"] == "info"
    assert re.fullmatch(r"[0-9a-f]{32}", first["trace_id"])
    assert first["password"] == "***"
    assert "hunter2" not in err
    assert lines[1]["logger"] == "nats"


def test_key_value_logs_and_level_from_the_environment() -> None:
    err = _python(
        """
        import structlog
        from casereg.telemetry import setup_logging
        setup_logging("escalation")
        structlog.get_logger("t").debug("clock scanned", due=3)
        """,
        CASEREG_LOG_LEVEL="DEBUG",
    ).stderr
    assert re.match(r"timestamp=\S+ level=debug service=escalation event=\"clock scanned\" due=3", err), err


def test_request_per_line_libraries_stay_quiet_below_warning_even_at_debug() -> None:
    err = _python(
        """
        import logging
        from casereg.telemetry import setup_logging
        setup_logging("national-sync")
        logging.getLogger("httpx").info("HTTP Request: PUT http://national/... 201")
        logging.getLogger("httpx").warning("a warning still shows")
        logging.getLogger("national_sync.pusher").debug("our own debug line shows")
        """,
        CASEREG_LOG_LEVEL="DEBUG",
    ).stderr
    assert "HTTP Request" not in err
    assert "a warning still shows" in err and "our own debug line shows" in err
