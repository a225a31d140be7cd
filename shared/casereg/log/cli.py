"""Operator commands on the case log: ``history``, ``verify`` and ``export``.

They connect as the read-only ``operator`` NATS user (``casereg dev seed``, which writes, is intake's:
``intake.dev_cli``). Settings come from the ``CASEREG_*`` environment (``CASEREG_NATS_URL``,
``CASEREG_VAR_DIR`` for the credentials file, ``CASEREG_PROVINCE``, ``CASEREG_STREAM``...). Nothing here
decrypts: encrypted payload fields are shown as ``<encrypted>``. See ``docs/cli.md`` and
``docs/log-format.md``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from casereg_verify.verify import public_key_from_pem
from nats.js.client import JetStreamContext
from nats.js.errors import NotFoundError
from pydantic import ValidationError

from casereg.access.records import AccessAction, record_access
from casereg.audit.labels import Lang
from casereg.audit.seals import SealCheck, check_stream, public_key_raw, read_seals
from casereg.audit.timeline import Entry, redact, render, timeline
from casereg.cli.connection import connected, reason
from casereg.cli.runtime import CommandError, run_async
from casereg.clock import SystemClock
from casereg.log.envelope import Actor, AggregateRef, Envelope
from casereg.log.errors import LogError, WeakStreamConfig
from casereg.log.export import read_export, write_export
from casereg.log.provision import check_seals
from casereg.log.raw import RawMessage, last_sequence, replay, subject_messages
from casereg.log.store import EventLog
from casereg.log.verify import VerifyReport, verify_messages
from casereg.platform.credentials import OPERATOR_USER
from casereg.settings import PlatformSettings, load

_SEQUENCE = re.compile(r"^[0-9]+$")
PROGRESS_EVERY = 1000
__all__ = ["parse_as_of", "redact", "register"]


class Language(StrEnum):
    vi = "vi"
    en = "en"


# --- shared plumbing ----------------------------------------------------------------------------------------


def _settings() -> PlatformSettings:
    try:
        return load(PlatformSettings)
    except ValidationError as exc:
        raise CommandError(f"invalid CASEREG_* settings: {exc}") from None


def _case_ref(case_id: str) -> AggregateRef:
    try:
        return AggregateRef.case(case_id)
    except ValidationError:
        raise CommandError(
            f"invalid case id {case_id!r}: case ids are letters, digits, '-' and '_' (no dots or spaces)"
        ) from None


async def require_stream(js: JetStreamContext, settings: PlatformSettings) -> None:
    try:
        await js.stream_info(settings.stream)
    except NotFoundError:
        raise CommandError(
            f"stream {settings.stream!r} does not exist on {settings.nats_url}; "
            "provision it with `casereg provision` (or set CASEREG_STREAM)"
        ) from None


async def case_messages(js: JetStreamContext, settings: PlatformSettings, ref: AggregateRef) -> list[RawMessage]:
    """The case's raw messages, or a :class:`CommandError` when the case has none."""
    subject = ref.subject(settings.province)
    found = [m async for m in subject_messages(js, settings.stream, subject)]
    if not found:
        raise CommandError(_no_case(settings, ref))
    return found


def _no_case(settings: PlatformSettings, ref: AggregateRef) -> str:
    return f"no case {ref.id!r} in stream {settings.stream!r} (subject {ref.subject(settings.province)})"


def parse_as_of(value: str) -> int | datetime:
    """``--as-of``: a stream sequence (digits) or an RFC 3339 time with an offset."""
    text = value.strip()
    if _SEQUENCE.match(text):
        return int(text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--as-of {value!r} is neither a stream sequence nor an RFC 3339 time (e.g. 2026-07-01T08:00:00Z)"
        ) from None
    if when.tzinfo is None:
        raise CommandError(f"--as-of {value!r} needs a UTC offset or 'Z', e.g. 2026-07-01T08:00:00Z")
    return when.astimezone(UTC)


def operator_actor() -> Actor:
    """Who reads through the CLI: the ``operator`` role and the login name (``CASEREG_OPERATOR`` overrides it)."""
    name = os.environ.get("CASEREG_OPERATOR") or os.environ.get("USER") or os.environ.get("USERNAME") or None
    return Actor(officer=name, role="operator", service="casereg-cli")


async def record_read(log: EventLog, case_id: str, action: AccessAction, detail: str) -> None:
    """The access record of a read (DESIGN §2): written before anything is shown; no record, no output."""
    try:
        await record_access(log, case_id, operator_actor(), action, detail=detail)
    except (LogError, ValidationError) as exc:
        raise CommandError(f"cannot record this {action.value} of case {case_id!r}: {reason(exc)}") from None


