"""Realistic generated petitions for development (``casereg dev seed N [--seed INT]``, in intake).

:func:`generate` is deterministic: the same ``(n, seed)`` always gives the same people, texts, dates,
units and receiving agencies (and ``generate(n, s)`` is a prefix of ``generate(m, s)`` for ``n < m``), so a
test can regenerate the clear values and look for them where they must not be. Each case's ``unit_code`` is
a real commune or ward of Gia Lai (province 52) in force on the case's day, and ``received_by`` a real agency
id of the province, both from :mod:`casereg.directory`.

This module only makes data; it writes nothing. Intake turns each :class:`SeedCase` into its own
``SubmitPetition`` command and records it through its submission handler (``intake.dev_seed``), so the seeded
cases are exactly what intake would have recorded.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache
from typing import Literal

from casereg.crypto.person import PersonIdentity
from casereg.directory.directory import Directory
from casereg.directory.load import DirectoryFiles, load
from casereg.directory.model import Level, Period, Unit

PetitionKind = Literal["complaint", "denunciation", "recommendation"]
Channel = Literal["in_person", "mail", "online", "forwarded"]

#: The province the generated petitions come from: Gia Lai, with its code since 1 July 2025.
PROVINCE = "52"


@dataclass(frozen=True)
class SeedCase:
    """One generated petition with its clear values (they exist only in memory)."""

    seed: int
    index: int
    identity: PersonIdentity
    kind: PetitionKind
    channel: Channel
    received_by: str
    unit_code: str
    content: str
    occurred_at: datetime

    def __repr__(self) -> str:  # never print personal data by accident
        return f"SeedCase(seed={self.seed}, index={self.index}, <redacted>)"

    @property
    def key(self) -> str:
        """The case's idempotency key: seeding the same seed again finds the cases it made."""
        return f"seed-{self.seed}-{self.index}"

    @property
    def received_on(self) -> date:
        """The day the petition arrived, in Vietnam."""
        return self.occurred_at.astimezone(LOCAL).date()


# --- vocabulary ---------------------------------------------------------------------------------------------

FAMILY_NAMES = (
    ("Nguyễn", 30), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 5), ("Huỳnh", 4), ("Phan", 4),
    ("Vũ", 3), ("Võ", 4), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 2), ("Ngô", 2), ("Dương", 1),
    ("Lý", 1), ("Đinh", 2), ("Trương", 1), ("Lương", 1), ("Đoàn", 1),
)  # fmt: skip
MALE_MIDDLE = ("Văn", "Hữu", "Đức", "Minh", "Quang", "Công", "Thanh", "Xuân", "Đình", "Ngọc", "Tấn", "Quốc")
FEMALE_MIDDLE = ("Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Mỹ", "Hồng", "Bích", "Phương", "Thùy")
MALE_GIVEN = (
    "An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam", "Phúc", "Quân", "Sơn",
    "Thắng", "Tuấn", "Việt", "Hiếu", "Trung", "Tài", "Lực", "Đạt", "Huy", "Lâm", "Nghĩa", "Phong",
    "Thành", "Toàn", "Vinh",
)  # fmt: skip
FEMALE_GIVEN = (
    "Hà", "Hạnh", "Hương", "Lan", "Linh", "Mai", "Nga", "Ngân", "Nhung", "Phượng", "Thảo", "Trang",
    "Vy", "Yến", "Hoa", "Loan", "Oanh", "Diễm", "Hằng", "Huyền", "Liên", "Nhàn", "Quyên", "Tâm",
    "Thủy", "Uyên", "Xuân",
)  # fmt: skip
# Jrai and Bahnar names, common in the west of the province.
MINORITY_FAMILY = ("Ksor", "Rơ Mah", "Siu", "Rơ Châm", "Nay", "Puih", "Kpă", "Rơ Lan", "Đinh", "Rah Lan")
MINORITY_MALE_GIVEN = ("Blơk", "Dih", "Jek", "Thuel", "Kpuih", "Byưn", "Hyơn", "Nhôl", "Tơ", "Wang")
MINORITY_FEMALE_GIVEN = ("H'Bia", "H'Xuân", "H'Lan", "H'Phin", "H'Nga", "H'Yơn", "H'Blong", "H'Luyến")

