"""Coverage heatmap: contracts x minute of the session, shaded by the share of seconds with a real row."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from transforms.calendar import session_bounds
from warehouse.files import atomic_path


def coverage_matrix(ticks: pa.Table, day: dt.date) -> tuple[list[str], np.ndarray]:
    """(contracts in expiry/type/strike order, matrix [contract, minute] of real-row share 0..1)."""
    bounds = session_bounds(day)
    if bounds is None or ticks.num_rows == 0:
        return [], np.zeros((0, 0))
    open_us = int(bounds[0].timestamp() * 1e6)
    seconds = int((bounds[1] - bounds[0]).total_seconds()) + 1      # the close second is in the session
    minutes = (seconds + 59) // 60
    # seconds of each minute column inside the session: 60, except the last (15:30 holds one second),
    # which would otherwise read as a dark, missing minute
    per_minute = np.minimum(60, seconds - 60 * np.arange(minutes)).astype(float)
    order = [k for k in ("expiry", "opt_type", "strike", "symbol") if k in ticks.column_names]
    keys = ticks.select(order).group_by(order).aggregate([]).sort_by([(k, "ascending") for k in order])
    names = keys["symbol"].to_pylist()
    row_of = {s: i for i, s in enumerate(names)}
    rows = np.array([row_of[s] for s in ticks["symbol"].to_pylist()], dtype=np.int64)
    minute = (pc.cast(ticks["ts"], pa.int64()).to_numpy(zero_copy_only=False) - open_us) // 60_000_000
    inside = (minute >= 0) & (minute < minutes)
    m = np.zeros((len(names), minutes))
    np.add.at(m, (rows[inside], minute[inside]), 1.0)
    return names, np.minimum(m / per_minute, 1.0)


def save_heatmap(ticks: pa.Table, day: dt.date, title: str, path: Path) -> Path | None:
    """Write the PNG (None when the day has no ticks)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names, m = coverage_matrix(ticks, day)
    if not names:
        return None
    fig, ax = plt.subplots(figsize=(12, max(3.0, 0.16 * len(names) + 1.5)), dpi=90)
    im = ax.imshow(m, aspect="auto", interpolation="nearest", cmap="viridis", vmin=0, vmax=1)
    open_t = session_bounds(day)[0]
    ticks_at = list(range(0, m.shape[1], 60))
    ax.set_xticks(ticks_at, [(open_t + dt.timedelta(minutes=x)).strftime("%H:%M") for x in ticks_at])
    step = max(1, len(names) // 60)
    ax.set_yticks(range(0, len(names), step), names[::step], fontsize=6)
    ax.set_title(f"{title}: share of seconds with a real row, per minute")
    fig.colorbar(im, ax=ax, fraction=0.02, pad=0.01)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
