"""The generated nats-server configuration: durability and the users' permissions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from casereg.platform.credentials import ALL_USERS, SERVICE_USERS, NatsCredentials
from casereg.platform.nats_config import DESTRUCTIVE_JS_API, NatsServerOptions, health_subject, render


def _options(sync_always: bool) -> NatsServerOptions:
    return NatsServerOptions(
        host="127.0.0.1",
        port=14222,
        monitor_port=18222,
        store_dir=Path("/data/nats"),
        province="52",
        sync_always=sync_always,
    )


def _users(text: str) -> dict[str, dict[str, Any]]:
    entries = [json.loads(m) for m in re.findall(r"^\s+(\{\"user\".*\})$", text, re.MULTILINE)]
    return {e["user"]: e for e in entries}


def test_sync_always_is_on_for_the_embedded_default_and_off_on_request() -> None:
    creds = NatsCredentials.generate()
    assert "sync_interval: always" in render(_options(sync_always=True), creds)
    assert "sync_interval" not in render(_options(sync_always=False), creds)


def test_listen_monitor_and_store_come_from_the_options() -> None:
    text = render(_options(sync_always=True), NatsCredentials.generate())
    assert 'listen: "127.0.0.1:14222"' in text
    assert 'http: "127.0.0.1:18222"' in text
    assert 'store_dir: "/data/nats"' in text


def test_every_user_is_declared_with_its_own_password() -> None:
    creds = NatsCredentials.generate()
    users = _users(render(_options(sync_always=True), creds))
    assert set(users) == set(ALL_USERS)
    for name, entry in users.items():
        assert entry["password"] == creds.password(name)
    assert "permissions" not in users["admin"]


def test_service_users_publish_only_to_their_own_subjects_and_never_manage_streams() -> None:
    users = _users(render(_options(sync_always=True), NatsCredentials.generate()))
    for name in SERVICE_USERS:
        publish = users[name]["permissions"]["publish"]
        assert set(DESTRUCTIVE_JS_API) <= set(publish["deny"])
        own = [s for s in publish["allow"] if s.startswith("reg.52.")]
        assert own, name
        assert "reg.52.>" not in publish["allow"]
    assert users["routing"]["permissions"]["publish"]["allow"][0] == "reg.52.case.>"
    assert "reg.52.counter.>" in users["intake"]["permissions"]["publish"]["allow"]


def test_frontend_may_only_send_requests_to_intake() -> None:
    users = _users(render(_options(sync_always=True), NatsCredentials.generate()))
    assert users["frontend"]["permissions"]["publish"]["allow"] == ["reg.52.api.intake.>"]
    assert users["frontend"]["permissions"]["subscribe"]["allow"] == ["_INBOX.>"]


def test_health_subjects_carry_province_and_service() -> None:
    assert health_subject("52", "national-sync") == "casereg.52.health.national-sync"


def test_the_operator_may_append_access_records_only() -> None:
    """CLI reads by auditors are recorded as the operator: ``reg.<province>.access.>`` and no other log subject."""
    users = _users(render(_options(sync_always=True), NatsCredentials.generate()))
    publish = users["operator"]["permissions"]["publish"]
    assert [s for s in publish["allow"] if s.startswith("reg.")] == ["reg.52.access.>"]
    assert set(DESTRUCTIVE_JS_API) <= set(publish["deny"])
