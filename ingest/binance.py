"""Binance trades / aggTrades CSV (data.binance.vision layouts) into ticks/crypto.

aggTrades: agg_trade_id, price, quantity, first_trade_id, last_trade_id, transact_time, is_buyer_maker
trades:    id, price, qty, quote_qty, time, is_buyer_maker, is_best_match
With or without the header line; times in ms or µs since the epoch (told apart by magnitude), UTC.
A line that does not parse is quarantined with its line number; nothing is dropped silently.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from warehouse.schema import CRYPTO_TRADES

LAYOUTS = {7: {"agg_trade_id": 0, "price": 1, "quantity": 2, "transact_time": 5, "is_buyer_maker": 6}}
US_THRESHOLD = 10**14   # epoch ms stay below 1e13 for centuries; µs values are ~1.7e15


@dataclass
class CryptoRead:
    table: pa.Table                  # CRYPTO_TRADES rows (not yet deduped)
    rejected: list[tuple[int, str, str]]  # (line, reason, raw)
    lines: int


def symbol_of(path: Path) -> str:
    m = re.match(r"^([A-Z0-9]+)-(?:aggTrades|trades)", path.name)
    if not m:
        raise ValueError(f"{path}: file name does not start with SYMBOL-aggTrades / SYMBOL-trades")
    return m.group(1)


def _epoch_us(t: int) -> int:
    return t if t >= US_THRESHOLD else t * 1000


def parse_lines(text: str, symbol: str) -> CryptoRead:
    """Pure: CSV text -> rows and rejections (per line)."""
    ids, prices, qtys, times, makers, rejected = [], [], [], [], [], []
    lines = 0
    kind = None
    for no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(",")
        if parts[0] in ("agg_trade_id", "id"):
            kind = "agg" if parts[0] == "agg_trade_id" else "trades"
            continue
        lines += 1
        try:
            if len(parts) != 7:
                raise ValueError(f"{len(parts)} fields, expected 7")
            if kind is None:     # headerless: aggTrades ids ascend with first/last trade ids in fields 3-4
                kind = "agg" if parts[3].isdigit() and parts[4].isdigit() else "trades"
            tid, px, qty = int(parts[0]), float(parts[1]), float(parts[2])
            t = int(parts[5] if kind == "agg" else parts[4])
            maker = parts[6 if kind == "agg" else 5].strip().lower()
            if maker not in ("true", "false") or px <= 0 or qty <= 0:
                raise ValueError("bad price, quantity or is_buyer_maker")
        except ValueError as exc:
            rejected.append((no, f"unparseable trade line: {exc}", line[:500]))
            continue
        ids.append(tid)
        prices.append(px)
        qtys.append(qty)
        times.append(_epoch_us(t))
        makers.append(maker == "true")
    ts = pa.array(np.array(times, dtype=np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    table = pa.table({"symbol": [symbol] * len(ids), "ts": ts,
                      "date": pc.cast(pc.floor_temporal(ts, unit="day"), pa.date32()) if len(ids) else pa.array([], pa.date32()),
                      "trade_id": pa.array(ids, pa.int64()), "price": prices, "qty": qtys,
                      "is_buyer_maker": pa.array(makers, pa.bool_())}, schema=CRYPTO_TRADES)
    return CryptoRead(table, rejected, lines)


def dedupe_sort(table: pa.Table) -> tuple[pa.Table, int]:
    """One row per trade id (the last one read wins), sorted by time then id."""
    if not table.num_rows:
        return table, 0
    ids = table["trade_id"].to_numpy()
    order = np.arange(len(ids))
    last = {}
    for i, t in zip(order, ids):
        last[t] = i
    keep = np.array(sorted(last.values()), dtype=np.int64)
    out = table.take(pa.array(keep)).sort_by([("ts", "ascending"), ("trade_id", "ascending")])
    return out, table.num_rows - len(keep)