STREETS = (
    "Trần Hưng Đạo", "Lê Lợi", "Hùng Vương", "Phan Đình Phùng", "Nguyễn Huệ", "Quang Trung", "Lý Thái Tổ",
    "Trường Chinh", "Nguyễn Văn Cừ", "Tôn Đức Thắng", "Lê Duẩn", "Phạm Văn Đồng", "Nguyễn Thái Học",
    "Hai Bà Trưng", "Võ Thị Sáu", "Cách Mạng Tháng Tám",
)  # fmt: skip
HAMLETS = ("Thôn 1", "Thôn 2", "Thôn 3", "Thôn 5", "Thôn Tân Lập", "Thôn Hòa Bình", "Làng Plei Ốp",
           "Làng Ia Tiêm", "Thôn An Hòa", "Thôn Phú Thọ", "Thôn Đồng Tâm", "Làng Kép")  # fmt: skip
RIVERS = ("Ba", "Côn", "Ayun", "Sê San", "Hà Thanh", "Lại Giang", "Ia Púch")

#: Province-of-birth codes of the 12-digit citizen ID (first three digits): mostly local, some from elsewhere.
BIRTH_PROVINCES = (
    ("064", 45), ("052", 30), ("051", 4), ("066", 4), ("062", 3), ("040", 3), ("038", 3),
    ("001", 4), ("079", 4),
)  # fmt: skip
#: Mobile prefixes (Viettel, Vinaphone, MobiFone, Vietnamobile).
PHONE_PREFIXES = ("086", "096", "097", "098", "032", "033", "034", "035", "036", "037", "038", "039", "088",
                  "091", "094", "081", "082", "083", "084", "085", "089", "090", "093", "070", "076", "077",
                  "078", "079", "092", "056", "058")  # fmt: skip

#: Receiving agencies of the province since 1 July 2025: directory id -> name (``directory/data/agencies/52.csv``).
AGENCIES = {
    "2tier/52/ban-tiep-cong-dan": "Ban Tiếp công dân tỉnh Gia Lai",
    "2tier/52/thanh-tra": "Thanh tra tỉnh Gia Lai",
    "2tier/52/ubnd": "Ủy ban nhân dân tỉnh Gia Lai",
    "2tier/52/so-nong-nghiep-va-moi-truong": "Sở Nông nghiệp và Môi trường tỉnh Gia Lai",
    "2tier/52/so-xay-dung": "Sở Xây dựng tỉnh Gia Lai",
}
AGENCY_WEIGHTS = (40, 20, 20, 12, 8)
KINDS: tuple[tuple[PetitionKind, int], ...] = (
    ("complaint", 50),
    ("denunciation", 20),
    ("recommendation", 30),
)
CHANNELS: tuple[tuple[Channel, int], ...] = (
    ("in_person", 45),
    ("mail", 25),
    ("online", 20),
    ("forwarded", 10),
)

