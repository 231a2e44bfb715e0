"""Per-row traded quantity from the recorder's cumulative day volume (pure numpy)."""
from __future__ import annotations

import numpy as np


def vol_delta(volume: np.ndarray, valid: np.ndarray, group_start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reset-aware differences of a cumulative volume, rows sorted by contract then time.

    volume: int64 cumulative volume; valid: False where volume is null; group_start: True on the
    first row of each contract-day. A contract's first row carries its whole volume so far (the
    day's count starts at 0 at the open); a drop means the recorder's counter restarted, so the
    row's own volume is the quantity traded since the restart. Never negative. Returns
    (delta, delta_valid): a null volume gives a null delta and the next valid row is differenced
    against the last valid one.
    """
    n = len(volume)
    idx = np.where(valid, np.arange(n), -1)
    # index of the last valid row at or before each row, not crossing a contract boundary
    group_id = np.cumsum(group_start) - 1
    last_valid = np.maximum.accumulate(idx)
    prev_idx = np.empty(n, dtype=np.int64)
    prev_idx[0] = -1
    prev_idx[1:] = last_valid[:-1]
    start_of_group = np.flatnonzero(group_start)
    first_row_of_my_group = start_of_group[group_id]
    prev_idx[prev_idx < first_row_of_my_group] = -1
    prev = np.where(prev_idx >= 0, volume[np.maximum(prev_idx, 0)], 0)
    delta = volume - prev
    delta = np.where(delta < 0, volume, delta)
    return np.where(valid, delta, 0), valid.copy()
