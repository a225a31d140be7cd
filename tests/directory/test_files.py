"""The CSV files: round trip, header detection, settings that point at them."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from casereg.directory import (
    DATA_DIR,
    Agency,
    AgencyKind,
    DirectoryFiles,
    InvalidDirectory,
    Level,
    Period,
    RemoteDifficult,
    Succession,
    Transfer,
    Unit,
    load,
)
from casereg.directory.files import (
    FileKind,
    RowError,
    detect,
    read_agencies,
    read_remote_difficult,
    read_successions,
    read_units,
    write_agencies,
    write_remote_difficult,
    write_successions,
    write_units,
)
from casereg.directory.settings import DirectorySettings


def test_records_survive_a_round_trip(tmp_path: Path) -> None:
    units = [
        Unit("52", Level.PROVINCE, "tỉnh", "Tỉnh Gia Lai", None, Period(date(2025, 7, 1), None)),
        Unit("21583", Level.COMMUNE, "phường", 'Phường "Quy Nhơn", mới', "52", Period(date(2025, 7, 1), None)),
    ]
    agencies = [
        Agency("a/1", AgencyKind.DEPARTMENT, "Sở Văn hóa, Thể thao", "52", Level.PROVINCE, "a/0", Period(None, None))
    ]
    successions = [Succession(Level.COMMUNE, "21580", "21583", date(2025, 7, 1), Transfer.PART)]
    flags = [RemoteDifficult("21583", Period(date(2025, 7, 1), date(2026, 6, 30)), True, "QĐ 1/2025, điều 2")]
    write_units(tmp_path / "u.csv", units)
    write_agencies(tmp_path / "a.csv", agencies)
    write_successions(tmp_path / "s.csv", successions)
    write_remote_difficult(tmp_path / "r.csv", flags)
    assert read_units(tmp_path / "u.csv").records == units
    assert read_agencies(tmp_path / "a.csv").records == agencies
    assert read_successions(tmp_path / "s.csv").records == successions
    assert read_remote_difficult(tmp_path / "r.csv").records == flags
    assert detect(tmp_path / "r.csv") is FileKind.REMOTE_DIFFICULT
    assert b"\r" not in (tmp_path / "u.csv").read_bytes()


def test_every_malformed_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "units.csv"
    path.write_text(
        "code,level,type,name,parent,valid_from,valid_to\n"
        "52,province,tỉnh,Tỉnh Gia Lai,,2025-07-01,\n"
        "5,province,tỉnh,Tỉnh X,,,\n"
        "521,county,x,X,52,,\n"
        "21583,commune,phường,Phường Y,,,\n"
        "21584,commune,làng,Làng Z,52,,\n"
        "21585,commune,xã,Xã Q,52,2025-07-02,2025-07-01\n"
        "\n"
        "52,province,tỉnh,,,,\n",
        encoding="utf-8",
    )
    parsed = read_units(path, "units.csv")
    assert len(parsed.records) == 1
    assert [str(p) for p in parsed.problems] == [
        "units.csv:3: code '5' is not a province code (2 digits)",
        "units.csv:4: level 'county' is not one of province, district, commune",
        "units.csv:5: a commune needs a parent",
        "units.csv:6: type 'làng' is not a commune type (phường, thị trấn, xã, đặc khu)",
        "units.csv:7: period ends (2025-07-01) before it starts (2025-07-02)",
        "units.csv:9: name is empty",
    ]


def test_wrong_header_or_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text("code,level\n", encoding="utf-8")
    assert [p.message for p in read_agencies(path).problems] == [
        "header must be id,kind,name,unit,level,supervisor,valid_from,valid_to, found code,level"
    ]
    with pytest.raises(RowError, match="unknown header"):
        detect(path)
    missing = read_agencies(tmp_path / "nope.csv").problems
    assert len(missing) == 1
    assert "cannot read agencies file" in missing[0].message


def test_load_lists_every_problem(tmp_path: Path) -> None:
    agencies = tmp_path / "agencies.csv"
    agencies.write_text(
        "id,kind,name,unit,level,supervisor,valid_from,valid_to\n"
        "x,people_committee,UBND,52,province,y,2025-07-01,\n"
        "z,people_committee,UBND,52,province,,2025-07-01,\n",
        encoding="utf-8",
    )
    files = DirectoryFiles.shipped("52").with_files([agencies])
    with pytest.raises(InvalidDirectory) as info:
        load(files)
    assert [p.message for p in info.value.problems] == [
        "agency x: unknown supervisor y",
        f"duplicate people_committee of unit 52 (first at {agencies}:2)",
    ]
    assert "2 problem(s) in the directory files" in str(info.value)


def test_shipped_files() -> None:
    files = DirectoryFiles.shipped("56")
    assert [p.name for p in files.units] == ["units-2tier.csv", "units-3tier.csv"]
    assert [p.name for p in files.successions] == ["successions-2025.csv"]
    assert files.agencies == (DATA_DIR / "agencies" / "56.csv",)
    total = sum(p.stat().st_size for p in DATA_DIR.rglob("*") if p.is_file())
    assert total < 3_000_000


def test_settings_default_to_the_platform_province_and_shipped_data(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CASEREG_"):
            monkeypatch.delenv(name)
    assert DirectorySettings().files() == DirectoryFiles.shipped("52")
    monkeypatch.setenv("CASEREG_PROVINCE", "56")
    assert DirectorySettings().province == "56"
    monkeypatch.setenv("CASEREG_DIRECTORY_PROVINCE", "52")
    assert DirectorySettings().province == "52"
    monkeypatch.setenv("CASEREG_DIRECTORY_AGENCIES_FILE", "/srv/gia-lai/agencies.csv")
    monkeypatch.setenv("CASEREG_DIRECTORY_REMOTE_DIFFICULT_FILE", "/srv/gia-lai/remote.csv")
    files = DirectorySettings().files()
    assert files.agencies == (Path("/srv/gia-lai/agencies.csv"),)
    assert files.remote_difficult == (Path("/srv/gia-lai/remote.csv"),)
    assert files.units == DirectoryFiles.shipped("52").units


def test_khanh_hoa_loads_with_its_own_agencies() -> None:
    directory = load(DirectoryFiles.shipped("56"))
    day = date(2025, 7, 1)
    assert directory.agency("56", Level.PROVINCE, day).name == "Ủy ban nhân dân tỉnh Khánh Hòa"
    old = [u.name for link in directory.predecessors(directory.unit("56", day)) for u in [link.unit]]
    assert old == ["Tỉnh Khánh Hòa", "Tỉnh Ninh Thuận"]
    assert directory.agency("58", Level.PROVINCE, date(2025, 6, 30)).name == "Ủy ban nhân dân tỉnh Ninh Thuận"
    assert directory.agencies_of("52", day) == []
