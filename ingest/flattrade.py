"""FlatTrade (Shoonya/Noren websocket) lines -> recorder rows.

One JSON object per line with a trailing comma, values as strings: t, e, tk, lp, v, bp1..5, bq1..5,
sp1..5, sq1..5, time ('DD-MM-YYYY HH:MM:SS', IST). The token maps to a contract through the Shoonya
NFO symbols master. Fields the feed lacks (OHLC, OI, orders, last trade) stay NULL.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Iterator

import numpy as np

from ingest.recorder_format import NULL_INT, OPTION_COLUMN_NAMES
from ingest.route import Rejection

EPOCH = dt.datetime(1970, 1, 1)


def line_row(rec: dict) -> list[int]:
    t = dt.datetime.strptime(rec["time"], "%d-%m-%Y %H:%M:%S")
    row = {c: NULL_INT for c in OPTION_COLUMN_NAMES}
    row["timestamp"] = int((t - EPOCH).total_seconds())
    row["price"] = int(round(float(rec["lp"]) * 100))
    row["volume"] = int(rec.get("v", 0))
    for k in range(5):
        for s, p, q in (("b", "bp", "bq"), ("s", "sp", "sq")):
            row[f"{s}p{k}"] = int(round(float(rec.get(f"{p}{k + 1}", 0)) * 100))
            row[f"{s}q{k}"] = int(rec.get(f"{q}{k + 1}", 0))
    return [row[c] for c in OPTION_COLUMN_NAMES]


def read_flattrade_file(path: Path, tokens: dict[str, str]) -> Iterator[tuple[str, dict, list[str]] | Rejection]:
    by_symbol: dict[str, list] = {}
    for no, line in enumerate(path.read_text().splitlines(), start=1):
        text = line.strip().rstrip(",")
        if not text:
            continue
        try:
            rec = json.loads(text)
            symbol = tokens.get(str(rec.get("tk")))
            if symbol is None:
                yield Rejection(f"line {no}", f"unknown token {rec.get('tk')}", text[:500])
                continue
            by_symbol.setdefault(symbol, []).append((line_row(rec), f"line {no}"))
        except (ValueError, KeyError, TypeError) as exc:
            yield Rejection(f"line {no}", f"bad line: {exc}", text[:500])
    for symbol, items in by_symbol.items():
        arr = np.array([r for r, _ in items], dtype=np.int64)
        yield symbol, {c: arr[:, k].copy() for k, c in enumerate(OPTION_COLUMN_NAMES)}, [w for _, w in items]
