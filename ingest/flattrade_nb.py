"""Numba scanner of FlatTrade lines (one JSON object per line, values as strings, a trailing comma)
straight into recorder rows. A line it does not take is marked for the Python reader
(ingest.flattrade.line_row), which decides it exactly as before.
"""
from __future__ import annotations

import numba as nb

from ingest.jsonscan_nb import (ROW_OK, ROW_PYTHON, S_DONE, S_FULL, _days_from_civil, _digits, _key_id, _number,
                                _scaled, _string_end, _valid_date, _ws, skip_value)
from ingest.recorder_format import NULL_INT

FLAT_KEYS = ("tk", "lp", "v", "time", *(f"{s}{k}" for s in ("bp", "bq", "sp", "sq") for k in range(1, 6)))


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


@nb.njit(cache=True, inline="always")
def _level_key(buf, a, b):
    """The id of a depth key bp1..5 / bq1..5 / sp1..5 / sq1..5 (FLAT_KEYS order), or -1: the 20
    keys of every line, found without comparing against each."""
    if b - a != 3 or buf[a + 2] < 49 or buf[a + 2] > 53:
        return -1
    side = 0 if buf[a] == 98 else 2 if buf[a] == 115 else -1          # b / s
    field = 0 if buf[a + 1] == 112 else 1 if buf[a + 1] == 113 else -1  # p / q
    if side < 0 or field < 0:
        return -1
    return 4 + (side + field) * 5 + (buf[a + 2] - 49)


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
        kid = _level_key(buf, p + 1, q - 1)
        if kid < 0:
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
