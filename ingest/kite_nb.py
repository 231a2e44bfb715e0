"""Numba scanner of Kite FULL-mode tick files (`{"YYYY-M-D": [tick, ...]}`) straight into recorder rows
(the int64 form of ingest.recorder_format). A tick it does not take (another JSON type somewhere, a
number with more digits than a double holds exactly, a time in another format, an escaped key) is
marked for the Python reader (ingest.kite.tick_row), which decides it exactly as before.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ingest.jsonscan_nb import (ROW_OK, ROW_PYTHON, S_BAD, S_DONE, S_FULL, _days_from_civil, _digits, _key_id,
                                _string_end, _valid_date, _value, _ws, skip_value)
from ingest.recorder_format import NULL_INT

# Kite keys (the tick, ohlc, depth and its levels), by id
KITE_KEYS = ("instrument_token", "last_price", "last_traded_quantity", "average_traded_price", "volume_traded",
             "total_buy_quantity", "total_sell_quantity", "ohlc", "change", "last_trade_time", "exchange_timestamp",
             "oi", "oi_day_high", "oi_day_low", "depth", "open", "high", "low", "close", "buy", "sell", "quantity",
             "price", "orders")
# recorder column of each Kite tick key 1..6, 8, 11..13 (the others are handled apart)
_KITE_COL = np.array([-1, 1, 2, 3, 4, 5, 6, -1, 11, 12, 0, 13, 14, 15, -1], np.int64)
_KITE_SCALE = np.array([0, 2, 0, 2, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0], np.int64)   # 0 int, 2 paise, 6 micro


@nb.njit(cache=True)
def _iso_utc_wall(buf, a, b):
    """'YYYY-MM-DDTHH:MM:SS[.f]Z' or '...+HH:MM' (the string's content [a, b)) -> IST wall seconds
    (int(datetime.timestamp()) + 19800, as ingest.kite.wall_seconds). (value, ok)."""
    if b - a < 20:
        return 0, False
    y, mo, d = _digits(buf, a, 4), _digits(buf, a + 5, 2), _digits(buf, a + 8, 2)
    hh, mi, ss = _digits(buf, a + 11, 2), _digits(buf, a + 14, 2), _digits(buf, a + 17, 2)
    if (buf[a + 4] != 45 or buf[a + 7] != 45 or (buf[a + 10] != 84 and buf[a + 10] != 32) or buf[a + 13] != 58
            or buf[a + 16] != 58 or y < 0 or mo < 0 or d < 0 or hh < 0 or mi < 0 or ss < 0):
        return 0, False
    if not _valid_date(y, mo, d) or hh > 23 or mi > 59 or ss > 59:
        return 0, False
    p = a + 19
    if p < b and buf[p] == 46:
        p += 1
        f0 = p
        while p < b and 48 <= buf[p] <= 57:
            p += 1
        if p == f0 or p - f0 > 6:
            return 0, False
    offset = 0
    if p + 1 == b and buf[p] == 90:                          # Z
        offset = 0
    elif p + 6 == b and (buf[p] == 43 or buf[p] == 45) and buf[p + 3] == 58:
        oh, om = _digits(buf, p + 1, 2), _digits(buf, p + 4, 2)
        if oh < 0 or om < 0 or oh > 23 or om > 59:
            return 0, False
        offset = (oh * 3600 + om * 60) * (1 if buf[p] == 43 else -1)
    else:
        return 0, False
    secs = _days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss - offset
    return secs + 19800, True


@nb.njit(cache=True)
def _kite_defaults(out, n):
    for c in range(46):
        out[c, n] = 0
    for c in (0, 1, 3, 7, 8, 9, 10, 12):     # timestamp, price, avgPrice, ohlc, lastTradeTime: None -> NULL
        out[c, n] = NULL_INT


@nb.njit(cache=True)
def _kite_levels(buf, p, end, keys, lens, out, n, base):
    """A depth side (an array of up to 5 level objects, more are ignored; null = none) into
    out[base + 3k ...]. Returns (end, ok)."""
    if p + 4 <= end and buf[p] == 110:
        return p + 4, buf[p + 1] == 117 and buf[p + 2] == 108 and buf[p + 3] == 108
    if p >= end or buf[p] != 91:
        return p, False
    p = _ws(buf, p + 1, end)
    k = 0
    if p < end and buf[p] == 93:
        return p + 1, True
    while p < end:
        if k >= 5:
            p = skip_value(buf, p, end)
            if p < 0:
                return p, False
        else:
            if buf[p] != 123:
                return p, False
            p = _ws(buf, p + 1, end)
            if p < end and buf[p] == 125:
                p += 1
            else:
                while p < end:
                    if buf[p] != 34:
                        return p, False
                    q, esc = _string_end(buf, p, end)
                    if q < 0 or esc:
                        return p, False
                    kid = _key_id(buf, p + 1, q - 1, keys, lens)
                    p = _ws(buf, q, end)
                    if p >= end or buf[p] != 58:
                        return p, False
                    p = _ws(buf, p + 1, end)
                    if kid == 21 or kid == 23:          # quantity, orders
                        v, p, ok = _value(buf, p, end, 0)
                        if not ok:
                            return p, False
                        out[base + 3 * k + (0 if kid == 21 else 2), n] = v
                    elif kid == 22:                     # price
                        v, p, ok = _value(buf, p, end, 2)
                        if not ok:
                            return p, False
                        out[base + 3 * k + 1, n] = v
                    else:
                        p = skip_value(buf, p, end)
                        if p < 0:
                            return p, False
                    p = _ws(buf, p, end)
                    if p < end and buf[p] == 44:
                        p = _ws(buf, p + 1, end)
                        continue
                    if p < end and buf[p] == 125:
                        p += 1
                        break
                    return p, False
        k += 1
        p = _ws(buf, p, end)
        if p < end and buf[p] == 44:
            p = _ws(buf, p + 1, end)
            continue
        if p < end and buf[p] == 93:
            return p + 1, True
        return p, False
    return p, False


@nb.njit(cache=True)
def _kite_object(buf, p, end, keys, lens, out, n, what):
    """The ohlc (what 0) or depth (what 1) object at p. Returns (end, ok)."""
    if p + 4 <= end and buf[p] == 110:
        return p + 4, buf[p + 1] == 117 and buf[p + 2] == 108 and buf[p + 3] == 108
    if p >= end or buf[p] != 123:
        return p, False
    p = _ws(buf, p + 1, end)
    if p < end and buf[p] == 125:
        return p + 1, True
    while p < end:
        if buf[p] != 34:
            return p, False
        q, esc = _string_end(buf, p, end)
        if q < 0 or esc:
            return p, False
        kid = _key_id(buf, p + 1, q - 1, keys, lens)
        p = _ws(buf, q, end)
        if p >= end or buf[p] != 58:
            return p, False
        p = _ws(buf, p + 1, end)
        if what == 0 and 15 <= kid <= 18:
            v, p, ok = _value(buf, p, end, 2)
            if not ok:
                return p, False
            out[7 + kid - 15, n] = v
        elif what == 1 and (kid == 19 or kid == 20):
            p, ok = _kite_levels(buf, p, end, keys, lens, out, n, 16 if kid == 19 else 31)
            if not ok:
                return p, False
        else:
            p = skip_value(buf, p, end)
            if p < 0:
                return p, False
        p = _ws(buf, p, end)
        if p < end and buf[p] == 44:
            p = _ws(buf, p + 1, end)
            continue
        if p < end and buf[p] == 125:
            return p + 1, True
        return p, False
    return p, False


@nb.njit(cache=True)
def _kite_tick(buf, p, end, keys, lens, out, token, n):
    """One tick object at p into row n. Returns (end, ok); not ok: Python reads this tick."""
    _kite_defaults(out, n)
    token[n] = NULL_INT
    p = _ws(buf, p + 1, end)
    if p < end and buf[p] == 125:
        return p + 1, True
    while p < end:
        if buf[p] != 34:
            return p, False
        q, esc = _string_end(buf, p, end)
        if q < 0 or esc:
            return p, False
        kid = _key_id(buf, p + 1, q - 1, keys, lens)
        p = _ws(buf, q, end)
        if p >= end or buf[p] != 58:
            return p, False
        p = _ws(buf, p + 1, end)
        if kid == 0:
            v, p, ok = _value(buf, p, end, 0)
            if not ok:
                return p, False
            token[n] = v
        elif 1 <= kid <= 13 and kid != 7 and kid != 9 and kid != 10:
            v, p, ok = _value(buf, p, end, _KITE_SCALE[kid])
            if not ok:
                return p, False
            out[_KITE_COL[kid], n] = v
        elif kid == 9 or kid == 10:                 # last_trade_time, exchange_timestamp
            col = _KITE_COL[kid]
            if p + 4 <= end and buf[p] == 110 and buf[p + 1] == 117:
                out[col, n] = NULL_INT
                p += 4
            elif p < end and buf[p] == 34:
                q, esc = _string_end(buf, p, end)
                if q < 0 or esc:
                    return p, False
                if q - p == 2:
                    out[col, n] = NULL_INT           # '' reads as no time
                else:
                    v, ok = _iso_utc_wall(buf, p + 1, q - 1)
                    if not ok:
                        return p, False
                    out[col, n] = v
                p = q
            else:
                return p, False
        elif kid == 7 or kid == 14:
            p, ok = _kite_object(buf, p, end, keys, lens, out, n, 0 if kid == 7 else 1)
            if not ok:
                return p, False
        else:
            p = skip_value(buf, p, end)
            if p < 0:
                return p, False
        p = _ws(buf, p, end)
        if p < end and buf[p] == 44:
            p = _ws(buf, p + 1, end)
            continue
        if p < end and buf[p] == 125:
            return p + 1, True
        return p, False
    return p, False


@nb.njit(cache=True, nogil=True)
def scan_kite(buf, pos, phase, day_key, elem, keys, lens, out, token, where, status):
    """Kite ticks of `{"day": [tick, ...], ...}` from buf[pos:] into rows out[:, :cap].

    Resumable: (pos, phase, day_key, elem) say where the scan is (phase 0 before the document, 1
    in the top object, 2 in a day's array; day_key the offset of the day's key string, elem the
    index of the next tick). Per row: token, where[0] day key offset, where[1] element index,
    where[2:4] the tick's byte range, status ROW_OK or ROW_PYTHON (a tick the Python reader must
    read). Returns (pos, n, phase, day_key, elem, scan status): S_DONE, S_FULL (call again), or
    S_BAD (not this layout or malformed: the Python reader reads the whole file)."""
    end = buf.shape[0]
    cap = out.shape[1]
    n = 0
    while True:
        pos = _ws(buf, pos, end)
        if phase == 0:
            if pos >= end or buf[pos] != 123:
                return pos, n, phase, day_key, elem, S_BAD
            pos += 1
            phase = 1
            pos = _ws(buf, pos, end)
            if pos < end and buf[pos] == 125:
                pos = _ws(buf, pos + 1, end)
                return pos, n, 1, day_key, elem, S_DONE if pos == end else S_BAD
            continue
        if phase == 1:
            if pos >= end or buf[pos] != 34:
                return pos, n, phase, day_key, elem, S_BAD
            q, esc = _string_end(buf, pos, end)
            if q < 0 or esc:
                return pos, n, phase, day_key, elem, S_BAD
            day_key = pos
            pos = _ws(buf, q, end)
            if pos >= end or buf[pos] != 58:
                return pos, n, phase, day_key, elem, S_BAD
            pos = _ws(buf, pos + 1, end)
            if pos >= end or buf[pos] != 91:
                return pos, n, phase, day_key, elem, S_BAD
            pos = _ws(buf, pos + 1, end)
            phase, elem = 2, 0
            if pos < end and buf[pos] == 93:
                pos += 1
                phase = 3
            continue
        if phase == 3:                      # after a day's array: ',' next day or '}' end
            if pos < end and buf[pos] == 44:
                pos += 1
                phase = 1
                continue
            if pos < end and buf[pos] == 125:
                pos = _ws(buf, pos + 1, end)
                return pos, n, 3, day_key, elem, S_DONE if pos == end else S_BAD
            return pos, n, phase, day_key, elem, S_BAD
        # phase 2: the next tick
        if n >= cap:
            return pos, n, phase, day_key, elem, S_FULL
        start = pos
        ok = False
        if pos < end and buf[pos] == 123:
            q, ok = _kite_tick(buf, pos, end, keys, lens, out, token, n)
        if not ok:
            q = skip_value(buf, start, end)
            if q < 0:
                return start, n, phase, day_key, elem, S_BAD
        where[0, n], where[1, n], where[2, n], where[3, n] = day_key, elem, start, q
        status[n] = ROW_OK if ok else ROW_PYTHON
        n += 1
        elem += 1
        pos = _ws(buf, q, end)
        if pos < end and buf[pos] == 44:
            pos += 1
            continue
        if pos < end and buf[pos] == 93:
            pos += 1
            phase = 3
            continue
        return pos, n, phase, day_key, elem, S_BAD
