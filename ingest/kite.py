"""Kite FULL-mode tick files -> recorder rows (the int64 form of ingest.recorder_format).

A file `DD-MM-YY-<token>-merged-data.txt` holds `{"YYYY-M-D": [tick, ...]}`; the token maps to a
contract through the Kite instrument master. Times are UTC ('Z'); the recorder's wall time is IST.
Ticks of one second collapse later, in the shared dedupe (the last tick of the second wins).

The bytes are scanned by a Numba kernel (ingest.jsonscan_nb); a tick it does not take (another
JSON type somewhere, an unusual number or time) is read here, in Python, tick by tick. What is not
a tick is quarantined with its position: a file that is a JSON array or not JSON at all, a day
whose value is not a list, a tick that is not an object, bytes that are not UTF-8.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Callable, Iterator

import numpy as np

from ingest.jsonscan_nb import ROW_PYTHON, S_BAD, S_FULL, key_table
from ingest.kite_nb import KITE_KEYS, scan_kite
from ingest.recorder_format import NULL_INT, OPTION_COLUMN_NAMES
from ingest.route import Rejection
from warehouse.clock import IST_OFFSET_S

_KEYS = key_table(KITE_KEYS)
TICK_BYTES = 400                 # fewer bytes than any FULL-mode tick with its depth
RAW_CHARS = 500

Item = tuple[str, dict[str, np.ndarray], Callable[[int], str]]


def wall_seconds(utc_text: str | None) -> int:
    """'2025-11-04T03:45:00Z' (or with +00:00) -> IST wall seconds since 1970; NULL_INT when absent."""
    if not utc_text:
        return NULL_INT
    if not isinstance(utc_text, str):
        raise ValueError(f"time is not a string: {utc_text!r}")
    t = dt.datetime.fromisoformat(utc_text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError(f"timestamp without zone: {utc_text}")
    return int(t.timestamp()) + IST_OFFSET_S


def _paise(x) -> int:
    return NULL_INT if x is None else int(round(float(x) * 100))


def _object(x, what: str) -> dict:
    if x is None:
        return {}
    if not isinstance(x, dict):
        raise ValueError(f"{what} is not a JSON object")
    return x


def tick_row(t: dict) -> list[int]:
    depth = _object(t.get("depth"), "depth")
    ohlc = _object(t.get("ohlc"), "ohlc")
    row = {"timestamp": wall_seconds(t.get("exchange_timestamp")), "price": _paise(t.get("last_price")),
           "qty": int(t.get("last_traded_quantity", 0)), "avgPrice": _paise(t.get("average_traded_price")),
           "volume": int(t.get("volume_traded", 0)), "bQty": int(t.get("total_buy_quantity", 0)),
           "sQty": int(t.get("total_sell_quantity", 0)), "open": _paise(ohlc.get("open")),
           "high": _paise(ohlc.get("high")), "low": _paise(ohlc.get("low")), "close": _paise(ohlc.get("close")),
           "changeper": int(round(float(t.get("change", 0)) * 1e6)), "lastTradeTime": wall_seconds(t.get("last_trade_time")),
           "oi": int(t.get("oi", 0)), "oiHigh": int(t.get("oi_day_high", 0)), "oiLow": int(t.get("oi_day_low", 0))}
    for side, s in (("buy", "b"), ("sell", "s")):
        levels = depth.get(side) or []
        if not isinstance(levels, list):
            raise ValueError(f"depth.{side} is not a list")
        for k in range(5):
            lv = levels[k] if k < len(levels) else {}
            if not isinstance(lv, dict):
                raise ValueError(f"depth.{side}[{k}] is not a JSON object")
            row[f"{s}q{k}"], row[f"{s}p{k}"], row[f"{s}o{k}"] = (int(lv.get("quantity", 0)), _paise(lv.get("price", 0)),
                                                                int(lv.get("orders", 0)))
    return in_range([row[c] for c in OPTION_COLUMN_NAMES])


_LIMIT = 2**63 - 1


def in_range(values: list[int]) -> list[int]:
    """The row, when every value fits the recorder's int64 columns (NULL_INT is the only -2**63)."""
    for v in values:
        if v != NULL_INT and not -_LIMIT <= v <= _LIMIT:
            raise ValueError(f"value {v} out of range")
    return values


