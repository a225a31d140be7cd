"""The nats-server configuration: JetStream, durability, and the users with their permissions.

Permissions are the real guard of the append-only log: the stream flags ``deny_delete``/``deny_purge`` do not stop
deleting the whole stream, so no user but ``admin`` may call the stream-management API (DESIGN §2).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from casereg.platform.credentials import (
    ADMIN_USER,
    FRONTEND_USER,
    OPERATOR_USER,
    SERVICE_USERS,
    NatsCredentials,
)

#: JetStream API calls only the admin may make.
DESTRUCTIVE_JS_API = (
    "$JS.API.STREAM.CREATE.>",
    "$JS.API.STREAM.UPDATE.>",
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
    "$JS.API.STREAM.MSG.DELETE.>",
    "$JS.API.STREAM.RESTORE.>",
    "$JS.API.STREAM.SNAPSHOT.>",
)

#: Other services' request subjects a service may call (intake relays the inspectorate's statistics).
SERVICE_CALLS: dict[str, tuple[str, ...]] = {"intake": ("escalation",)}

#: Aggregate kinds each service may append to (``reg.<province>.<kind>.>``).
SERVICE_AGGREGATES: dict[str, tuple[str, ...]] = {
    "intake": ("case", "session", "counter", "access"),
    "routing": ("case",),
    "escalation": ("case",),
    "national_sync": ("case",),
}

#: Services that append seals (``seal.<province>``, the seals stream): the periodic sealer runs in national sync.
SEALERS = ("national_sync",)


def api_subject(province: str, service: str) -> str:
    """Request subjects a service answers (``reg.<province>.api.<service>.>``)."""
    return f"reg.{province}.api.{service}"


def health_subject(province: str, service: str) -> str:
    return f"casereg.{province}.health.{service}"


def _service_permissions(province: str, service: str) -> dict[str, object]:
    own = [f"reg.{province}.{kind}.>" for kind in SERVICE_AGGREGATES[service]]
    own += [f"{api_subject(province, callee)}.>" for callee in SERVICE_CALLS.get(service, ())]
    if service in SEALERS:
        own.append(f"seal.{province}")
    return {
        "publish": {
            "allow": [*own, "$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>", f"casereg.{province}.health.>"],
            "deny": list(DESTRUCTIVE_JS_API),
        },
        "subscribe": {"allow": [">"]},
    }


def _operator_permissions(province: str) -> dict[str, object]:
    # Operators' CLI reads (history, export) are recorded as access records: the operator may append there only.
    return {
        "publish": {
            "allow": [
                f"reg.{province}.access.>",
                *("$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>", f"casereg.{province}.health.>"),
            ],
            "deny": list(DESTRUCTIVE_JS_API),
        },
        "subscribe": {"allow": [">"]},
    }


def _frontend_permissions(province: str) -> dict[str, object]:
    return {
        "publish": {"allow": [f"{api_subject(province, 'intake')}.>"]},
        "subscribe": {"allow": ["_INBOX.>"]},
    }


@dataclass(frozen=True)
class ClusterOptions:
    """One node's place in a JetStream cluster (3 nodes, R3 streams, in production)."""

    name: str
    host: str
    port: int
    routes: tuple[str, ...]  # host:port of every node's cluster listener (this one's included is fine)
    password: str | None = None  # route authorization; strongly advised outside a private network


@dataclass(frozen=True)
class NatsServerOptions:
    host: str
    port: int
    monitor_port: int
    store_dir: Path
    province: str
    sync_always: bool = True
    server_name: str = "casereg"
    cluster: ClusterOptions | None = None


def _cluster_block(cluster: ClusterOptions) -> list[str]:
    auth = f"route:{cluster.password}@" if cluster.password else ""
    routes = [json.dumps(f"nats-route://{auth}{route}") for route in cluster.routes]
    lines = [
        "cluster {",
        f"  name: {json.dumps(cluster.name)}",
        f"  listen: {json.dumps(f'{cluster.host}:{cluster.port}')}",
        f"  routes: [{', '.join(routes)}]",
    ]
    if cluster.password:
        lines.append(f'  authorization {{ user: "route", password: {json.dumps(cluster.password)} }}')
    return [*lines, "}"]


def render(options: NatsServerOptions, creds: NatsCredentials) -> str:
    """nats-server configuration text. Strings are JSON-quoted, which the config syntax accepts."""

    def user(name: str, permissions: dict[str, object] | None) -> str:
        entry: dict[str, object] = {"user": name, "password": creds.password(name)}
        if permissions is not None:
            entry["permissions"] = permissions
        return json.dumps(entry)

    users = [user(ADMIN_USER, None)]
    users += [user(s, _service_permissions(options.province, s)) for s in SERVICE_USERS]
    users.append(user(OPERATOR_USER, _operator_permissions(options.province)))
    users.append(user(FRONTEND_USER, _frontend_permissions(options.province)))
    js = [f"store_dir: {json.dumps(str(options.store_dir))}"]
    if options.sync_always:
        js.append("sync_interval: always")
    return "\n".join(
        [
            "# Generated by casereg; edit the generator, not this file.",
            f"server_name: {json.dumps(options.server_name)}",
            f"listen: {json.dumps(f'{options.host}:{options.port}')}",
            f"http: {json.dumps(f'{options.host}:{options.monitor_port}')}",
            "jetstream {",
            *(f"  {line}" for line in js),
            "}",
            *(_cluster_block(options.cluster) if options.cluster else []),
            "accounts {",
            "  REG {",
            "    jetstream: enabled",
            "    users: [",
            *(f"      {u}" for u in users),
            "    ]",
            "  }",
            "}",
            "",
        ]
    )
