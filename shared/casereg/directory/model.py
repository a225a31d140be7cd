"""Records of the province directory: administrative units, agencies, successions and unit attributes.

Every record is valid over a :class:`Period` of whole days, both ends inclusive; an open end is ``None``. Official
codes were reused across the 1 July 2025 reform (code ``52`` was Bình Định and is Gia Lai), so a unit's identity is
``(code, valid_from, valid_to)``, never the code alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

#: The day the two-tier local government came into force (Resolution 202/2025/QH15; Law on Local Government 2025).
REFORM_DATE = date(2025, 7, 1)


class Level(StrEnum):
    """Tier of an administrative unit. Districts exist only before :data:`REFORM_DATE`."""

    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Level.PROVINCE: 1, Level.DISTRICT: 2, Level.COMMUNE: 3}

#: Official code length per level (General Statistics Office lists: 2, 3 and 5 digits, zero-padded).
CODE_WIDTH = {Level.PROVINCE: 2, Level.DISTRICT: 3, Level.COMMUNE: 5}

#: The Vietnamese division types a unit of each level may have.
UNIT_TYPES: dict[Level, frozenset[str]] = {
    Level.PROVINCE: frozenset({"tỉnh", "thành phố trung ương"}),
    Level.DISTRICT: frozenset({"quận", "huyện", "thị xã", "thành phố"}),
    Level.COMMUNE: frozenset({"xã", "phường", "thị trấn", "đặc khu"}),
}


class AgencyKind(StrEnum):
    PEOPLE_COMMITTEE = "people_committee"  # Ủy ban nhân dân
    CHAIRMAN = "chairman"  # Chủ tịch Ủy ban nhân dân
    INSPECTORATE = "inspectorate"  # Thanh tra tỉnh
    CITIZEN_RECEPTION = "citizen_reception"  # Ban Tiếp công dân
    DEPARTMENT = "department"  # sở and the committee's office


#: Kinds of which a unit has at most one at any date (a unit has many departments).
SINGLE_KINDS = frozenset(AgencyKind) - {AgencyKind.DEPARTMENT}


class Transfer(StrEnum):
    """How much of an old unit went into a new one (the transition table's "Nhập toàn bộ" / "Nhập một phần")."""

    WHOLE = "whole"
    PART = "part"


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days from ``start`` to ``end``, both inclusive; ``None`` leaves that end open."""

    start: date | None = None
    end: date | None = None

    def __post_init__(self) -> None:
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError(f"period ends ({self.end}) before it starts ({self.start})")

    def contains(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def overlaps(self, other: Period) -> bool:
        starts_before_other_ends = self.start is None or other.end is None or self.start <= other.end
        ends_after_other_starts = self.end is None or other.start is None or other.start <= self.end
        return starts_before_other_ends and ends_after_other_starts

    def covers(self, other: Period) -> bool:
        """Whether every day of ``other`` is a day of this period."""
        start_ok = self.start is None or (other.start is not None and self.start <= other.start)
        end_ok = self.end is None or (other.end is not None and other.end <= self.end)
        return start_ok and end_ok

    def __str__(self) -> str:
        return f"{self.start or '…'} – {self.end or '…'}"


def day_before(day: date) -> date:
    return day - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a record was read from, for error messages; not part of its value."""

    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Unit:
    """An administrative unit (tỉnh, huyện, xã ...) as it was over one period."""

    code: str
    level: Level
    type: str
    name: str
    parent: str | None
    period: Period
    origin: Origin | None = field(default=None, compare=False, repr=False)

    @property
    def valid_from(self) -> date | None:
        return self.period.start

    @property
    def valid_to(self) -> date | None:
        return self.period.end

    @property
    def key(self) -> tuple[str, date | None, date | None]:
        """The unit's identity: its code and validity."""
        return (self.code, self.period.start, self.period.end)

    def __str__(self) -> str:
        return f"{self.code} {self.name} ({self.period})"


@dataclass(frozen=True, slots=True)
class Agency:
    """A body (or the office of its head) attached to one unit: People's Committee, chairman, department ..."""

    id: str
    kind: AgencyKind
    name: str
    unit: str
    level: Level
    supervisor: str | None
    period: Period
    origin: Origin | None = field(default=None, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.id} {self.name} ({self.period})"


@dataclass(frozen=True, slots=True)
class Succession:
    """Part or all of an old unit (in force the day before ``effective``) became part of a new unit."""

    level: Level
    old_code: str
    new_code: str
    effective: date
    transfer: Transfer
    origin: Origin | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class RemoteDifficult:
    """Operator-set flag: the unit is a remote or difficult area (longer complaint deadlines, LKN Arts. 28, 37)."""

    code: str
    period: Period
    value: bool
    basis: str = ""
    origin: Origin | None = field(default=None, compare=False, repr=False)