def bad_utf8(data: bytes) -> list[int]:
    """Offsets of the bytes that are not UTF-8 (empty for a valid file; C speed when valid)."""
    out, at = [], 0
    while True:
        try:
            data[at:].decode("utf-8")
            return out
        except UnicodeDecodeError as exc:
            out.append(at + exc.start)
            at += exc.end


def _text(raw: bytes) -> str:
    return raw[:RAW_CHARS * 4].decode("utf-8", "replace")[:RAW_CHARS]


def python_tick(raw: bytes, offset: int, where: str, tokens: dict[int, str]) -> tuple[str, list[int]] | Rejection:
    """One tick read by Python: (tradingsymbol, recorder row) or the reason it is quarantined."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(where, f"not UTF-8 at byte {offset + exc.start}", _text(raw))
    try:
        t = json.loads(text)
    except json.JSONDecodeError as exc:
        return Rejection(where, f"not JSON: {exc.msg}", text[:RAW_CHARS])
    if not isinstance(t, dict):
        return Rejection(where, f"tick is not a JSON object ({type(t).__name__})", text[:RAW_CHARS])
    try:
        symbol = tokens.get(int(t.get("instrument_token", -1)))
    except (TypeError, ValueError):
        symbol = None
    if symbol is None:
        return Rejection(where, f"unknown instrument_token {t.get('instrument_token')}", text[:RAW_CHARS])
    try:
        return symbol, tick_row(t)
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return Rejection(where, f"bad tick: {exc}", text[:RAW_CHARS])


def read_kite_file(path: Path, tokens: dict[int, str]) -> Iterator[Item | Rejection]:
    """(tradingsymbol, rows, position of row i) per instrument of the file, and Rejections."""
    data = path.read_bytes()
    buf = np.frombuffer(data, np.uint8)
    parts, pos, phase, day_key, elem = [], 0, 0, 0, 0
    # a FULL-mode tick takes ~800 bytes: one batch nearly always holds the file (no concatenation)
    batch = len(data) // TICK_BYTES + 1024
    while True:
        out = np.empty((len(OPTION_COLUMN_NAMES), batch), np.int64)
        token, where, status = np.empty(batch, np.int64), np.empty((4, batch), np.int64), np.empty(batch, np.int8)
        pos, n, phase, day_key, elem, st = scan_kite(buf, pos, phase, day_key, elem, _KEYS[0], _KEYS[1],
                                                     out, token, where, status)
        parts.append((out[:, :n], token[:n], where[:, :n], status[:n]))
        if st == S_BAD:
            yield from _python_file(data, tokens)
            return
        if st != S_FULL:
            break
    out, token, where, status = parts[0] if len(parts) == 1 else \
        (np.concatenate([p[k] for p in parts], axis=-1) for k in range(4))
    yield from _assemble(data, out, token, where, status, tokens)


def _assemble(data: bytes, out, token, where, status, tokens: dict[int, str]) -> Iterator[Item | Rejection]:
    keys: dict[int, str] = {}

    def day(offset: int) -> str:
        if offset not in keys:
            end = data.index(b'"', offset + 1)
            keys[offset] = data[offset + 1:end].decode("utf-8", "replace")
        return keys[offset]

    def position(i: int) -> str:
        return f"{day(int(where[0, i]))}[{int(where[1, i])}]"

    for b in bad_utf8(data):                              # ticks holding a byte that is not UTF-8
        status[(where[2] <= b) & (b < where[3])] = ROW_PYTHON
    yield from group_rows(data, out, token, status, where[2:4], tokens.get, position,
                          lambda raw, at, i: python_tick(raw, at, position(i), tokens))


def group_rows(data: bytes, out, token, status, span, symbol_for: Callable[[int], str | None],
               position: Callable[[int], str], read_python: Callable) -> Iterator[Item | Rejection]:
    """Scanned rows grouped by instrument (symbol_for(token)); rows the scanner left to Python, and
    rows of unknown tokens, read by `read_python(raw bytes, offset, row)` (a (symbol, row) or a
    Rejection). Shared by the Kite and FlatTrade readers."""
    uniq, gid = np.unique(token, return_inverse=True)
    names = [symbol_for(int(u)) for u in uniq]
    known = np.array([x is not None for x in names], dtype=bool)
    gid = gid.astype(np.int64)
    group = {x: k for k, x in enumerate(names) if x is not None}
    python = (status == ROW_PYTHON) | ~known[gid] if len(gid) else np.zeros(0, bool)
    for i in np.flatnonzero(python):
        got = read_python(data[span[0, i]:span[1, i]], int(span[0, i]), int(i))
        if isinstance(got, Rejection):
            yield got
            gid[i] = -1
        else:
            if got[0] not in group:
                group[got[0]] = len(names)
                names.append(got[0])
            gid[i] = group[got[0]]
            out[:, i] = got[1]
    single = len(gid) and (gid == gid[0]).all()          # one instrument (a Kite file): views, no gather
    order = np.arange(len(gid)) if single else np.argsort(gid, kind="stable")
    bounds = np.searchsorted(gid[order], np.arange(len(names) + 1))
    for k in sorted(range(len(names)), key=lambda k: names[k] or ""):
        rows_of = order[bounds[k]:bounds[k + 1]]
        if names[k] is None or not len(rows_of):
            continue
        rows = {c: out[j] if single else out[j, rows_of] for j, c in enumerate(OPTION_COLUMN_NAMES)}
        yield names[k], rows, (lambda i, rows_of=rows_of: position(int(rows_of[i])))


def _python_file(data: bytes, tokens: dict[int, str]) -> Iterator[Item | Rejection]:
    """A file the scanner could not read as `{"day": [ticks]}`: read with Python, whatever is not
    a tick quarantined with its position."""
    bad = bad_utf8(data)
    if bad:
        yield Rejection(f"byte {bad[0]}", f"not UTF-8 at byte {bad[0]} (file not read)", _text(data[max(0, bad[0] - 100):]))
        return
    text = data.decode("utf-8")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        yield Rejection(f"byte {exc.pos}", f"not JSON: {exc.msg}", text[max(0, exc.pos - 100):exc.pos + 100])
        return
    if isinstance(doc, list):
        for i, t in enumerate(doc):
            yield Rejection(f"[{i}]", "tick outside a day: the file is a JSON array, not {\"YYYY-M-D\": [tick, ...]}",
                            json.dumps(t)[:RAW_CHARS])
        return
    if not isinstance(doc, dict):
        yield Rejection("document", f"not a Kite merged-data file: the document is a {type(doc).__name__}",
                        text[:RAW_CHARS])
        return
    for day_key, ticks in doc.items():
        if not isinstance(ticks, list):
            yield Rejection(day_key, "the day's value is not a list of ticks", json.dumps(ticks)[:RAW_CHARS])
            continue
        by_symbol: dict[str, list] = {}
        for i, t in enumerate(ticks):
            got = python_tick(json.dumps(t).encode(), 0, f"{day_key}[{i}]", tokens)
            if isinstance(got, Rejection):
                yield got
            else:
                by_symbol.setdefault(got[0], []).append((got[1], f"{day_key}[{i}]"))
        for symbol, items in by_symbol.items():
            arr = np.array([r for r, _ in items], dtype=np.int64).reshape(len(items), len(OPTION_COLUMN_NAMES))
            names = [w for _, w in items]
            yield symbol, {c: arr[:, k].copy() for k, c in enumerate(OPTION_COLUMN_NAMES)}, (lambda i, names=names: names[i])
