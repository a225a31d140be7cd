"""The generator: regenerating reproduces the committed files byte for byte; its helpers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from casereg.directory import DATA_DIR, Level
from casereg.directory.generate import (
    THREE_TIER,
    TWO_TIER,
    GenerateError,
    _literal,
    default_cache,
    fetch_wheel,
    generate_agencies,
    generate_units,
    locative,
    read_seed,
    type_from_name,
)


def same_bytes(generated: Path, committed: Path) -> None:
    assert generated.read_bytes() == committed.read_bytes(), f"{generated} differs from {committed}"


def test_regenerating_units_from_the_packages_reproduces_the_committed_files(tmp_path: Path) -> None:
    """Downloads the two pinned wheels with pip (kept in a cache under the temp dir), reads them, compares."""
    written = generate_units(tmp_path, default_cache())
    assert [p.name for p in written] == ["units-3tier.csv", "units-2tier.csv", "successions-2025.csv", "sources.json"]
    for path in written:
        same_bytes(path, DATA_DIR / path.name)


def test_regenerating_agencies_from_the_seeds_reproduces_the_committed_files(tmp_path: Path) -> None:
    written = generate_agencies(DATA_DIR, DATA_DIR / "seeds", tmp_path)
    assert sorted(p.name for p in written) == ["52.csv", "56.csv"]
    for path in written:
        same_bytes(path, DATA_DIR / "agencies" / path.name)
    shipped = sorted(p.name for p in (DATA_DIR / "agencies").glob("*.csv"))
    assert shipped == sorted(p.name for p in written), "every shipped agencies file has a seed"


def test_a_wheel_with_another_hash_is_refused(tmp_path: Path) -> None:
    fake_pip = tmp_path / "pip"
    fake_pip.write_text(
        f'#!/bin/sh\nwhile [ "$1" != "--dest" ]; do shift; done\necho tampered > "$2/{TWO_TIER.wheel}"\n',
        encoding="utf-8",
    )
    fake_pip.chmod(0o755)
    with pytest.raises(GenerateError, match="refusing to use it"):
        fetch_wheel(TWO_TIER, tmp_path / "cache", [str(fake_pip)])
    assert not (tmp_path / "cache" / TWO_TIER.wheel).exists()


def test_a_failed_download_says_what_pip_said(tmp_path: Path) -> None:
    fake_pip = tmp_path / "pip"
    fake_pip.write_text("#!/bin/sh\necho 'No matching distribution' >&2\nexit 1\n", encoding="utf-8")
    fake_pip.chmod(0o755)
    with pytest.raises(GenerateError, match=f"could not download vietnam-provinces=={THREE_TIER.version}"):
        fetch_wheel(THREE_TIER, tmp_path, [str(fake_pip)])


def test_division_type_from_the_name() -> None:
    assert type_from_name("Thành phố Hà Nội", Level.PROVINCE) == "thành phố trung ương"
    assert type_from_name("Tỉnh Bình Định", Level.PROVINCE) == "tỉnh"
    assert type_from_name("Thành Phố Bắc Kạn", Level.DISTRICT) == "thành phố"
    assert type_from_name("Thị xã An Nhơn", Level.DISTRICT) == "thị xã"
    assert type_from_name("Thị trấn Phù Mỹ", Level.COMMUNE) == "thị trấn"
    with pytest.raises(GenerateError, match="cannot tell"):
        type_from_name("Làng Mới", Level.COMMUNE)


def test_locative_lowercases_the_division_word_only() -> None:
    assert locative("Tỉnh Gia Lai") == "tỉnh Gia Lai"
    assert locative("Thành phố Hồ Chí Minh") == "thành phố Hồ Chí Minh"
    assert locative("Phường 14") == "phường 14"
    assert locative("Đặc khu Côn Đảo") == "đặc khu Côn Đảo"
    assert locative("Xã Thị Trấn") == "xã Thị Trấn"


def test_package_data_is_read_as_literals_never_run() -> None:
    tree = ast.parse("X = {1: Entry(Ref(1, 2, False), (New(3, 4),))}").body[0]
    assert isinstance(tree, ast.Assign)
    assert _literal(tree.value) == {1: ("Entry", ("Ref", 1, 2, False), (("New", 3, 4),))}
    call = ast.parse("__import__('os').system('true')").body[0]
    assert isinstance(call, ast.Expr)
    with pytest.raises(GenerateError, match="unexpected expression"):
        _literal(call.value)


def test_seed_errors_are_clear(tmp_path: Path) -> None:
    seed = tmp_path / "52.toml"
    seed.write_text("province = 52\n", encoding="utf-8")
    with pytest.raises(GenerateError, match="province must be a two-digit code in quotes"):
        read_seed(seed)
    seed.write_text('province = "52"\ndepartments = [{ slug = "Sở Y tế", name = "Sở Y tế" }]\n', encoding="utf-8")
    with pytest.raises(GenerateError, match="slug 'Sở Y tế' must be"):
        read_seed(seed)
    seed.write_text('province = "52"\ndepartments = [{ slug = "ubnd", name = "x" }]\n', encoding="utf-8")
    with pytest.raises(GenerateError, match="slug 'ubnd'"):
        read_seed(seed)
    seed.write_text('province = "52"\ndepartments = [{ slug = "a", name = "A" }, { slug = "a", name = "B" }]\n')
    with pytest.raises(GenerateError, match="share a slug"):
        read_seed(seed)


def test_seed_for_a_code_that_is_no_province_since_the_reform(tmp_path: Path) -> None:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "64.toml").write_text('province = "64"\n', encoding="utf-8")  # old Gia Lai, merged into 52
    with pytest.raises(GenerateError, match="not a province since 2025-07-01"):
        generate_agencies(DATA_DIR, seeds, tmp_path)
