"""Numba scanners for the broker JSON layouts: Kite FULL-mode tick files and FlatTrade lines, read
from bytes straight into recorder rows (the int64 form of ingest.recorder_format), no Python
object per tick or value.

They read the layouts as written; anything else in a tick (a value of another JSON type, a number
with more digits than a double holds exactly, a time in another format, an escaped key, a byte
that is not in a string where JSON wants one) marks that tick for the Python reader
(ingest.kite.tick_row / ingest.flattrade.line_row), which decides it exactly as before: the same
value or a quarantine row. Numbers are read as Python's float() reads them (the exact decimal,
correctly rounded to a double, for up to 19 digits and exponents within +-22) and scaled as the
Python readers scale them: round(float(x) * 100), round(float(x) * 1e6), half to even.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ingest.recorder_format import NULL_INT

# row status
ROW_OK, ROW_PYTHON = 0, 1
# scanner status
S_DONE, S_FULL, S_BAD = 0, 1, 2

# Kite keys (the tick, ohlc, depth and its levels), by id
KITE_KEYS = ("instrument_token", "last_price", "last_traded_quantity", "average_traded_price", "volume_traded",
             "total_buy_quantity", "total_sell_quantity", "ohlc", "change", "last_trade_time", "exchange_timestamp",
             "oi", "oi_day_high", "oi_day_low", "depth", "open", "high", "low", "close", "buy", "sell", "quantity",
             "price", "orders")
FLAT_KEYS = ("tk", "lp", "v", "time", *(f"{s}{k}" for s in ("bp", "bq", "sp", "sq") for k in range(1, 6)))
# recorder column of each Kite tick key 1..6, 8, 11..13 (the others are handled apart)
_KITE_COL = np.array([-1, 1, 2, 3, 4, 5, 6, -1, 11, 12, 0, 13, 14, 15, -1], np.int64)
_KITE_SCALE = np.array([0, 2, 0, 2, 0, 0, 0, 0, 6, 0, 0, 0, 0, 0, 0], np.int64)   # 0 int, 2 paise, 6 micro
_POW10 = np.array([10.0 ** k for k in range(23)])


def key_table(keys: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Keys as a padded uint8 matrix and their lengths, for _key_id."""
    width = max(len(k) for k in keys)
    mat = np.zeros((len(keys), width), np.uint8)
    for i, k in enumerate(keys):
        mat[i, :len(k)] = np.frombuffer(k.encode(), np.uint8)
    return mat, np.array([len(k) for k in keys], np.int64)


@nb.njit(cache=True, inline="always")
def _ws(buf, p, end):
    while p < end and (buf[p] == 32 or buf[p] == 10 or buf[p] == 13 or buf[p] == 9):
        p += 1
    return p


@nb.njit(cache=True)
def _string_end(buf, p, end):
    """buf[p] is the opening quote; returns the index after the closing quote (-1: unterminated),
    and whether the string holds an escape."""
    p += 1
    escaped = False
    while p < end:
        c = buf[p]
        if c == 92:                       # backslash
            escaped = True
            p += 2
            continue
        if c == 34:
            return p + 1, escaped
        p += 1
    return -1, escaped


@nb.njit(cache=True)
def skip_value(buf, p, end):
    """Index after the JSON value at p (whitespace skipped first); -1 when it is malformed or cut."""
    p = _ws(buf, p, end)
    if p >= end:
        return -1
    c = buf[p]
    if c == 34:
        q, _ = _string_end(buf, p, end)
        return q
    if c == 123 or c == 91:              # { [ : match brackets, strings skipped whole
        depth = 0
        while p < end:
            c = buf[p]
            if c == 34:
                p, _ = _string_end(buf, p, end)
                if p < 0:
                    return -1
                continue
            if c == 123 or c == 91:
                depth += 1
            elif c == 125 or c == 93:
                depth -= 1
                if depth == 0:
                    return p + 1
            p += 1
        return -1
    # number or literal: up to a delimiter
    q = p
    while q < end and not (buf[q] == 44 or buf[q] == 125 or buf[q] == 93 or buf[q] == 32 or buf[q] == 10
                           or buf[q] == 13 or buf[q] == 9):
        q += 1
    return q if q > p else -1


@nb.njit(cache=True)
def _key_id(buf, a, b, keys, lens):
    n = b - a
    for k in range(keys.shape[0]):
        if lens[k] != n:
            continue
        same = True
        for j in range(n):
            if keys[k, j] != buf[a + j]:
                same = False
                break
        if same:
            return k
    return -1


