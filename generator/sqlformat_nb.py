"""Numba kernel that renders recorder rows as SQL tuple text: `(v,v,...),(v,...)` bytes.

Values are the recorder's int64 form (ingest.recorder_format); per column a kind says how to print:
DATETIME quoted 'YYYY-MM-DD HH:MM:SS', DECIMAL(*,2) from paise with two decimals, DECIMAL(60,10)
from 1e-6 % with ten decimals, integers plain, NULL_INT as NULL. No Python per row or value.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ingest.recorder_format import NULL_INT, OPTION_COLUMNS

K_DATETIME, K_DEC2, K_INT, K_DEC10 = 0, 1, 2, 3


def column_kinds(columns: tuple[tuple[str, str], ...]) -> np.ndarray:
    kinds = []
    for _, sql_type in columns:
        if sql_type == "DATETIME":
            kinds.append(K_DATETIME)
        elif sql_type.startswith("DECIMAL(60,10)"):
            kinds.append(K_DEC10)
        elif sql_type.startswith("DECIMAL"):
            kinds.append(K_DEC2)
        else:
            kinds.append(K_INT)
    return np.array(kinds, dtype=np.int8)


OPTION_KINDS = column_kinds(OPTION_COLUMNS)


@nb.njit(cache=True)
def _put_uint(buf, pos, v, min_digits):
    n = 1
    x = v // 10
    while x > 0:
        n += 1
        x //= 10
    if n < min_digits:
        n = min_digits
    for k in range(n - 1, -1, -1):
        buf[pos + k] = 48 + v % 10
        v //= 10
    return pos + n


@nb.njit(cache=True)
def _civil(days):
    """Days since 1970-01-01 -> (year, month, day) (H. Hinnant's algorithm)."""
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return (y + 1 if m <= 2 else y), m, d


@nb.njit(cache=True)
def _put_value(buf, pos, v, kind):
    if v == NULL_INT:
        for ch in (78, 85, 76, 76):  # NULL
            buf[pos] = ch
            pos += 1
        return pos
    if kind == K_DATETIME:
        days = v // 86400
        sec = v - days * 86400
        y, m, d = _civil(days)
        buf[pos] = 39
        pos = _put_uint(buf, pos + 1, y, 4)
        buf[pos] = 45
        pos = _put_uint(buf, pos + 1, m, 2)
        buf[pos] = 45
        pos = _put_uint(buf, pos + 1, d, 2)
        buf[pos] = 32
        pos = _put_uint(buf, pos + 1, sec // 3600, 2)
        buf[pos] = 58
        pos = _put_uint(buf, pos + 1, (sec // 60) % 60, 2)
        buf[pos] = 58
        pos = _put_uint(buf, pos + 1, sec % 60, 2)
        buf[pos] = 39
        return pos + 1
    if v < 0:
        buf[pos] = 45
        pos += 1
        v = -v
    if kind == K_INT:
        return _put_uint(buf, pos, v, 1)
    scale = 100 if kind == K_DEC2 else 1_000_000
    pos = _put_uint(buf, pos, v // scale, 1)
    buf[pos] = 46
    pos = _put_uint(buf, pos + 1, v % scale, 2 if kind == K_DEC2 else 6)
    if kind == K_DEC10:
        for _ in range(4):
            buf[pos] = 48
            pos += 1
    return pos


@nb.njit(cache=True)
def format_tuples(cols: np.ndarray, kinds: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of cols[col, row] as `(..),(..)` bytes (no trailing separator)."""
    ncol = cols.shape[0]
    buf = np.empty((stop - start) * (ncol * 24 + 4) + 8, np.uint8)
    pos = 0
    for r in range(start, stop):
        if r > start:
            buf[pos] = 44
            pos += 1
        buf[pos] = 40
        pos += 1
        for c in range(ncol):
            if c:
                buf[pos] = 44
                pos += 1
            pos = _put_value(buf, pos, cols[c, r], kinds[c])
        buf[pos] = 41
        pos += 1
    return buf[:pos]
