"""The province directory: administrative units and agencies, effective-dated across the 1 July 2025 reform.

Build a :class:`Directory` at start-up with :func:`load` and the files of :class:`DirectorySettings`; look-ups are
pure and in memory afterwards. See ``docs/directory.md``.
"""

from casereg.directory.directory import Directory, Link
from casereg.directory.load import DATA_DIR, DirectoryFiles, check, load
from casereg.directory.model import (
    REFORM_DATE,
    Agency,
    AgencyKind,
    Level,
    Period,
    RemoteDifficult,
    Succession,
    Transfer,
    Unit,
)
from casereg.directory.problems import DirectoryError, InvalidDirectory, NotFound, Problem

__all__ = [
    "DATA_DIR",
    "REFORM_DATE",
    "Agency",
    "AgencyKind",
    "Directory",
    "DirectoryError",
    "DirectoryFiles",
    "InvalidDirectory",
    "Level",
    "Link",
    "NotFound",
    "Period",
    "Problem",
    "RemoteDifficult",
    "Succession",
    "Transfer",
    "Unit",
    "check",
    "load",
]
