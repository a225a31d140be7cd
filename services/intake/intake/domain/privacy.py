"""Who may see a person's identity on a case, and what everyone else sees instead (LTC Art. 8(3), 47, 56).

Pure rules on the case's folded state. Identity (and a petition's original texts) is disclosed only to an officer
of the *settling agency* for the case — the agency the case is handled by now: the one that received it until it
forwards it, then the one it was forwarded to or that accepted it (``CaseState.handling_agency``) — acting in the
*settling role* (``handler``). Everyone else sees a stable pseudonym per person: its position in the case.
"""

from __future__ import annotations

from intake.commands import Caller
from intake.domain.case import CaseState
from intake.domain.model import PetitionKind

#: The role whose officers settle cases (clerks record, inspectors and auditors read).
SETTLING_ROLE = "handler"

_LABELS = {
    PetitionKind.DENUNCIATION: "Người tố cáo",
    PetitionKind.COMPLAINT: "Người khiếu nại",
}
#: Kiến nghị, phản ánh, mixed petitions.
_OTHER = "Người gửi đơn"
ERASED = "đã xoá"


def settling_agency(state: CaseState) -> str | None:
    """The agency settling the case now (the one it was received by, forwarded to, or accepted by)."""
    return state.handling_agency if state.exists else None


def may_disclose(state: CaseState, caller: Caller) -> bool:
    """Only the settling agency's officers in the settling role see identities and original texts."""
    return state.exists and caller.role == SETTLING_ROLE and caller.agency == settling_agency(state)


def pseudonym(kind: PetitionKind | None, number: int, *, erased: bool = False) -> str:
    """A stable name per (case, person): "Người tố cáo #3" is the case's third person. Never derived from identity."""
    label = f"{_LABELS.get(kind, _OTHER) if kind else _OTHER} #{number}"
    return f"{label} ({ERASED})" if erased else label
