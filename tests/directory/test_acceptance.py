"""Issue 5's acceptance tests, against the data shipped in the repository."""

from __future__ import annotations

from datetime import date

from casereg.directory import AgencyKind, Directory, Level

LAST_DAY = date(2025, 6, 30)
FIRST_DAY = date(2025, 7, 1)


def test_code_52_is_binh_dinh_before_the_reform_and_gia_lai_after(shipped: Directory) -> None:
    before, after = shipped.unit("52", LAST_DAY), shipped.unit("52", FIRST_DAY)
    assert before.name == "Tỉnh Bình Định"
    assert after.name == "Tỉnh Gia Lai"
    assert before.key == ("52", None, LAST_DAY)
    assert after.key == ("52", FIRST_DAY, None)


def test_ward_21583_is_thi_nai_before_and_quy_nhon_after(shipped: Directory) -> None:
    before, after = shipped.unit("21583", LAST_DAY), shipped.unit("21583", FIRST_DAY)
    assert before.name == "Phường Thị Nại"
    assert after.name == "Phường Quy Nhơn"
    assert [u.name for u in shipped.path("21583", LAST_DAY)] == [
        "Phường Thị Nại",
        "Thành phố Quy Nhơn",
        "Tỉnh Bình Định",
    ]
    assert [u.name for u in shipped.path("21583", FIRST_DAY)] == ["Phường Quy Nhơn", "Tỉnh Gia Lai"]


def test_gia_lai_has_135_communes_and_wards(shipped: Directory) -> None:
    communes = shipped.children("52", FIRST_DAY)
    assert len(communes) == 135
    assert {u.type for u in communes} == {"xã", "phường"}
    assert sum(1 for u in communes if u.type == "xã") == 110


def test_every_gia_lai_commune_has_one_committee_supervised_by_the_provincial_committee(shipped: Directory) -> None:
    provincial = shipped.agency("52", Level.PROVINCE, FIRST_DAY)
    assert provincial.kind is AgencyKind.PEOPLE_COMMITTEE
    assert provincial.name == "Ủy ban nhân dân tỉnh Gia Lai"
    for day in (FIRST_DAY, date(2026, 7, 1)):
        communes = shipped.children("52", day)
        assert len(communes) == 135
        for commune in communes:
            committees = shipped.agencies_of(commune.code, day, AgencyKind.PEOPLE_COMMITTEE)
            assert len(committees) == 1, commune
            assert shipped.supervisor(committees[0]) == provincial
            assert shipped.agency(commune.code, Level.COMMUNE, day) == committees[0]


def test_before_the_reform_a_communes_supervisor_is_its_district_committee(shipped: Directory) -> None:
    checked = 0
    for old_province in ("52", "64"):  # Bình Định and the old Gia Lai, both now in Gia Lai
        for district in shipped.children(old_province, LAST_DAY):
            district_committee = shipped.agency(district.code, Level.DISTRICT, LAST_DAY)
            assert shipped.supervisor(district_committee) == shipped.agency(old_province, Level.PROVINCE, LAST_DAY)
            for commune in shipped.children(district.code, LAST_DAY):
                committee = shipped.agency(commune.code, Level.COMMUNE, LAST_DAY)
                assert shipped.supervisor(committee) == district_committee
                checked += 1
    assert checked > 300
    thi_nai = shipped.agency("21583", Level.COMMUNE, LAST_DAY)
    assert shipped.supervisor(thi_nai) == shipped.agency("540", Level.DISTRICT, LAST_DAY)
    assert [a.name for a in shipped.chain(thi_nai)] == [
        "Ủy ban nhân dân phường Thị Nại",
        "Ủy ban nhân dân thành phố Quy Nhơn",
        "Ủy ban nhân dân tỉnh Bình Định",
    ]


def test_province_level_agencies_of_gia_lai(shipped: Directory) -> None:
    for kind in (AgencyKind.CHAIRMAN, AgencyKind.INSPECTORATE, AgencyKind.CITIZEN_RECEPTION):
        agency = shipped.agency("21583", Level.PROVINCE, FIRST_DAY, kind)
        assert agency.unit == "52"
        assert agency.supervisor == "2tier/52/ubnd"
    departments = shipped.agencies_of("52", FIRST_DAY, AgencyKind.DEPARTMENT)
    assert "Sở Tài chính tỉnh Gia Lai" in {d.name for d in departments}