COMPLAINTS = (
    "Tôi khiếu nại Quyết định số {num}/QĐ-UBND ngày {day} của Ủy ban nhân dân {place} về việc thu "
    "hồi {area} m² đất nông nghiệp tại thửa đất số {parcel}, tờ bản đồ số {sheet}. Mức bồi thường "
    "{money} đồng thấp hơn nhiều so với giá thị trường; đề nghị cơ quan có thẩm quyền xem xét, "
    "giải quyết lại.",
    "Tôi khiếu nại việc Ủy ban nhân dân {place} không cấp Giấy chứng nhận quyền sử dụng đất cho "
    "thửa đất số {parcel}, tờ bản đồ số {sheet}, diện tích {area} m², mà gia đình tôi sử dụng ổn "
    "định từ năm {year}, không có tranh chấp. Hồ sơ đã nộp từ ngày {day} nhưng đến nay chưa được "
    "trả lời.",
    "Tôi khiếu nại việc cán bộ địa chính {place} khi đo đạc lại đã tự ý điều chỉnh ranh giới thửa "
    "đất số {parcel}, làm diện tích đất của gia đình tôi giảm {area} m² so với Giấy chứng nhận đã "
    "cấp.",
    "Tôi khiếu nại Quyết định xử phạt vi phạm hành chính số {num}/QĐ-XPHC ngày {day} của Chủ tịch "
    "Ủy ban nhân dân {place} với số tiền {money} đồng về hành vi xây dựng không phép, vì công "
    "trình của tôi là sửa chữa nhà ở hiện có.",
    "Tôi khiếu nại việc chậm chi trả tiền hỗ trợ tái định cư theo phương án đã được phê duyệt "
    "ngày {day}; đến nay gia đình tôi vẫn chưa nhận được khoản {money} đồng và chưa được bố trí "
    "đất tái định cư tại {place}.",
)
DENUNCIATIONS = (
    "Tôi tố cáo một số cán bộ Ủy ban nhân dân {place} đã nhận tiền của các hộ dân để hợp thức hóa "
    "khoảng {area} m² đất lấn chiếm tại khu vực ven sông {river}. Tôi đề nghị được giữ bí mật "
    "thông tin cá nhân.",
    "Tôi tố cáo doanh nghiệp khai thác cát trái phép trên sông {river} đoạn qua {place}, gây sạt "
    "lở khoảng {area} m² đất sản xuất của người dân; chính quyền địa phương biết nhưng không xử "
    "lý.",
    "Tôi tố cáo cán bộ phụ trách chính sách xã hội {place} lập hồ sơ khống để nhận tiền hỗ trợ hộ "
    "nghèo với số tiền khoảng {money} đồng trong năm {year}.",
    "Tôi tố cáo việc nâng khống khối lượng công trình đường giao thông nông thôn tại {place} được "
    "nghiệm thu ngày {day}, gây thất thoát ngân sách khoảng {money} đồng.",
)
RECOMMENDATIONS = (
    "Tôi kiến nghị chính quyền sớm sửa chữa tuyến đường liên thôn tại {place} đã xuống cấp nghiêm "
    "trọng; mùa mưa học sinh đi lại rất nguy hiểm.",
    "Tôi phản ánh cơ sở chăn nuôi heo tại {place} xả nước thải chưa qua xử lý ra suối, gây ô "
    "nhiễm nguồn nước sinh hoạt của khoảng {households} hộ dân.",
    "Tôi kiến nghị được xem xét hỗ trợ giống cây trồng cho các hộ bị thiệt hại do đợt mưa lũ "
    "tháng {month}/{year} tại {place}; gia đình tôi bị thiệt hại {area} m² cà phê và hồ tiêu.",
    "Tôi kiến nghị công khai quy hoạch sử dụng đất đến năm 2030 của {place}, vì người dân không "
    "biết đất của mình có nằm trong quy hoạch hay không.",
    "Tôi phản ánh tình trạng mất điện kéo dài nhiều giờ mỗi ngày tại {place} trong tháng "
    "{month}/{year}, ảnh hưởng đến sản xuất và sinh hoạt của khoảng {households} hộ dân.",
)
TEMPLATES: dict[PetitionKind, tuple[str, ...]] = {
    "complaint": COMPLAINTS,
    "denunciation": DENUNCIATIONS,
    "recommendation": RECOMMENDATIONS,
}

#: Business days of the generated petitions start here (after the provinces merged on 1 July 2025).
FIRST_DAY = date(2025, 7, 1)
LOCAL = timezone(timedelta(hours=7))


# --- generation ---------------------------------------------------------------------------------------------


