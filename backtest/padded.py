"""Trades touching a padded second (a gap the warehouse filled: no real snapshot that second).

The same definition as the leaderboard's SQL (backtest.reports.leaderboard.PADDED): a trade touches
one when any of its legs' contract has a padded features_options row between the leg's entry and
exit, both included. Above 0.5 % of trades the run's fills lean on invented quotes (a red flag)."""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa


@lru_cache(maxsize=1024)     # a sweep summarises every config over the same days: one read a day
def _pads(root: str, underlying: str, day: dt.date, version: str) -> dict[str, np.ndarray]:
    """symbol -> sorted padded seconds (int64 microseconds) of one day; `version` keys the cache to
    the partition's manifest, so a rewritten partition is read again."""
    from warehouse.writer import read_partition

    t = read_partition(Path(root), "features_options", {"underlying": underlying, "date": day},
                       columns=["symbol", "ts", "is_pad"], filters=[("is_pad", "=", True)])
    if t is None or not t.num_rows:
        return {}
    sym = t["symbol"].to_numpy(zero_copy_only=False)
    ts = t["ts"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    return {s: np.sort(ts[sym == s]) for s in np.unique(sym)}


def padded_trades(root, legs: pa.Table, versions: dict[tuple[str, dt.date], str]) -> int:
    """How many distinct trades of `legs` touch a padded second (`versions`: (underlying, day) -> the
    features_options partition's version, backtest.run.partition_version)."""
    if not legs.num_rows:
        return 0
    cols = {k: legs[k].to_pylist() for k in ("trade_id", "underlying", "date", "symbol")}
    entry = legs["entry_ts"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    exit_ = legs["exit_ts"].cast(pa.int64()).to_numpy(zero_copy_only=False)
    hit = set()
    for k, (tid, u, d, sym) in enumerate(zip(cols["trade_id"], cols["underlying"], cols["date"], cols["symbol"])):
        if tid in hit:
            continue
        p = _pads(str(root), u, d, versions.get((u, d), "")).get(sym)
        if p is not None and np.searchsorted(p, entry[k], "left") < np.searchsorted(p, exit_[k], "right"):
            hit.add(tid)
    return len(hit)