def _json_line(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- history ------------------------------------------------------------------------------------------------


def history(
    case_id: Annotated[str, typer.Argument(help="The case's id.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="T|SEQ",
            help="Stop at an RFC 3339 time (recorded_at) or at a stream sequence.",
        ),
    ] = None,
    lang: Annotated[Language, typer.Option("--lang", help="Labels: Vietnamese (default) or English.")] = Language.vi,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per event (the timeline entry).")] = False,
) -> None:
    """A case's timeline: time, agency and officer, event, facts, rule cited, trace id (encrypted fields hidden).

    The read is recorded on the case's access subject (``reg.<province>.access.<case_id>``).
    """
    language: Lang = lang.value

    async def main() -> list[Entry]:
        settings = _settings()
        ref = _case_ref(case_id)
        limit = parse_as_of(as_of) if as_of is not None else None
        async with connected(settings, OPERATOR_USER) as nc:
            log = EventLog(nc=nc, province=settings.province, clock=SystemClock(), stream=settings.stream)
            await require_stream(log.js, settings)
            rows: list[tuple[int | None, Envelope]] = []
            try:
                async for commit in log.read(ref, as_of=limit):
                    rows.extend((commit.stream_seq, e) for e in commit.events)
            except (LogError, ValidationError) as exc:
                raise CommandError(
                    f"case {case_id!r} holds an unreadable message ({reason(exc).splitlines()[0]}); "
                    f"run `casereg verify {case_id}`"
                ) from None
            if not rows and limit is not None:
                await case_messages(log.js, settings, ref)  # raises when the case does not exist at all
            elif not rows:
                raise CommandError(_no_case(settings, ref))
            await record_read(log, case_id, AccessAction.HISTORY, f"as of {as_of}" if as_of else "all events")
            return timeline(rows, language)

    entries = run_async(main)
    for e in entries:
        typer.echo(_json_line(e.to_json()) if as_json else render(e, language))
    if not entries:
        typer.echo(f"no events of case {case_id} as of {as_of}", err=True)


# --- verify -------------------------------------------------------------------------------------------------


def _from_file(path: Path, case_id: str | None) -> list[RawMessage]:
    try:
        with path.open(encoding="utf-8") as f:
            messages = list(read_export(f))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"{path}: {exc}") from None
    if case_id is None:
        return messages
    ref = _case_ref(case_id)
    chosen = [m for m in messages if _aggregate_of(m.subject) == ref]
    if not chosen:
        raise CommandError(f"{path} holds no messages of case {case_id!r}")
    return chosen


def _aggregate_of(subject: str) -> AggregateRef | None:
    try:
        return AggregateRef.from_subject(subject)
    except ValueError:
        return None


async def _whole_stream(js: JetStreamContext, settings: PlatformSettings) -> list[RawMessage]:
    last = await last_sequence(js, settings.stream)
    typer.echo(f"reading stream {settings.stream} (last sequence {last})", err=True)
    out: list[RawMessage] = []
    async for msg in replay(js, settings.stream, stop_seq=last):
        out.append(msg)
        if len(out) % PROGRESS_EVERY == 0:
            typer.echo(f"  read {len(out)} messages (stream seq {msg.stream_seq}/{last})", err=True)
    typer.echo(f"read {len(out)} messages; checking the hash chains", err=True)
    return out


def verify(
    case_id: Annotated[str | None, typer.Argument(help="The case to check (or use --all).")] = None,
    all_cases: Annotated[bool, typer.Option("--all", help="Check every aggregate in the stream.")] = False,
    file: Annotated[
        Path | None,
        typer.Option("--file", help="Check an export file (JSONL) instead of the stream.", dir_okay=False),
    ] = None,
    seals: Annotated[
        bool,
        typer.Option("--seals", help="Also check the seals: their chain, and that every head is sealed unchanged."),
    ] = False,
    public_key: Annotated[
        Path | None,
        typer.Option(
            "--public-key", help="The seal key's PEM (default: derived from CASEREG_SEAL_KEY).", dir_okay=False
        ),
    ] = None,
) -> None:
    """Check hash chains on the raw stored bytes; print each aggregate's first break, exit 1 on any.

    With ``--seals`` (whole stream) the seals are checked too; a removed tail shows there.
    """
    if seals:
        if case_id is not None or file is not None:
            typer.secho("error: --seals checks the whole stream: give no CASE_ID or --file", fg="red", err=True)
            raise typer.Exit(1)
        _verify_seals(public_key)
        return

    async def main() -> VerifyReport:
        if case_id is not None and all_cases:
            raise CommandError("give either a CASE_ID or --all, not both")
        if file is not None:
            return verify_messages(_from_file(file, case_id))
        if case_id is None and not all_cases:
            raise CommandError("give a CASE_ID, --all, or --file EXPORT.jsonl")
        settings = _settings()
        ref = _case_ref(case_id) if case_id is not None else None
        async with connected(settings, OPERATOR_USER) as nc:
            js = nc.jetstream()
            await require_stream(js, settings)
            if ref is not None:
                messages = await case_messages(js, settings, ref)
            else:
                messages = await _whole_stream(js, settings)
        return verify_messages(messages)

    report = run_async(main)
    if report.ok:
        typer.echo(f"ok: {report.aggregates} aggregates, {report.events} events")
        return
    for brk in report.breaks:
        typer.echo(brk.describe())
    broken, total = len(report.breaks), report.aggregates
    typer.echo(f"FAILED: {broken} of {total} aggregates broken ({report.events} events checked)")
    raise typer.Exit(1)


