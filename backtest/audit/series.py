"""The audit's view of the market, per contract-day and per underlying-day: numpy series over the
seconds the warehouse holds, and its own evaluator of the config's conditions (a second reading
of the rule, not the engine's backtest.conditions)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

EPS = 1e-9
DAY_S = 86400
IST_S = 19800


def seconds(ts) -> int:
    """A timestamp (tz-aware datetime) as epoch seconds."""
    return int(ts.timestamp())


def sod(t: int) -> int:
    """Seconds of the IST day of an epoch second."""
    return (t + IST_S) % DAY_S


def hms(text: str) -> int:
    t = dt.time.fromisoformat(text)
    return t.hour * 3600 + t.minute * 60 + t.second


def _epoch(col: pa.ChunkedArray) -> np.ndarray:
    return col.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False) // 1_000_000


def _f(col) -> np.ndarray:
    return col.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


@dataclass
class Series:
    """One contract-day (or underlying-day) on its seconds."""

    t: np.ndarray
    cols: dict
    # masks and marks derived from the columns, computed once (a day's series is shared by every run
    # of the day when many runs are audited together: backtest.audit.batch); read-only arrays
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key, make) -> np.ndarray:
        if key not in self.memo:
            a = make()
            a.setflags(write=False)
            self.memo[key] = a
        return self.memo[key]

    def at(self, t: int) -> int:
        """Row of second t (-1 when absent)."""
        k = int(np.searchsorted(self.t, t))
        return k if k < len(self.t) and self.t[k] == t else -1

    def span(self, a: int, b: int) -> slice:
        """Rows of the seconds a..b inclusive."""
        return slice(int(np.searchsorted(self.t, a)), int(np.searchsorted(self.t, b, side="right")))


def _group(table: pa.Table | None, keys: tuple[str, ...], columns: list[str]) -> dict:
    out: dict = {}
    if table is None or not table.num_rows:
        return out
    t = table.sort_by([(k, "ascending") for k in keys] + [("ts", "ascending")])
    ts = _epoch(t["ts"])
    data = {c: (_f(t[c]) if c != "is_pad" else t[c].to_numpy(zero_copy_only=False).astype(bool))
            for c in columns if c in t.column_names}
    n = t.num_rows
    # a group starts where any key differs from the row before (sorted: each key run is one group);
    # found on whole columns, not row by row in Python (the audit of a run reads whole days)
    changed = np.zeros(n, bool)
    for k in keys:
        v = t[k].to_numpy(zero_copy_only=False)
        changed[1:] |= v[1:] != v[:-1]
    starts = np.r_[0, np.flatnonzero(changed)]
    ends = np.r_[starts[1:], n]
    firsts = [t[k].take(pa.array(starts)).to_pylist() for k in keys]
    for g, (a, b) in enumerate(zip(starts.tolist(), ends.tolist())):
        out[tuple(kc[g] for kc in firsts)] = Series(ts[a:b], {c: v[a:b] for c, v in data.items()})
    return out


class Market:
    """Quotes of the traded contracts (grid rows: bid/ask/LTP/volume/padding), the index's
    features per second (features_spot) and the traded contracts' feature rows."""

    def __init__(self, grid: pa.Table, spot: pa.Table | None, features: pa.Table | None):
        self.quotes = _group(grid, ("symbol", "date"), ["price", "bid_px0", "ask_px0", "vol_delta", "is_pad"])
        self.spot = _group(spot, ("underlying", "date"), [c for c in (spot.column_names if spot is not None else [])
                                                           if c not in ("underlying", "date", "ts")])
        self.features = _group(features, ("symbol", "date"),
                               [c for c in (features.column_names if features is not None else [])
                                if c not in ("underlying", "date", "symbol", "ts")])

    @classmethod
    def of(cls, quotes: dict, spot: dict, features: dict) -> Market:
        """A market from series already grouped as __init__ groups them (keys as there)."""
        m = cls.__new__(cls)
        m.quotes, m.spot, m.features = quotes, spot, features
        return m

    def quote(self, symbol: str, day) -> Series | None:
        return self.quotes.get((symbol, day))

    def real(self, q: Series) -> np.ndarray:
        """Rows that are real snapshots with a two-sided book and a (nonzero) LTP: where orders fill."""
        c = q.cols
        return q.derived("real", lambda: ~c["is_pad"] & ~np.isnan(c["price"]) & (c["price"] != 0) &
                         ~np.isnan(c["bid_px0"]) & ~np.isnan(c["ask_px0"]))

    def marks(self, q: Series, side: int) -> np.ndarray:
        """The executable price a position is marked at (bid for a long, ask for a short), from the
        real seconds, carried forward over the others."""
        return q.derived(("marks", side > 0), lambda: self._marks(q, side))

    def _marks(self, q: Series, side: int) -> np.ndarray:
        px = np.where(self.real(q), q.cols["bid_px0"] if side > 0 else q.cols["ask_px0"], np.nan)
        idx = np.where(~np.isnan(px), np.arange(len(px)), -1)
        idx = np.maximum.accumulate(idx) if len(idx) else idx
        return np.where(idx >= 0, px[np.maximum(idx, 0)], np.nan)


def cond_holds(cond: dict, values, t: np.ndarray) -> np.ndarray:
    """A config condition (backtest.strategies.base.Cond as stored) over aligned series; NaN is false."""
    x = np.asarray(values(cond["feature"]), float)
    if cond.get("change_s"):
        w = int(cond["change_s"])
        j = np.searchsorted(t, t - w)
        ok = (j < len(t)) & (t[np.minimum(j, len(t) - 1)] == t - w)
        lag = np.full(len(t), np.nan)
        lag[ok] = x[j[ok]]
        x = x - lag
    if cond.get("abs"):
        x = np.abs(x)
    v = cond.get("value", 0.0)
    y = np.asarray(values(v), float) if isinstance(v, str) else float(v)
    op = cond["op"]
    with np.errstate(invalid="ignore"):
        if op in ("cross_above", "cross_below"):
            a, b = (x, y) if op == "cross_above" else (y, x)
            out = np.zeros(len(x), bool)
            out[1:] = (a[1:] > b[1:]) & (a[:-1] <= b[:-1])
            return out
        return {">=": x >= y - EPS, "<=": x <= y + EPS, ">": x > y + EPS, "<": x < y - EPS}[op]
