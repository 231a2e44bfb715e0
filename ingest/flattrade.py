"""FlatTrade (Shoonya/Noren websocket) lines -> recorder rows.

One JSON object per line with a trailing comma, values as strings: t, e, tk, lp, v, bp1..5, bq1..5,
sp1..5, sq1..5, time ('DD-MM-YYYY HH:MM:SS', IST). The token maps to a contract through the Shoonya
NFO symbols master. Fields the feed lacks (OHLC, OI, orders, last trade) stay NULL.

The bytes are scanned by a Numba kernel (ingest.jsonscan_nb); a line it does not take is read
here, in Python. A line that is not a tick is quarantined with its line number: not JSON, not an
object, missing fields, bytes that are not UTF-8.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Iterator

import numpy as np

from ingest.flattrade_nb import FLAT_KEYS, scan_flattrade
from ingest.jsonscan_nb import S_FULL, key_table
from ingest.kite import RAW_CHARS, Item, _text, bad_utf8, group_rows, in_range
from ingest.recorder_format import NULL_INT, OPTION_COLUMN_NAMES
from ingest.route import Rejection

EPOCH = dt.datetime(1970, 1, 1)
_KEYS = key_table(FLAT_KEYS)


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
    return in_range([row[c] for c in OPTION_COLUMN_NAMES])


def python_line(raw: bytes, offset: int, where: str, tokens: dict[str, str]) -> tuple[str, list[int]] | Rejection:
    """One line read by Python: (tradingsymbol, recorder row) or the reason it is quarantined."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(where, f"not UTF-8 at byte {offset + exc.start}", _text(raw))
    try:
        rec = json.loads(text)
        if not isinstance(rec, dict):
            return Rejection(where, f"bad line: not a JSON object ({type(rec).__name__})", text[:RAW_CHARS])
        symbol = tokens.get(str(rec.get("tk")))
        if symbol is None:
            return Rejection(where, f"unknown token {rec.get('tk')}", text[:RAW_CHARS])
        return symbol, line_row(rec)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return Rejection(where, f"bad line: {exc}", text[:RAW_CHARS])


def read_flattrade_file(path: Path, tokens: dict[str, str]) -> Iterator[Item | Rejection]:
    """(tradingsymbol, rows, position of row i) per instrument of the file, and Rejections."""
    data = path.read_bytes()
    buf = np.frombuffer(data, np.uint8)
    cap = data.count(b"\n") + 1                          # at most one row per line: one pass, no copies
    out = np.empty((len(OPTION_COLUMN_NAMES), cap), np.int64)
    token, where, status = np.empty(cap, np.int64), np.empty((4, cap), np.int64), np.empty(cap, np.int8)
    _, _, n, st = scan_flattrade(buf, 0, 0, _KEYS[0], _KEYS[1], out, token, where, status)
    assert st != S_FULL
    out, token, where, status = out[:, :n], token[:n], where[:, :n], status[:n]
    for b in bad_utf8(data):
        status[(where[2] <= b) & (b < where[3])] = 1

    def position(i: int) -> str:
        return f"line {int(where[0, i])}"

    yield from group_rows(data, out, token, status, where[2:4], lambda t: tokens.get(str(t)), position,
                          lambda raw, at, i: python_line(raw, at, position(i), tokens))