@nb.njit(cache=True)
def _number(buf, p, end):
    """A JSON number at p -> (mantissa, exponent10, negative, integer literal, end, ok). ok False for
    anything else or more than 18 significant digits."""
    q = p
    neg = False
    if q < end and buf[q] == 45:
        neg = True
        q += 1
    mant = np.int64(0)
    exp = 0
    digits = 0
    intlit = True
    start = q
    if q < end and buf[q] == 48:
        q += 1
    else:
        while q < end and 48 <= buf[q] <= 57:
            if mant or buf[q] != 48:
                digits += 1
            mant = mant * 10 + (buf[q] - 48)
            q += 1
            if digits > 18:
                return 0, 0, False, False, q, False
    if q == start:
        return 0, 0, False, False, q, False
    if q < end and buf[q] == 46:         # .
        intlit = False
        q += 1
        f0 = q
        while q < end and 48 <= buf[q] <= 57:
            if mant or buf[q] != 48:
                digits += 1
            mant = mant * 10 + (buf[q] - 48)
            exp -= 1
            q += 1
            if digits > 18:
                return 0, 0, False, False, q, False
        if q == f0:
            return 0, 0, False, False, q, False
    if q < end and (buf[q] == 101 or buf[q] == 69):   # e E
        intlit = False
        q += 1
        eneg = False
        if q < end and (buf[q] == 43 or buf[q] == 45):
            eneg = buf[q] == 45
            q += 1
        e0 = q
        e = 0
        while q < end and 48 <= buf[q] <= 57 and e < 1000:
            e = e * 10 + (buf[q] - 48)
            q += 1
        if q == e0:
            return 0, 0, False, False, q, False
        exp += -e if eneg else e
    return mant, exp, neg, intlit, q, True


@nb.njit(cache=True)
def _scaled(mant, exp, neg, scale):
    """round(float(x) * 10**scale) as Python computes it, when float(x) is exact to compute here."""
    if mant > 9007199254740992 or exp > 22 or exp < -22:
        return 0, False
    f = float(mant)
    if exp >= 0:
        f = f * _POW10[exp]
    else:
        f = f / _POW10[-exp]
    if neg:
        f = -f
    v = np.rint(f * _POW10[scale])
    if not (-9.2e18 < v < 9.2e18):
        return 0, False
    return np.int64(v), True


@nb.njit(cache=True)
def _value(buf, p, end, scale):
    """A number (or null, for scaled values) at p as the Python readers convert it: int(x) for
    scale 0 (integer literals only), round(float(x) * 10**scale) otherwise. (value, end, ok)."""
    if p + 4 <= end and buf[p] == 110 and buf[p + 1] == 117 and buf[p + 2] == 108 and buf[p + 3] == 108:
        return NULL_INT, p + 4, scale == 2           # a price may be None (-> NULL); int(None) raises
    mant, exp, neg, intlit, q, ok = _number(buf, p, end)
    if not ok:
        return 0, q, False
    if scale == 0:
        if not intlit:
            return 0, q, False
        return -mant if neg else mant, q, True
    v, good = _scaled(mant, exp, neg, scale)
    return v, q, good


@nb.njit(cache=True, inline="always")
def _digits(buf, p, n):
    v = 0
    for j in range(n):
        c = buf[p + j]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + (c - 48)
    return v


@nb.njit(cache=True)
def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@nb.njit(cache=True)
def _valid_date(y, m, d):
    if m < 1 or m > 12 or d < 1:
        return False
    dim = 31
    if m == 4 or m == 6 or m == 9 or m == 11:
        dim = 30
    elif m == 2:
        dim = 29 if (y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)) else 28
    return d <= dim


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
def _ist_wall(buf, a, b):
    """'DD-MM-YYYY HH:MM:SS' (FlatTrade's IST time) -> wall seconds. (value, ok)."""
    if b - a != 19 or buf[a + 2] != 45 or buf[a + 5] != 45 or buf[a + 10] != 32 or buf[a + 13] != 58 \
            or buf[a + 16] != 58:
        return 0, False
    d, mo, y = _digits(buf, a, 2), _digits(buf, a + 3, 2), _digits(buf, a + 6, 4)
    hh, mi, ss = _digits(buf, a + 11, 2), _digits(buf, a + 14, 2), _digits(buf, a + 17, 2)
    if d < 0 or mo < 0 or y < 0 or hh < 0 or mi < 0 or ss < 0 or not _valid_date(y, mo, d) \
            or hh > 23 or mi > 59 or ss > 59:
        return 0, False
    return _days_from_civil(y, mo, d) * 86400 + hh * 3600 + mi * 60 + ss, True


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


