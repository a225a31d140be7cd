"""Intake tests: a provisioned log on the module's nats-server, a SQLite key store, handlers' dependencies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from casereg.clock import ManualClock
from casereg.crypto.keystore import SqlKeyStore
from casereg.crypto.person import PersonIdentity
from casereg.db import KEYSTORE_MIGRATIONS, create_engine, migrate
from casereg.log.provision import provision
from casereg.log.store import EventLog
from casereg.platform.nats_embedded import EmbeddedNats
from casereg.settings import PlatformSettings
from intake.commands import Caller, SubjectMatterIn, SubmitPetition, SubmitterIn
from intake.domain.model import Channel, PetitionKind, SubjectMatterKind
from intake.handlers.deps import IntakeDeps
from nats.aio.client import Client as NATS

from tests.conftest import connect_as

NOW = datetime(2026, 7, 6, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam


@dataclass
class IntakeEnv:
    settings: PlatformSettings
    server: EmbeddedNats
    keys: SqlKeyStore
    clock: ManualClock
    connections: list[NATS]

    async def deps(self) -> IntakeDeps:
        """A fresh set of dependencies with its own connection, as another intake process would have."""
        nc = await connect_as(self.server, "intake")
        self.connections.append(nc)
        log = EventLog(nc=nc, province=self.settings.province, clock=self.clock, stream=self.settings.stream)
        return IntakeDeps(log=log, keys=self.keys, clock=self.clock)


@pytest.fixture
async def intake_env(
    nats_server: EmbeddedNats, admin_nc: NATS, unique: str, tmp_path: Path
) -> AsyncIterator[IntakeEnv]:
    settings = PlatformSettings(province=f"i{unique}", stream=f"INTAKE_{unique}")
    await provision(admin_nc, settings)
    url = f"sqlite:///{tmp_path / 'keystore.db'}"
    migrate(url, [KEYSTORE_MIGRATIONS])
    env = IntakeEnv(settings, nats_server, SqlKeyStore(create_engine(url), "test-master"), ManualClock(NOW), [])
    yield env
    for nc in env.connections:
        await nc.close()


def caller(agency: str = "2tier/52/ubnd-xa-a", role: str = "clerk", officer: str = "officer-1") -> Caller:
    return Caller(agency=agency, officer=officer, role=role)


def petition(
    key: str,
    *,
    kind: PetitionKind = PetitionKind.COMPLAINT,
    name: str = "Nguyễn Thị Hoa",
    id_number: str = "052190001234",
    request_hash: str | None = None,
) -> SubmitPetition:
    return SubmitPetition(
        idempotency_key=key,
        request_hash=request_hash or f"hash-{key}",
        channel=Channel.POST,
        received_on=date(2026, 7, 6),
        declared_kind=kind,
        unit_code="21583",
        subject_matter=SubjectMatterIn(kind=SubjectMatterKind.DECISION, decision_number="12/QĐ-UBND"),
        summary="Khiếu nại quyết định thu hồi đất",
        submitters=(SubmitterIn(PersonIdentity(full_name=name, id_number=id_number, phone="0905123456")),),
        people_count=1,
    )
