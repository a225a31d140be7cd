"""Building petitions for routing's tests from real directory ids of province 52.

Code 52 was Bình Định until 30 June 2025 (``3tier/...`` agencies, with districts) and is Gia Lai since 1 July 2025
(``2tier/...``). Nhơn Châu (21607), an island commune, is flagged a remote or difficult area in the tests'
directory (the shipped flag file is empty: operators set it).
"""

from __future__ import annotations

from datetime import date

from casereg.crypto.fields import Encrypted
from casereg.crypto.person import SealedIdentity
from casereg.directory.directory import Directory
from casereg.directory.load import DirectoryFiles, load
from casereg.directory.model import Period, RemoteDifficult
from intake.domain.events import PetitionReceived, SubjectMatter, Submitter
from intake.domain.model import Channel, PetitionKind, SubjectMatterKind

# --- since 1 July 2025: Gia Lai, two tiers ------------------------------------------------------------------
WARD = "2tier/21583/ubnd"  # Ủy ban nhân dân phường Quy Nhơn
WARD_NORTH = "2tier/21553/ubnd"  # Ủy ban nhân dân phường Quy Nhơn Bắc
WARD_EAST = "2tier/21601/ubnd"  # Ủy ban nhân dân phường Quy Nhơn Đông (Nhơn Bình went wholly into it)
ISLAND = "2tier/21607/ubnd"  # Ủy ban nhân dân xã Nhơn Châu
PROVINCE = "2tier/52/ubnd"  # Ủy ban nhân dân tỉnh Gia Lai
CHAIRMAN = "2tier/52/chu-tich"  # Chủ tịch Ủy ban nhân dân tỉnh Gia Lai
RECEPTION = "2tier/52/ban-tiep-cong-dan"  # Ban Tiếp công dân tỉnh Gia Lai
FINANCE = "2tier/52/so-tai-chinh"  # Sở Tài chính tỉnh Gia Lai
CONSTRUCTION = "2tier/52/so-xay-dung"  # Sở Xây dựng tỉnh Gia Lai
JUSTICE = "2tier/52/so-tu-phap"  # Sở Tư pháp tỉnh Gia Lai

# --- until 30 June 2025: Bình Định, three tiers --------------------------------------------------------------
OLD_WARD = "3tier/21550/ubnd"  # Ủy ban nhân dân phường Nhơn Bình
OLD_CITY = "3tier/540/ubnd"  # Ủy ban nhân dân thành phố Quy Nhơn (district level)
OLD_PROVINCE = "3tier/52/ubnd"  # Ủy ban nhân dân tỉnh Bình Định
OLD_CHAIRMAN = "3tier/52/chu-tich"  # Chủ tịch Ủy ban nhân dân tỉnh Bình Định
OLD_RECEPTION = "3tier/52/ban-tiep-cong-dan"  # Ban Tiếp công dân tỉnh Bình Định
OLD_CONSTRUCTION = "3tier/52/so-xay-dung"  # Sở Xây dựng tỉnh Bình Định

INVESTIGATION = "external/investigation"
PARTY = "external/party-inspection"
MINISTER = "external/minister"

AFTER = date(2026, 8, 3)  # a Monday after the reform (and after 1 July 2026)
BEFORE = date(2025, 5, 5)  # a Monday before the reform

TEXT = Encrypted(kid="case-x", nonce="bm9uY2U=", ct="Y3Q=")
IDENTITY = SealedIdentity(person_key="person-p", full_name=TEXT)


def directory() -> Directory:
    """The shipped directory of province 52, with Nhơn Châu flagged remote since the reform."""
    shipped = load(DirectoryFiles.shipped("52"))
    island = RemoteDifficult("21607", Period(date(2025, 7, 1), None), True, "test: island commune")
    return Directory(
        shipped.all_units,
        shipped.all_agencies,
        shipped.all_successions,
        (*shipped.all_remote_difficult, island),
    )


def petition(
    *,
    kind: PetitionKind = PetitionKind.COMPLAINT,
    by: str = WARD,
    on: date = AFTER,
    unit: str = "21583",
    about: str | None = WARD,
    subject: SubjectMatterKind = SubjectMatterKind.DECISION,
    round: int = 1,
    channel: Channel = Channel.POST,
    addressed_to: str | None = None,
    forwarded_by: str | None = None,
    people: int = 1,
    representatives: int = 0,
    anonymous: bool = False,
) -> PetitionReceived:
    """A received petition with only the structured facts routing reads; everything textual is ciphertext."""
    submitters = tuple(
        Submitter(person_id=f"p{i}", identity=None if anonymous else IDENTITY, representative=i < representatives)
        for i in range(max(1, representatives))
    )
    return PetitionReceived(
        receipt_no=1,
        received_by=by,
        channel=channel,
        received_on=on,
        declared_kind=kind,
        unit_code=unit,
        subject_matter=SubjectMatter(
            kind=subject,
            agency=about,
            decision_number="12/QĐ-UBND" if subject is SubjectMatterKind.DECISION else None,
        ),
        round=round,
        addressed_to=addressed_to,
        forwarded_by=forwarded_by,
        summary=TEXT,
        submitters=submitters,
        people_count=people,
        request_hash="hash",
    )