@nb.njit(cache=True)
def _flat_line(buf, p, end, keys, lens, out, token, n):
    """One FlatTrade object (the line's content [p, end)) into row n. (ok)."""
    for c in range(46):
        out[c, n] = NULL_INT
    out[4, n] = 0                           # v
    for k in range(5):
        for base in (16, 31):
            out[base + 3 * k, n] = 0        # quantity
            out[base + 3 * k + 1, n] = 0    # price: round(float(0) * 100)
    got_lp = got_time = got_tk = False
    if p >= end or buf[p] != 123:
        return False
    p = _ws(buf, p + 1, end)
    if p < end and buf[p] == 125:
        return False                        # no time / lp: Python rejects it
    while p < end:
        if buf[p] != 34:
            return False
        q, esc = _string_end(buf, p, end)
        if q < 0 or esc:
            return False
        kid = _key_id(buf, p + 1, q - 1, keys, lens)
        p = _ws(buf, q, end)
        if p >= end or buf[p] != 58:
            return False
        p = _ws(buf, p + 1, end)
        if kid < 0:
            p = skip_value(buf, p, end)
            if p < 0:
                return False
        else:
            # values are strings holding a number (or bare numbers); the time a string
            quoted = p < end and buf[p] == 34
            a, b = p, p
            if quoted:
                b, esc = _string_end(buf, p, end)
                if b < 0 or esc:
                    return False
                a, b, p = p + 1, b - 1, b
            else:
                b = skip_value(buf, p, end)
                if b < 0:
                    return False
                p = b
            if kid == 3:
                if not quoted:
                    return False
                v, ok = _ist_wall(buf, a, b)
                if not ok:
                    return False
                out[0, n] = v
                got_time = True
            else:
                scale = 2 if kid == 1 or (4 <= kid <= 8) or (14 <= kid <= 18) else 0
                mant, exp, neg, intlit, q2, ok = _number(buf, a, b)
                if not ok or q2 != b:
                    return False
                if scale == 0:
                    if not intlit or (kid == 0 and (neg or (b - a > 1 and buf[a] == 48))):
                        return False
                    v = -mant if neg else mant
                else:
                    v, ok = _scaled(mant, exp, neg, scale)
                    if not ok:
                        return False
                if kid == 0:
                    token[n] = v
                    got_tk = True
                elif kid == 1:
                    out[1, n] = v
                    got_lp = True
                elif kid == 2:
                    out[4, n] = v
                else:
                    j = kid - 4                      # bp1..5, bq1..5, sp1..5, sq1..5
                    side, field, k = j // 10, (j // 5) % 2, j % 5
                    out[(16 if side == 0 else 31) + 3 * k + (1 if field == 0 else 0), n] = v
        p = _ws(buf, p, end)
        if p < end and buf[p] == 44:
            p = _ws(buf, p + 1, end)
            continue
        if p < end and buf[p] == 125:
            p = _ws(buf, p + 1, end)
            return p == end and got_lp and got_time and got_tk
        return False
    return False


@nb.njit(cache=True, nogil=True)
def scan_flattrade(buf, pos, line_no, keys, lens, out, token, where, status):
    """FlatTrade lines (one JSON object per line, a trailing comma) from buf[pos:] into rows
    out[:, :cap]: per row token, where[0] line number, where[2:4] the line's content range, status
    ROW_OK or ROW_PYTHON. Blank lines are skipped. Returns (pos, line_no, n, S_DONE or S_FULL)."""
    end = buf.shape[0]
    cap = out.shape[1]
    n = 0
    while pos < end:
        if n >= cap:
            return pos, line_no, n, S_FULL
        nl = pos
        while nl < end and buf[nl] != 10:
            nl += 1
        line_no += 1
        a = _ws(buf, pos, nl)
        b = nl
        while b > a and (buf[b - 1] == 32 or buf[b - 1] == 13 or buf[b - 1] == 9):
            b -= 1
        while b > a and buf[b - 1] == 44:    # the trailing comma(s), as rstrip(",")
            b -= 1
        pos = nl + 1
        if b <= a:
            continue
        ok = _flat_line(buf, a, b, keys, lens, out, token, n)
        where[0, n], where[1, n], where[2, n], where[3, n] = line_no, 0, a, b
        status[n] = ROW_OK if ok else ROW_PYTHON
        n += 1
    return pos, line_no, n, S_DONE
