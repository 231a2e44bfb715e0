"""Kite FULL-mode tick files -> recorder rows (the int64 form of ingest.recorder_format).

A file `DD-MM-YY-<token>-merged-data.txt` holds `{"YYYY-M-D": [tick, ...]}`; the token maps to a
contract through the Kite instrument master. Times are UTC ('Z'); the recorder's wall time is IST.
Ticks of one second collapse later, in the shared dedupe (the last tick of the second wins).
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Iterator

import numpy as np

from ingest.recorder_format import NULL_INT, OPTION_COLUMN_NAMES
from warehouse.clock import IST_OFFSET_S
from ingest.route import Rejection



def wall_seconds(utc_text: str | None) -> int:
    """'2025-11-04T03:45:00Z' (or with +00:00) -> IST wall seconds since 1970; NULL_INT when absent."""
    if not utc_text:
        return NULL_INT
    t = dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError(f"timestamp without zone: {utc_text}")
    return int(t.timestamp()) + IST_OFFSET_S


def _paise(x) -> int:
    return NULL_INT if x is None else int(round(float(x) * 100))


def tick_row(t: dict) -> list[int]:
    depth = t.get("depth") or {}
    ohlc = t.get("ohlc") or {}
    row = {"timestamp": wall_seconds(t.get("exchange_timestamp")), "price": _paise(t.get("last_price")),
           "qty": int(t.get("last_traded_quantity", 0)), "avgPrice": _paise(t.get("average_traded_price")),
           "volume": int(t.get("volume_traded", 0)), "bQty": int(t.get("total_buy_quantity", 0)),
           "sQty": int(t.get("total_sell_quantity", 0)), "open": _paise(ohlc.get("open")),
           "high": _paise(ohlc.get("high")), "low": _paise(ohlc.get("low")), "close": _paise(ohlc.get("close")),
           "changeper": int(round(float(t.get("change", 0)) * 1e6)), "lastTradeTime": wall_seconds(t.get("last_trade_time")),
           "oi": int(t.get("oi", 0)), "oiHigh": int(t.get("oi_day_high", 0)), "oiLow": int(t.get("oi_day_low", 0))}
    for side, s in (("buy", "b"), ("sell", "s")):
        levels = depth.get(side) or []
        for k in range(5):
            lv = levels[k] if k < len(levels) else {}
            row[f"{s}q{k}"], row[f"{s}p{k}"], row[f"{s}o{k}"] = (int(lv.get("quantity", 0)), _paise(lv.get("price", 0)),
                                                                int(lv.get("orders", 0)))
    return [row[c] for c in OPTION_COLUMN_NAMES]


def read_kite_file(path: Path, tokens: dict[int, str]) -> Iterator[tuple[str, dict, list[str]] | Rejection]:
    """(tradingsymbol, rows, positions) for the file's ticks, or Rejections for bad ticks."""
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        yield Rejection(f"byte {exc.pos}", f"not JSON: {exc.msg}", path.read_text()[max(0, exc.pos - 100):exc.pos + 100])
        return
    for day_key, ticks in doc.items():
        by_symbol: dict[str, list] = {}
        for i, t in enumerate(ticks):
            where = f"{day_key}[{i}]"
            symbol = tokens.get(int(t.get("instrument_token", -1)))
            if symbol is None:
                yield Rejection(where, f"unknown instrument_token {t.get('instrument_token')}", json.dumps(t)[:500])
                continue
            try:
                by_symbol.setdefault(symbol, []).append((tick_row(t), where))
            except (TypeError, ValueError) as exc:
                yield Rejection(where, f"bad tick: {exc}", json.dumps(t)[:500])
        for symbol, items in by_symbol.items():
            arr = np.array([r for r, _ in items], dtype=np.int64)
            yield symbol, {c: arr[:, k].copy() for k, c in enumerate(OPTION_COLUMN_NAMES)}, [w for _, w in items]
