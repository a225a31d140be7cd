"""Routing's service on a real NATS server in tests: its migrated database, the repeat index and a runner."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from casereg.crypto.person import PersonIdentity
from casereg.db import PLATFORM_MIGRATIONS, create_engine, migrate
from casereg.directory.load import DirectoryFiles
from casereg.directory.load import load as load_directory
from casereg.log.envelope import AggregateRef, Envelope
from casereg.log.events import EventRegistry
from casereg.log.store import EventLog
from casereg.projections.positions import read_position
from casereg.projections.projection import Projection
from casereg.projections.runner import ProjectionRunner, RunnerOptions
from intake.commands import SubjectMatterIn, SubmitPetition, SubmitterIn
from intake.domain.events import INTAKE_EVENTS
from intake.domain.model import Channel, PetitionKind, SubjectMatterKind
from intake.handlers.deps import IntakeDeps
from nats.aio.client import Client as NATS
from routing.index import Indexer, RepeatIndex, index_key
from routing.projections import NAME, TABLES
from routing.reactions import ProposeOnReceipt
from routing.rules.load import load_tables

from tests.conftest import connect_as
from tests.intake.conftest import IntakeEnv

ROUTING_MIGRATIONS = ("routing.migrations", "alembic_version_routing")
BLIND_INDEX_SECRET = "test-blind-index-secret"
RECEPTION = "2tier/52/ban-tiep-cong-dan"  # Ban Tiếp công dân tỉnh Gia Lai
PROVINCE = "2tier/52/ubnd"  # Ủy ban nhân dân tỉnh Gia Lai
WARD = "2tier/21583/ubnd"  # Ủy ban nhân dân phường Quy Nhơn

SUMMARY = "Khiếu nại quyết định thu hồi đất"
CONTENT = (
    "Tôi là chủ hộ sử dụng đất tại tổ 3 khu vực 5 phường Quy Nhơn từ năm 1995. Ngày 12 tháng 5 năm 2026 "
    "Ủy ban nhân dân phường ban hành quyết định thu hồi 120 mét vuông đất của gia đình tôi để mở rộng đường "
    "nhưng không bồi thường, không hỗ trợ tái định cư và không thông báo trước cho gia đình. Tôi đề nghị "
    "hủy quyết định thu hồi đất và bồi thường theo đúng quy định của pháp luật."
)
#: The same petition sent again, a phrase reworded (similarity 91 of 100).
CONTENT_AGAIN = CONTENT.replace("Tôi đề nghị", "Vì vậy, tôi kính đề nghị")
OTHER_CONTENT = (
    "Hàng xóm lấn chiếm lối đi chung của khu dân cư, xây tường rào chắn ngang đường làm ảnh hưởng việc đi lại "
    "của nhiều hộ gia đình; đề nghị chính quyền kiểm tra và xử lý."
)
HOA = PersonIdentity(full_name="Nguyễn Thị Hoa", id_number="052190001234", address="Tổ 3, phường Quy Nhơn")
#: The same person as typed by another clerk: spacing, case and separators differ.
HOA_AGAIN = PersonIdentity(full_name="NGUYỄN THỊ  HOA", id_number="052 190 001 234", address="tổ 3 phường Quy Nhơn")
#: The same person without an ID number: found by name and address.
HOA_NO_ID = PersonIdentity(full_name="Nguyễn Thị Hoa", address="Tổ 3 - Phường Quy Nhơn")
BINH = PersonIdentity(full_name="Trần Văn Bình", id_number="052088004321", address="Tổ 9, phường Quy Nhơn Bắc")


def complaint(
    key: str, person: PersonIdentity | None, content: str = CONTENT, *, summary: str = SUMMARY
) -> SubmitPetition:
    """A first complaint about the ward's decision (received by whoever submits it)."""
    return SubmitPetition(
        idempotency_key=key,
        request_hash=f"hash-{key}",
        channel=Channel.POST,
        received_on=date(2026, 7, 6),
        declared_kind=PetitionKind.COMPLAINT,
        unit_code="21583",
        subject_matter=SubjectMatterIn(kind=SubjectMatterKind.DECISION, decision_number="12/QĐ-UBND", agency=WARD),
        summary=summary,
        content=content,
        submitters=(SubmitterIn(person),),
        people_count=1,
    )


