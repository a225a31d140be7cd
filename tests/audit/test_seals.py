"""Seals on a real nats-server: chain, coverage, concurrent sealers, the periodic sealer, `casereg seal` and
`verify --seals`; tampered bundles and seals detected by the offline verifier in a fresh interpreter."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from casereg.audit.seals import (
    Sealer,
    build_seal,
    check_stream,
    heads_of,
    public_key_raw,
    read_seals,
    seal_now,
)
from casereg.log.raw import RawMessage
from casereg.platform.nats_embedded import EmbeddedNats
from casereg_verify.verify import canonical, check_seal_chain, merkle_root
from nats.aio.client import Client as NATS

from tests.audit.support import edited, exported, run_offline, save, write
from tests.conftest import connect_as
from tests.log.cli_support import CliEnv, invoke, make_cli_env
from tests.log.conftest import LogEnv
from tests.projections.conftest import wait_for


@pytest.fixture
async def sealer_nc(nats_server: EmbeddedNats) -> Any:
    nc = await connect_as(nats_server, "national_sync")
    yield nc
    await nc.close()


@pytest.fixture
def cli_env(nats_server: EmbeddedNats, log_env: LogEnv, tmp_path: Path) -> CliEnv:
    return make_cli_env(nats_server, log_env.settings, tmp_path)


async def all_seals(env: LogEnv) -> list[dict[str, Any]]:
    return [s.seal async for s in read_seals(env.nc.jetstream(), env.settings)]


def test_merkle_root_is_order_free_and_sensitive_to_every_head() -> None:
    heads = [(f"reg.52.case.c{i}", i + 1, f"{i:064x}") for i in range(7)]
    root = merkle_root(heads)
    assert root == merkle_root(list(reversed(heads)))
    assert root != merkle_root(heads[:-1])
    assert root != merkle_root([*heads[:3], (heads[3][0], 99, heads[3][2]), *heads[4:]])
    assert merkle_root([]) == merkle_root(())


async def test_seal_chain_coverage_and_two_sealers_never_fork(log_env: LogEnv, sealer_nc: NATS) -> None:
    settings, clock = log_env.settings, log_env.clock
    a1 = await write(log_env, "a1", 3)
    b2 = await write(log_env, "b2", 2)
    first = await seal_now(sealer_nc, settings, clock)
    assert first is not None and first["seal_no"] == 1
    assert (first["from_seq"], first["to_seq"]) == (1, b2[-1])
    assert {h["subject"]: h["stream_seq"] for h in first["heads"]} == {
        f"reg.{settings.province}.case.a1": a1[-1],
        f"reg.{settings.province}.case.b2": b2[-1],
    }
    assert await seal_now(sealer_nc, settings, clock) is None  # nothing changed since

    more = await write(log_env, "a1", 1)
    other = await connect_as(log_env.server, "national_sync")
    try:
        results = await asyncio.gather(*(seal_now(nc, settings, clock) for nc in (sealer_nc, other)))
    finally:
        await other.close()
    written = [r for r in results if r is not None]
    assert len(written) == 1 and written[0]["seal_no"] == 2  # the loser found nothing left to seal
    assert [h["subject"] for h in written[0]["heads"]] == [f"reg.{settings.province}.case.a1"]
    assert written[0]["from_seq"] == b2[-1] + 1 and written[0]["to_seq"] == more[-1]

    seals = await all_seals(log_env)
    assert [s["seal_no"] for s in seals] == [1, 2]
    assert check_seal_chain(seals, public_key_raw(settings)) == []
    report = check_stream(await exported(log_env), seals, public_key_raw(settings))
    assert report.ok and report.changed_since == []
    await write(log_env, "c3", 1)
    report = check_stream(await exported(log_env), seals, public_key_raw(settings))
    assert report.ok and report.changed_since == [f"reg.{settings.province}.case.c3"]


async def test_only_the_sealer_user_may_append_seals(log_env: LogEnv) -> None:
    await write(log_env, "a1", 1)
    with pytest.raises(Exception):  # noqa: B017, PT011 - permission violation: no stream answers
        await seal_now(log_env.nc, log_env.settings, log_env.clock)  # the intake user
    assert await all_seals(log_env) == []


async def test_periodic_sealer_seals_what_changes(log_env: LogEnv, sealer_nc: NATS) -> None:
    key = public_key_raw(log_env.settings)
    sealer = Sealer(sealer_nc, log_env.settings, interval=0.05, clock=log_env.clock)

    async def all_sealed() -> bool:
        seals = await all_seals(log_env)
        return bool(seals) and check_stream(await exported(log_env), seals, key).changed_since == []

    await sealer.start()
    try:
        await write(log_env, "a1", 2)
        await wait_for(all_sealed)
        first = len(await all_seals(log_env))
        await write(log_env, "b2", 1)
        await wait_for(all_sealed)
    finally:
        await sealer.stop()
    seals = await all_seals(log_env)
    assert len(seals) > first and 1 <= sealer.sealed <= len(seals)  # a round may write several seals
    assert [s["seal_no"] for s in seals] == list(range(1, len(seals) + 1))
    assert check_seal_chain(seals, key) == []
    assert check_stream(await exported(log_env), seals, key).ok


async def test_seal_commands_and_verify_seals(log_env: LogEnv, cli_env: CliEnv, tmp_path: Path) -> None:
    await write(log_env, "a1", 2)
    nothing = await invoke(cli_env, "verify", "--seals")
    assert nothing.exit_code == 0, nothing.output
    assert "1 aggregate(s) changed since the last seal" in nothing.stdout
    sealed = await invoke(cli_env, "seal")
    assert sealed.exit_code == 0, sealed.output
    assert "seal #1: 1 aggregate(s), stream seq 1..2" in sealed.stdout
    again = await invoke(cli_env, "seal")
    assert "nothing changed since the last seal" in again.stdout
    ok = await invoke(cli_env, "verify", "--seals")
    assert ok.exit_code == 0, ok.output
    assert "ok: 1 aggregates, 2 events, 1 seal(s) verified" in ok.stdout
    pem = await invoke(cli_env, "seal", "public-key")
    assert pem.stdout.startswith("-----BEGIN PUBLIC KEY-----")
    key = tmp_path / "seal-key.pem"
    key.write_text(pem.stdout)
    with_key = await invoke(cli_env, "verify", "--seals", "--public-key", str(key))
    assert with_key.exit_code == 0, with_key.output
    wrong = tmp_path / "other.pem"
    other_env = cli_env.with_(CASEREG_SEAL_KEY="another province's key")
    wrong.write_text((await invoke(other_env, "seal", "public-key")).stdout)
    refused = await invoke(cli_env, "verify", "--seals", "--public-key", str(wrong))
    assert refused.exit_code == 1
    assert "seal: seal #1: the signature does not verify" in refused.stdout
    elsewhere = await invoke(cli_env.with_(CASEREG_SEALS_STREAM="NO_SUCH_SEALS"), "verify", "--seals")
    assert elsewhere.exit_code == 1
    assert "stream NO_SUCH_SEALS refused: the stream does not exist: run `casereg provision`" in elsewhere.stderr
    mixed = await invoke(cli_env, "verify", "a1", "--seals")
    assert mixed.exit_code == 1 and "--seals checks the whole stream" in mixed.stderr
    out = tmp_path / "seals.jsonl"
    exported_seals = await invoke(cli_env, "seal", "export", "-o", str(out))
    assert exported_seals.exit_code == 0, exported_seals.output
    assert [json.loads(line)["seal_no"] for line in out.read_text().splitlines()] == [1]


def forge(seal: dict[str, Any], **change: Any) -> dict[str, Any]:
    return {**seal, **change}


async def test_tampered_bundles_and_forged_seals_are_detected_offline(
    log_env: LogEnv, cli_env: CliEnv, sealer_nc: NATS, tmp_path: Path
) -> None:
    settings = log_env.settings
    await write(log_env, "a1", 4)
    await write(log_env, "b2", 2)
    assert await seal_now(sealer_nc, settings, log_env.clock) is not None
    key = tmp_path / "seal-key.pem"
    key.write_text((await invoke(cli_env, "seal", "public-key")).stdout)
    seal_file = tmp_path / "seals.jsonl"
    assert (await invoke(cli_env, "seal", "export", "-o", str(seal_file))).exit_code == 0
    bundle = tmp_path / "bundle.jsonl"
    assert (await invoke(cli_env, "export", "a1", "b2", "-o", str(bundle))).exit_code == 0

    clean = run_offline(tmp_path, str(bundle), "--seal", str(seal_file), "--public-key", str(key))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert clean.stdout.strip() == "ok: 2 aggregates, 6 events; 1 seal(s) verified"

    copy = await exported(log_env)
    a1 = [m for m in copy if m.subject.endswith(".a1")]
    b2 = [m for m in copy if m.subject.endswith(".b2")]
    cases: dict[str, tuple[list[RawMessage], str]] = {
        "changed payload": ([a1[0], edited(a1[1], 0, payload={"n": 99}), *a1[2:], *b2], "changed"),
        "removed middle": ([a1[0], a1[1], a1[3], *b2], "missing"),
        "swapped order": ([a1[0], a1[2], a1[1], a1[3], *b2], "reordered"),
        "moved from another case": ([*a1[:2], RawMessage(b2[0].stream_seq, a1[0].subject, b2[0].data), *a1[2:]],
                                    "foreign"),
        "truncated tail": ([*a1[:3], *b2], "events were removed from its tail"),
    }  # fmt: skip
    for name, (messages, expected) in cases.items():
        path = save(messages, tmp_path / f"{name.replace(' ', '-')}.jsonl")
        done = run_offline(tmp_path, str(path), "--seal", str(seal_file), "--public-key", str(key))
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert expected in done.stdout, (name, done.stdout)
        assert f"reg.{settings.province}.case.a1" in done.stdout, (name, done.stdout)
        assert done.stdout.splitlines()[-1].startswith("FAILED"), name
        online = await invoke(cli_env, "verify", "--file", str(path))
        if name != "truncated tail":  # the chain alone cannot see a cut tail: the seal does
            assert online.exit_code == 1 and expected in online.stdout, (name, online.stdout)
        else:
            assert online.exit_code == 0

    seal = json.loads(seal_file.read_text())
    heads = [{**h, "stream_seq": h["stream_seq"] - 1} if h["subject"].endswith(".a1") else h for h in seal["heads"]]
    root = merkle_root((h["subject"], h["stream_seq"], h["hash"]) for h in heads)
    forged = {
        "moved head, root recomputed": forge(seal, heads=heads, merkle_root=root),
        "other signature": forge(seal, signature=base64.b64encode(b"\x01" * 64).decode()),
        "re-signed by another key": build_seal(
            settings.model_copy(update={"seal_key": type(settings.seal_key)("forger")}),
            None, seal["to_seq"], {h["subject"]: (h["stream_seq"], h["hash"]) for h in heads}, log_env.clock,
        ),
    }  # fmt: skip
    for name, bad in forged.items():
        path = tmp_path / f"forged-{len(name)}.jsonl"
        path.write_text(canonical(bad).decode() + "\n")
        done = run_offline(tmp_path, str(bundle), "--seal", str(path), "--public-key", str(key))
        assert done.returncode == 1, (name, done.stdout)
        assert "SEAL seal #1: the signature does not verify" in done.stdout, (name, done.stdout)
    assert (
        "not the given public key"
        in run_offline(tmp_path, str(bundle), "--seal", str(path), "--public-key", str(key)).stdout
    )

    unreadable = run_offline(tmp_path, str(tmp_path / "missing.jsonl"))
    assert unreadable.returncode == 2 and "cannot read the input" in unreadable.stderr


def test_heads_of_keeps_each_subjects_last_message() -> None:
    body = b'{"events":[{"hash":"h1"}],"format":"casereg.commit/1"}'
    later = b'{"events":[{"hash":"h0"},{"hash":"h2"}],"format":"casereg.commit/1"}'
    messages = [
        RawMessage(1, "reg.52.case.a", body),
        RawMessage(2, "reg.52.case.b", body),
        RawMessage(3, "reg.52.case.a", later),
    ]
    assert heads_of(messages) == {"reg.52.case.a": (3, "h2"), "reg.52.case.b": (2, "h1")}


async def test_a_busy_period_is_sealed_by_consecutive_seals_of_bounded_size(log_env: LogEnv, sealer_nc: NATS) -> None:
    settings = log_env.settings
    for name in ("a1", "b2", "c3", "d4", "e5"):
        await write(log_env, name, 2)
    await write(log_env, "a1", 1)
    last = await seal_now(sealer_nc, settings, log_env.clock, max_heads=2)
    seals = await all_seals(log_env)
    assert last == seals[-1]
    assert [len(s["heads"]) for s in seals] == [2, 2, 2]  # a1 b2 | c3 d4 | e5 a1
    assert [(s["from_seq"], s["to_seq"]) for s in seals] == [(1, 4), (5, 8), (9, 11)]
    assert check_seal_chain(seals, public_key_raw(settings)) == []
    assert check_stream(await exported(log_env), seals, public_key_raw(settings)).ok


async def test_the_sealer_interval_comes_from_the_environment(
    log_env: LogEnv, sealer_nc: NATS, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CASEREG_SEAL_INTERVAL", "42.5")
    assert Sealer.from_env(sealer_nc, log_env.settings).interval == 42.5
    monkeypatch.delenv("CASEREG_SEAL_INTERVAL")
    assert Sealer.from_env(sealer_nc, log_env.settings).interval == 900.0
