"""Errors of the event log client."""

from __future__ import annotations


class LogError(Exception):
    pass


class ConcurrencyConflict(LogError):
    """Someone else appended to the aggregate since the caller read it. Re-read, re-decide, retry."""

    def __init__(self, subject: str, expected: int, actual: int | None) -> None:
        super().__init__(f"{subject}: expected last sequence {expected}, found {actual}")
        self.subject = subject
        self.expected = expected
        self.actual = actual


class RetriesExhausted(LogError):
    pass


class WeakStreamConfig(LogError):
    """The stream exists but weakens append-only guarantees; the system refuses to run against it."""

    def __init__(self, stream: str, problems: list[str]) -> None:
        super().__init__(f"stream {stream} refused: " + "; ".join(problems))
        self.problems = problems


class CorruptCommit(LogError):
    """A stored message is not a readable commit."""
