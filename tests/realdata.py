"""Access to ../shared/realdata for real-data checks. Tests that use it skip when it is absent
(a user's clone has no ../shared)."""
from __future__ import annotations

from pathlib import Path

import pytest

REALDATA = Path(__file__).resolve().parents[2] / "shared" / "realdata"


def realdata(*parts: str) -> Path:
    path = REALDATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real reference data not available: {path}")
    return path
