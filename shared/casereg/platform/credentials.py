"""NATS users of one deployment and their passwords.

The embedded default generates random passwords once and keeps them in ``<var_dir>/secrets/nats-users.json``
(mode 0600); a production deployment writes that file itself (or mounts it) from its secret store. Every process
of the deployment reads the same file, so there is nothing to copy by hand.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

#: The services that append to the log, each with its own NATS user.
SERVICE_USERS = ("intake", "routing", "escalation", "national_sync")
#: Read-only operator user for the CLI (history, verify, export, status).
OPERATOR_USER = "operator"
#: Provisioning only: creates the streams. Never used by a running service.
ADMIN_USER = "admin"
#: Front ends of agencies: may only send requests to intake.
FRONTEND_USER = "frontend"

ALL_USERS = (ADMIN_USER, OPERATOR_USER, FRONTEND_USER, *SERVICE_USERS)


class NatsCredentials(BaseModel):
    """User name → password for every user of the deployment."""

    model_config = ConfigDict(frozen=True)

    passwords: dict[str, SecretStr]

    def password(self, user: str) -> str:
        try:
            return self.passwords[user].get_secret_value()
        except KeyError:
            raise KeyError(f"no NATS credentials for user {user!r}") from None

    @classmethod
    def generate(cls) -> NatsCredentials:
        return cls(passwords={user: SecretStr(secrets.token_urlsafe(24)) for user in ALL_USERS})

    def dump(self) -> str:
        return json.dumps({u: p.get_secret_value() for u, p in self.passwords.items()}, indent=2)


def credentials_path(var_dir: Path) -> Path:
    return var_dir / "secrets" / "nats-users.json"


def load_or_create(var_dir: Path) -> NatsCredentials:
    """Read the deployment's credentials, creating them (0600) on the first start of the embedded default."""
    path = credentials_path(var_dir)
    if path.exists():
        raw = json.loads(path.read_text())
        creds = NatsCredentials(passwords={u: SecretStr(p) for u, p in raw.items()})
        missing = [u for u in ALL_USERS if u not in creds.passwords]
        if missing:
            raise ValueError(f"{path} lacks users {missing}")
        return creds
    creds = NatsCredentials.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(creds.dump())
    return creds


def load(var_dir: Path) -> NatsCredentials:
    path = credentials_path(var_dir)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: start the system once with `casereg up`")
    return load_or_create(var_dir)
