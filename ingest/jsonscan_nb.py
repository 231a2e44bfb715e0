"""Numba primitives for reading broker JSON from bytes (ingest.kite_nb, ingest.flattrade_nb):
whitespace, strings, skipping any value, key lookup, numbers and dates, no Python object per value.

Numbers are read as Python's float() reads them (the exact decimal, correctly rounded to a double,
for up to 18 significant digits and exponents within +-22) and scaled as the Python readers scale
them: round(float(x) * 100), round(float(x) * 1e6), half to even. Anything else is left to the
Python readers (the kernels mark the tick or line for them).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ingest.recorder_format import NULL_INT

# row status
ROW_OK, ROW_PYTHON = 0, 1
# scanner status
S_DONE, S_FULL, S_BAD = 0, 1, 2

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
