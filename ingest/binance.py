"""Binance trades / aggTrades CSV (data.binance.vision layouts) into ticks/crypto.

The four layouts, with or without their header line (times in ms or µs since the epoch, told
apart by magnitude, UTC):

  spot trades          id, price, qty, quote_qty, time, is_buyer_maker, is_best_match
  spot aggTrades       agg_trade_id, price, quantity, first_trade_id, last_trade_id, transact_time,
                       is_buyer_maker, is_best_match
  USD-M trades         id, price, qty, quote_qty, time, is_buyer_maker
  USD-M aggTrades      agg_trade_id, price, quantity, first_trade_id, last_trade_id, transact_time,
                       is_buyer_maker

Each row records its market (spot / usdm_futures) and layout (trades / aggTrades: their ids are
different sequences). A headerless file is told apart by its first line (field count; in 7 fields,
spot trades have a true/false sixth field where USD-M aggTrades have a time). A header that is not
one of these layouts, or a first line that fits none, is an error naming the file: nothing of a
file in an unknown layout is read. A line that does not parse in the file's layout (wrong field
count, a bad number, bytes that are not UTF-8) is quarantined with its line number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from warehouse.schema import CRYPTO_TRADES

US_THRESHOLD = 10**14   # epoch ms stay below 1e13 for centuries; µs values are ~1.7e15
_BOOL = ("true", "false")


@dataclass(frozen=True)
class Layout:
    market: str          # spot / usdm_futures
    kind: str            # trades / aggTrades
    header: tuple[str, ...]
    time: int            # field index of the time
    maker: int           # field index of is_buyer_maker

    @property
    def fields(self) -> int:
        return len(self.header)


_AGG = ("agg_trade_id", "price", "quantity", "first_trade_id", "last_trade_id", "transact_time", "is_buyer_maker")
_TRADES = ("id", "price", "qty", "quote_qty", "time", "is_buyer_maker")
LAYOUTS = (
    Layout("spot", "trades", _TRADES + ("is_best_match",), 4, 5),
    Layout("spot", "aggTrades", _AGG + ("is_best_match",), 5, 6),
    Layout("usdm_futures", "trades", _TRADES, 4, 5),
    Layout("usdm_futures", "aggTrades", _AGG, 5, 6),
)


class BinanceLayoutError(ValueError):
    """A CSV that is not one of the Binance trades / aggTrades layouts."""


@dataclass
class CryptoRead:
    table: pa.Table                  # CRYPTO_TRADES rows (not yet deduped)
    rejected: list[tuple[int, str, str]]  # (line, reason, raw)
    lines: int
    layout: Layout | None = None


def symbol_of(path: Path) -> str:
    m = re.match(r"^([A-Z0-9]+)-(?:aggTrades|trades)", path.name)
    if not m:
        raise ValueError(f"{path}: file name does not start with SYMBOL-aggTrades / SYMBOL-trades")
    return m.group(1)


def _epoch_us(t: int) -> int:
    return t if t >= US_THRESHOLD else t * 1000


def layout_of(first: list[str], where: str) -> tuple[Layout, bool]:
    """(layout, is_header) from a file's first non-blank line."""
    names = tuple(p.strip().lower() for p in first)
    for lay in LAYOUTS:
        if names == lay.header:
            return lay, True
    if not names[0].isdigit():
        raise BinanceLayoutError(f"{where}: header {','.join(first)[:200]!r} is not a Binance trades or aggTrades "
                                 "layout (spot or USD-M futures)")
    n = len(names)
    if n == 7:
        spot_trades = names[5] in _BOOL and names[6] in _BOOL
        return LAYOUTS[0] if spot_trades else LAYOUTS[3], False
    for lay in LAYOUTS:
        if lay.fields == n and n != 7:
            return lay, False
    raise BinanceLayoutError(f"{where}: {n} fields, not a Binance trades (6, 7) or aggTrades (7, 8) layout")


def parse_bytes(data: bytes, symbol: str, name: str = "<csv>") -> CryptoRead:
    """Pure: CSV bytes -> rows and rejections (per line). Raises BinanceLayoutError for a file in
    no known layout."""
    ids, prices, qtys, times, makers, rejected = [], [], [], [], [], []
    lines = 0
    layout: Layout | None = None
    for no, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            lines += 1
            rejected.append((no, f"not UTF-8 at byte {exc.start} of the line", raw[:500].decode("utf-8", "replace")))
            continue
        parts = line.strip().split(",")
        if layout is None:
            layout, header = layout_of(parts, f"{name}: line {no}")
            if header:
                continue
        lines += 1
        try:
            if len(parts) != layout.fields:
                raise ValueError(f"{len(parts)} fields, expected {layout.fields} ({layout.market} {layout.kind})")
            tid, px, qty = int(parts[0]), float(parts[1]), float(parts[2])
            t = int(parts[layout.time])
            maker = parts[layout.maker].strip().lower()
            if maker not in _BOOL or not px > 0 or not qty > 0:
                raise ValueError("bad price, quantity or is_buyer_maker")
        except ValueError as exc:
            rejected.append((no, f"unparseable trade line: {exc}", line[:500]))
            continue
        ids.append(tid)
        prices.append(px)
        qtys.append(qty)
        times.append(_epoch_us(t))
        makers.append(maker == "true")
    n = len(ids)
    ts = pa.array(np.array(times, dtype=np.int64), pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    table = pa.table({"symbol": [symbol] * n, "market": [layout.market if layout else ""] * n,
                      "layout": [layout.kind if layout else ""] * n, "ts": ts,
                      "date": pc.cast(pc.floor_temporal(ts, unit="day"), pa.date32()) if n else pa.array([], pa.date32()),
                      "trade_id": pa.array(ids, pa.int64()), "price": prices, "qty": qtys,
                      "is_buyer_maker": pa.array(makers, pa.bool_())}, schema=CRYPTO_TRADES)
    return CryptoRead(table, rejected, lines, layout)


def parse_lines(text: str, symbol: str) -> CryptoRead:
    """parse_bytes of text (kept for callers holding a str)."""
    return parse_bytes(text.encode(), symbol)


def dedupe_sort(table: pa.Table) -> tuple[pa.Table, int]:
    """One row per (market, layout, trade id) (the last one read wins), sorted by time then id."""
    n = table.num_rows
    if not n:
        return table, 0
    ids = table["trade_id"].to_numpy()
    space = np.zeros(n, np.int64)
    for c in ("market", "layout"):          # ids of spot/futures, trades/aggTrades are separate sequences
        if c in table.column_names:
            enc = pc.dictionary_encode(table[c].fill_null("")).combine_chunks()
            space = space * (len(enc.dictionary) + 1) + enc.indices.to_numpy(zero_copy_only=False)
    order = np.lexsort((np.arange(n), ids, space))
    last = np.ones(n, dtype=bool)
    last[:-1] = (ids[order][1:] != ids[order][:-1]) | (space[order][1:] != space[order][:-1])
    keep = np.sort(order[last])
    out = table.take(pa.array(keep)).sort_by([("ts", "ascending"), ("trade_id", "ascending")])
    return out, n - len(keep)
