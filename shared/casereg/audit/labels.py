"""Readable labels of the timeline: one table per event type (title and the payload fields that matter).

Every event type of intake (cases, receipt numbers, reception book), routing, escalation and the access records
is here; a type not listed still renders, under its raw name with its payload's scalar fields. Vietnamese is the
default language, English the other. ``tests/audit`` checks that every type in the services' event registries
has a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")


@dataclass(frozen=True)
class Text:
    vi: str
    en: str

    def __call__(self, lang: Lang) -> str:
        return self.vi if lang == "vi" else self.en


@dataclass(frozen=True)
class EventLabels:
    title: Text
    #: payload field -> its label, in display order (the facts that matter).
    facts: dict[str, Text] = field(default_factory=dict)


T = Text
ENCRYPTED = T("đã mã hoá", "<encrypted>")

# Field labels shared by several event types.
TO_AGENCY = T("Chuyển đến", "To agency")
REASON = T("Lý do", "Reason")
BASIS = T("Căn cứ", "Legal basis")
CLOCK = T("Thời hạn", "Clock")
DUE = T("Hạn", "Due")
AGENCY = T("Cơ quan", "Agency")
OVERRIDE = T("Lý do không theo đề xuất", "Override reason")
SUMMARY = T("Tóm tắt", "Summary")
NUMBER = T("Số", "Number")
YEAR = T("Năm", "Year")
CASE = T("Vụ việc", "Case")

_FIRST_HANDLING = {"to_agency": TO_AGENCY, "reason": REASON, "override_reason": OVERRIDE}

EVENTS: dict[str, EventLabels] = {
    # --- intake: cases -----------------------------------------------------------------------------------------
    "PetitionReceived": EventLabels(
        T("Tiếp nhận đơn", "Petition received"),
        {
            "receipt_no": T("Số tiếp nhận", "Receipt no."),
            "received_by": T("Cơ quan tiếp nhận", "Received by"),
            "received_on": T("Ngày nhận", "Received on"),
            "channel": T("Hình thức", "Channel"),
            "declared_kind": T("Loại đơn", "Kind"),
            "unit_code": T("Đơn vị hành chính", "Administrative unit"),
            "round": T("Lần", "Round"),
            "people_count": T("Số người", "People"),
            "summary": SUMMARY,
            "submitters": T("Người gửi", "Submitters"),
        },
    ),
    "ReceiptNumberIssued": EventLabels(
        T("Cấp số tiếp nhận", "Receipt number issued"),
        {"number": NUMBER, "agency": AGENCY, "year": YEAR, "case_id": CASE},
    ),
    "PetitionForwarded": EventLabels(T("Chuyển đơn", "Petition forwarded"), _FIRST_HANDLING),
    "CitizenGuided": EventLabels(T("Hướng dẫn người gửi đơn", "Citizen guided"), _FIRST_HANDLING),
    "PetitionReturned": EventLabels(T("Trả lại đơn", "Petition returned"), _FIRST_HANDLING),
    "PetitionArchived": EventLabels(T("Lưu đơn", "Petition archived"), _FIRST_HANDLING),
    "TransferredToInvestigation": EventLabels(
        T("Chuyển cơ quan điều tra", "Transferred to investigation"), _FIRST_HANDLING
    ),
    "CaseAccepted": EventLabels(
        T("Thụ lý", "Accepted for settlement"),
        {"accepted_on": T("Ngày thụ lý", "Accepted on"), "handling_agency": T("Cơ quan giải quyết", "Handling agency")},
    ),
    "AcceptanceRefused": EventLabels(
        T("Không thụ lý", "Acceptance refused"), {"ground": T("Lý do không thụ lý", "Ground"), "reason": REASON}
    ),
    "CaseMarkedComplicated": EventLabels(
        T("Xác định vụ việc phức tạp", "Marked complicated"), {"criteria": T("Tiêu chí", "Criteria"), "reason": REASON}
    ),
    "DeadlineExtended": EventLabels(
        T("Gia hạn giải quyết", "Deadline extended"), {"days": T("Số ngày", "Days"), "reason": REASON}
    ),
    "CaseSuspended": EventLabels(
        T("Tạm đình chỉ", "Suspended"), {"suspended_on": T("Ngày tạm đình chỉ", "Suspended on"), "reason": REASON}
    ),
    "CaseResumed": EventLabels(T("Tiếp tục giải quyết", "Resumed"), {"resumed_on": T("Ngày tiếp tục", "Resumed on")}),
    "DecisionIssued": EventLabels(
        T("Ban hành quyết định/kết luận", "Decision issued"),
        {
            "number": T("Số quyết định", "Decision no."),
            "decided_on": T("Ngày ban hành", "Decided on"),
            "result": T("Kết quả", "Result"),
            "summary": SUMMARY,
        },
    ),
    "DecisionPublished": EventLabels(
        T("Công khai quyết định", "Decision published"), {"published_on": T("Ngày công khai", "Published on")}
    ),
    "CaseClosed": EventLabels(T("Kết thúc hồ sơ", "Case closed"), {"closed_on": T("Ngày kết thúc", "Closed on")}),
    "CaseWithdrawn": EventLabels(
        T("Rút đơn", "Withdrawn"), {"withdrawn_on": T("Ngày rút", "Withdrawn on"), "reason": REASON}
    ),
    "SecondRoundOpened": EventLabels(
        T("Khiếu nại lần hai", "Second round opened"),
        {"to_agency": TO_AGENCY, "received_on": T("Ngày nhận", "Received on")},
    ),
    # --- intake: reception book --------------------------------------------------------------------------------
    "ReceptionSessionOpened": EventLabels(
        T("Mở buổi tiếp công dân", "Reception session opened"),
        {
            "agency": AGENCY,
            "held_on": T("Ngày tiếp", "Held on"),
            "reception_type": T("Loại tiếp", "Reception type"),
            "host_officer": T("Người chủ trì", "Host officer"),
            "location": T("Địa điểm", "Location"),
        },
    ),
    "ReceptionSerialIssued": EventLabels(
        T("Cấp số sổ tiếp công dân", "Reception serial issued"),
        {"number": NUMBER, "agency": AGENCY, "year": YEAR, "session_id": T("Buổi tiếp", "Session")},
    ),
    "ReceptionEntryRecorded": EventLabels(
        T("Ghi sổ tiếp công dân", "Reception entry recorded"),
        {
            "serial_no": T("Số thứ tự", "Serial no."),
            "people_count": T("Số người", "People"),
            "content": T("Nội dung", "Content"),
            "result": T("Kết quả tiếp", "Result"),
            "case_id": CASE,
        },
    ),
    "ReceptionSessionClosed": EventLabels(
        T("Kết thúc buổi tiếp", "Reception session closed"), {"closed_on": T("Ngày kết thúc", "Closed on")}
    ),
    # --- routing -----------------------------------------------------------------------------------------------
    "PetitionClassified": EventLabels(
        T("Phân loại đơn", "Petition classified"),
        {"classification": T("Phân loại", "Classification"), "declared_kind": T("Loại đơn khai", "Declared kind")},
    ),
    "OutcomeProposed": EventLabels(
        T("Đề xuất xử lý", "Outcome proposed"),
        {
            "outcome": T("Đề xuất", "Outcome"),
            "to_agency": TO_AGENCY,
            "competent_agency": T("Cơ quan có thẩm quyền", "Competent agency"),
            "ground": T("Lý do", "Ground"),
            "flags": T("Lưu ý", "Flags"),
            "repeat_of": T("Trùng với", "Repeat of"),
        },
    ),
    # --- escalation --------------------------------------------------------------------------------------------
    "DeadlineSet": EventLabels(
        T("Bắt đầu tính thời hạn", "Deadline set"),
        {
            "clock": CLOCK,
            "start": T("Từ ngày", "Start"),
            "due": DUE,
            "days": T("Số ngày", "Days"),
            "owed_by": T("Trách nhiệm", "Owed by"),
        },
    ),
    "DeadlineMoved": EventLabels(
        T("Điều chỉnh thời hạn", "Deadline moved"),
        {"clock": CLOCK, "previous_due": T("Hạn cũ", "Previous due"), "due": DUE, "reason": REASON},
    ),
    "DeadlinePaused": EventLabels(
        T("Tạm dừng tính thời hạn", "Deadline paused"),
        {"clock": CLOCK, "paused_on": T("Ngày tạm dừng", "Paused on"), "days_left": T("Số ngày còn", "Days left")},
    ),
    "DeadlineStopped": EventLabels(
        T("Dừng tính thời hạn", "Deadline stopped"),
        {"clock": CLOCK, "stopped_on": T("Ngày dừng", "Stopped on"), "on_time": T("Đúng hạn", "On time")},
    ),
    "DeadlineApproaching": EventLabels(
        T("Sắp đến hạn", "Deadline approaching"),
        {
            "clock": CLOCK,
            "due": DUE,
            "working_days_left": T("Số ngày làm việc còn", "Working days left"),
            "agency": AGENCY,
        },
    ),
    "DeadlineMissed": EventLabels(T("Quá hạn", "Deadline missed"), {"clock": CLOCK, "due": DUE, "agency": AGENCY}),
    "CaseEscalated": EventLabels(
        T("Báo cáo cấp trên", "Escalated"),
        {
            "from_agency": T("Từ cơ quan", "From agency"),
            "to_agency": T("Đến cơ quan", "To agency"),
            "clock": CLOCK,
            "due": DUE,
            "reason": REASON,
        },
    ),
    "CaseFlagged": EventLabels(
        T("Cảnh báo", "Flagged"),
        {
            "flag": T("Loại cảnh báo", "Flag"),
            "reason": REASON,
            "related_cases": T("Vụ việc liên quan", "Related"),
            "count": T("Số lần", "Count"),
        },
    ),
    # --- access records ------------------------------------------------------------------------------------------
    "AccessRecorded": EventLabels(
        T("Truy cập hồ sơ", "Access recorded"),
        {"action": T("Hành động", "Action"), "purpose": T("Mục đích", "Purpose"), "detail": T("Chi tiết", "Detail")},
    ),
}

#: Payload fields that cite the rule applied: rule id (and version), article, legal basis.
RULE = T("Quy định áp dụng", "Rule")
UNKNOWN_TYPE = T("(loại sự kiện chưa có nhãn)", "(event type without labels)")
HEADINGS = {
    "actor": T("Người thực hiện", "By"),
    "trace": T("Mã truy vết", "Trace"),
    "system": T("hệ thống", "system"),
    "none": T("Không có sự kiện", "No events"),
}