def _weighted(rng: random.Random, options: Sequence[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _full_name(rng: random.Random, female: bool) -> str:
    if rng.random() < 0.15:
        family = rng.choice(MINORITY_FAMILY)
        given = rng.choice(MINORITY_FEMALE_GIVEN if female else MINORITY_MALE_GIVEN)
        return f"{family} {given}"
    family = _weighted(rng, FAMILY_NAMES)
    middle = rng.choice(FEMALE_MIDDLE if female else MALE_MIDDLE)
    given = rng.choice(FEMALE_GIVEN if female else MALE_GIVEN)
    if rng.random() < 0.2:  # a second middle name, e.g. Nguyễn Thị Thu Hà
        second = rng.choice(FEMALE_MIDDLE[3:] if female else MALE_MIDDLE)
        if second != middle:
            middle = f"{middle} {second}"
    return f"{family} {middle} {given}"


def _id_number(rng: random.Random, female: bool, birth_year: int) -> str:
    """12-digit citizen ID: birth province (3), sex and century (1), birth year (2), then six digits."""
    province = _weighted(rng, BIRTH_PROVINCES)
    century = 0 if birth_year < 2000 else 2
    return f"{province}{century + int(female)}{birth_year % 100:02d}{rng.randrange(10**6):06d}"


def _local_name(unit: Unit) -> str:
    """``phường Quy Nhơn`` for the unit named ``Phường Quy Nhơn`` (the name as it reads inside a sentence)."""
    name = unit.name
    if name.casefold().startswith(unit.type.casefold() + " "):
        name = name[len(unit.type) + 1 :]
    return f"{unit.type} {name}"


def _place(rng: random.Random, unit: Unit) -> tuple[str, str]:
    """(the unit as the text names it, the person's full address in that unit)."""
    place = _local_name(unit)
    if unit.type == "phường":
        return place, f"Số {rng.randint(1, 320)} đường {rng.choice(STREETS)}, {place}, tỉnh Gia Lai"
    return place, f"{rng.choice(HAMLETS)}, {place}, tỉnh Gia Lai"


def _money(rng: random.Random) -> str:
    return f"{rng.randint(8, 2500) * 1_000_000:,}".replace(",", ".")


def _content(rng: random.Random, kind: PetitionKind, place: str, day: date) -> str:
    earlier = day - timedelta(days=rng.randint(20, 400))
    values = {
        "num": rng.randint(120, 4800),
        "day": earlier.strftime("%d/%m/%Y"),
        "place": place,
        "area": rng.randint(40, 5200),
        "parcel": rng.randint(1, 980),
        "sheet": rng.randint(1, 64),
        "money": _money(rng),
        "year": rng.randint(1988, 2022) if kind == "complaint" else earlier.year,
        "river": rng.choice(RIVERS),
        "households": rng.randint(12, 450),
        "month": earlier.month,
    }
    return rng.choice(TEMPLATES[kind]).format(**values)


def _occurred_at(rng: random.Random) -> tuple[date, datetime]:
    """A working day and office hour (Vietnam time) in the 300 days from :data:`FIRST_DAY`, as UTC."""
    day = FIRST_DAY + timedelta(days=rng.randrange(300))
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minute = rng.randrange(7 * 60 + 30, 16 * 60 + 30)
    local = datetime.combine(day, time(minute // 60, minute % 60, rng.randrange(60)), tzinfo=LOCAL)
    return day, local.astimezone(UTC)


@cache
def directory() -> Directory:
    """The shipped directory with Gia Lai's agencies (loaded once)."""
    return load(DirectoryFiles.shipped(PROVINCE))


@cache
def _province_units() -> tuple[Unit, ...]:
    """Every commune and ward of the province in force on :data:`FIRST_DAY` or later, in code order."""
    found = directory()
    since = Period(FIRST_DAY, None)
    units = [
        unit
        for unit in found.all_units
        if unit.level is Level.COMMUNE
        and unit.period.overlaps(since)
        and found.province_of(unit.code, max(FIRST_DAY, unit.period.start or FIRST_DAY)).code == PROVINCE
    ]
    return tuple(sorted(units, key=lambda u: (u.code, u.period.start or date.min)))


@cache
def _units_on(day: date) -> tuple[Unit, ...]:
    units = tuple(u for u in _province_units() if u.period.contains(day))
    if not units:
        raise ValueError(f"the directory has no commune or ward of province {PROVINCE} on {day}")
    return units


def generate(n: int, seed: int) -> list[SeedCase]:
    """``n`` generated petitions, the same for the same ``(n, seed)``; a prefix of any longer run."""
    if n < 0:
        raise ValueError("n must not be negative")
    rng = random.Random(seed)
    cases = []
    for index in range(n):
        female = rng.random() < 0.48
        birth_year = rng.randint(1948, 2006)
        name = _full_name(rng, female)
        id_number = _id_number(rng, female, birth_year)
        day, occurred_at = _occurred_at(rng)
        unit = rng.choice(_units_on(day))
        place, address = _place(rng, unit)
        phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**7):07d}"
        kind: PetitionKind = _weighted(rng, KINDS)  # type: ignore[assignment]
        channel: Channel = _weighted(rng, CHANNELS)  # type: ignore[assignment]
        agency = rng.choices(list(AGENCIES), weights=AGENCY_WEIGHTS)[0]
        content = _content(rng, kind, place, day)
        cases.append(
            SeedCase(
                seed=seed,
                index=index,
                identity=PersonIdentity(full_name=_nfc(name), id_number=id_number, address=_nfc(address), phone=phone),
                kind=kind,
                channel=channel,
                received_by=agency,
                unit_code=unit.code,
                content=_nfc(content),
                occurred_at=occurred_at,
            )
        )
    return cases