def denunciation(key: str, person: PersonIdentity) -> SubmitPetition:
    """A denunciation of an official of the ward: its head is competent, so anyone else forwards it there."""
    return SubmitPetition(
        idempotency_key=key,
        request_hash=f"hash-{key}",
        channel=Channel.POST,
        received_on=date(2026, 7, 6),
        declared_kind=PetitionKind.DENUNCIATION,
        unit_code="21583",
        subject_matter=SubjectMatterIn(kind=SubjectMatterKind.OFFICIAL, agency=WARD),
        summary="Tố cáo cán bộ địa chính phường nhận tiền",
        content=OTHER_CONTENT,
        submitters=(SubmitterIn(person),),
        people_count=1,
    )


@dataclass
class RoutingRig:
    """Routing as its service runs it (own NATS user, own database), around an intake test environment."""

    env: IntakeEnv
    deps: IntakeDeps
    nc: NATS
    url: str
    keystore_url: str
    engine: sa.Engine = field(init=False)

    def __post_init__(self) -> None:
        migrate(self.url, [PLATFORM_MIGRATIONS, ROUTING_MIGRATIONS])
        self.engine = create_engine(self.url)
        self.log = EventLog(
            nc=self.nc,
            province=self.env.settings.province,
            clock=self.env.clock,
            registry=EventRegistry(INTAKE_EVENTS),
            stream=self.env.settings.stream,
        )

    @classmethod
    async def start(cls, env: IntakeEnv, tmp_path: Path) -> RoutingRig:
        deps = await env.deps()
        nc = await connect_as(env.server, "routing")
        env.connections.append(nc)
        return cls(env, deps, nc, f"sqlite:///{tmp_path / 'routing.db'}", f"sqlite:///{tmp_path / 'keystore.db'}")

    def projection(self, auto_confirm: Iterable[str] = ()) -> Projection:
        indexer = Indexer(create_engine(self.keystore_url, reads=True), "test-master", index_key(BLIND_INDEX_SECRET))
        reaction = ProposeOnReceipt(
            self.log,
            load_directory(DirectoryFiles.shipped("52")),
            load_tables(),
            index=RepeatIndex(indexer, create_engine(self.url, reads=True), {t.name: t for t in TABLES}, NAME),
            auto_confirm=frozenset(auto_confirm),
        )
        return Projection(NAME, [f"reg.{self.env.settings.province}.case.*"], TABLES, indexer.apply, react=reaction)

    def runner(self, auto_confirm: Iterable[str] = (), batch_size: int = 10) -> ProjectionRunner:
        return ProjectionRunner(
            self.projection(auto_confirm),
            self.engine,
            self.log.js,
            self.env.settings.stream,
            EventRegistry(INTAKE_EVENTS),
            options=RunnerOptions(batch_size=batch_size, fetch_timeout=0.2),
        )

    def position(self) -> int:
        with self.engine.connect() as conn:
            return read_position(conn, NAME)

    async def stream_last(self) -> int:
        return int((await self.log.js.stream_info(self.env.settings.stream)).state.last_seq)

    async def caught_up(self) -> bool:
        return self.position() >= await self.stream_last()

    async def events(self, case_id: str) -> list[Envelope]:
        return await self.log.events(AggregateRef.case(case_id))

    async def proposal(self, case_id: str) -> Envelope | None:
        return next((e for e in await self.events(case_id) if e.type == "OutcomeProposed"), None)

    def dead_letters(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text("select count(*) from dead_letters")).scalar_one())

    def rows(self, table: str) -> list[sa.Row[tuple[object, ...]]]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.text(f"select * from {table} order by 1")))