def _verify_seals(public_key: Path | None) -> None:
    async def main() -> tuple[VerifyReport, SealCheck]:
        settings = _settings()
        key = _public_key(settings, public_key)
        async with connected(settings, OPERATOR_USER) as nc:
            js = nc.jetstream()
            await require_stream(js, settings)
            try:
                await check_seals(nc, settings)  # the seals stream exists, append-only
            except WeakStreamConfig as exc:
                raise CommandError(str(exc)) from None
            messages = await _whole_stream(js, settings)
            found = [s.seal async for s in read_seals(js, settings)]
        return verify_messages(messages), check_stream(messages, found, key)

    chains, sealed = run_async(main)
    for brk in chains.breaks:
        typer.echo(brk.describe())
    for problem in sealed.problems:
        typer.echo(f"seal: {problem}")
    if sealed.changed_since:
        typer.echo(f"{len(sealed.changed_since)} aggregate(s) changed since the last seal (stream seq > "
                   f"{sealed.last_to_seq}), not sealed yet:")  # fmt: skip
        for subject in sealed.changed_since:
            typer.echo(f"  {subject}")
    if chains.ok and sealed.ok:
        typer.echo(f"ok: {chains.aggregates} aggregates, {chains.events} events, {sealed.seals} seal(s) verified")
        return
    typer.echo(f"FAILED: {len(chains.breaks)} broken aggregate(s), {len(sealed.problems)} seal problem(s)")
    raise typer.Exit(1)


def _public_key(settings: PlatformSettings, path: Path | None) -> bytes:
    if path is None:
        return public_key_raw(settings)
    try:
        return public_key_from_pem(path.read_text(encoding="ascii"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read the public key {path}: {exc}") from None


# --- export -------------------------------------------------------------------------------------------------


def _write(messages: Iterable[RawMessage], output: Path) -> int:
    if str(output) == "-":
        return write_export(messages, sys.stdout)
    tmp = output.with_name(f".{output.name}.partial")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            n = write_export(messages, f)
        os.replace(tmp, output)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from None
    return n


def export(
    case_ids: Annotated[list[str], typer.Argument(help="One or more case ids.", metavar="CASE_ID...")],
    output: Annotated[Path, typer.Option("-o", "--output", help="The JSONL file to write ('-' for standard output).")],
) -> None:
    """Export cases' raw stored messages as JSON lines (the format `verify --file` and auditors read)."""

    async def main() -> list[RawMessage]:
        settings = _settings()
        refs = [_case_ref(c) for c in dict.fromkeys(case_ids)]
        async with connected(settings, OPERATOR_USER) as nc:
            js = nc.jetstream()
            await require_stream(js, settings)
            messages: list[RawMessage] = []
            for ref in refs:
                messages.extend(await case_messages(js, settings, ref))
            log = EventLog(nc=nc, province=settings.province, clock=SystemClock(), stream=settings.stream)
            for ref in refs:
                seqs = [m.stream_seq for m in messages if m.subject == ref.subject(settings.province)]
                detail = f"export of stream seq {seqs[0]}..{seqs[-1]} ({len(seqs)} messages)"
                await record_read(log, ref.id, AccessAction.EXPORT, detail)
        return sorted(messages, key=lambda m: m.stream_seq)

    messages = run_async(main)
    n = _write(messages, output)
    cases = len(dict.fromkeys(case_ids))
    typer.echo(f"exported {n} messages of {cases} case(s) to {output}", err=str(output) == "-")


def register(app: typer.Typer) -> None:
    app.command()(history)
    app.command()(verify)
    app.command()(export)
