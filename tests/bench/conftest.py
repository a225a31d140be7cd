"""``bench`` is a top-level package of the repository (run as ``python -m bench``), not part of the installed
distribution: make the repository root importable for these tests."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[2])
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
