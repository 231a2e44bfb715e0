"""Numba kernel that parses the tuples of a `VALUES (...),(...);` list straight into int64 columns.

Bytes in, columns out, no Python per row or value. The caller hands a buffer window; the kernel
stops at the end of the statement (';'), when the output is full, when the window ends inside a
tuple (the caller refills and resumes from that tuple), at a malformed tuple, whose byte span it
returns so the caller can quarantine exactly that tuple and go on, or at a line that does not
begin with a tuple (the statement ended without its ';').

A tuple never spans lines in a dump (mysqldump and the recorder escape line breaks inside values),
so a malformed tuple's span ends at the end of its line at the latest: an unterminated quote or a
missing ')' damages one line, never the rest of the file.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ingest.recorder_format import NULL_INT

K_DATETIME, K_DEC2, K_INT, K_DEC10 = 0, 1, 2, 3   # same codes as the generator's formatter
K_SKIP = 4   # any value, not decoded (0): the rows of a table ingest skips are counted, not read
ST_NEED_MORE, ST_STMT_END, ST_FULL, ST_BAD, ST_LINE_END = 0, 1, 2, 3, 4
_SPACE = (32, 10, 13, 9)
_POW10 = np.array([10**k for k in range(19)], np.int64)   # a global array is a constant to Numba


@nb.njit(cache=True)
def _days_from_civil(y, m, d):
    y -= m <= 2
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    mp = m - 3 if m > 2 else m + 9
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@nb.njit(cache=True)
def _digits(buf, p, n):
    """n ASCII digits at p as an int, or -1."""
    v = 0
    for k in range(n):
        c = buf[p + k]
        if c < 48 or c > 57:
            return -1
        v = v * 10 + c - 48
    return v


@nb.njit(cache=True, inline="always")
def datetime_text(buf, p):
    """'YYYY-MM-DD HH:MM:SS' at buf[p:p+19] -> (seconds since 1970 of the wall time, ok); the zero
    date is NULL_INT (MySQL's zero date is no date)."""
    y, mo, d = _digits(buf, p, 4), _digits(buf, p + 5, 2), _digits(buf, p + 8, 2)
    h, mi, s = _digits(buf, p + 11, 2), _digits(buf, p + 14, 2), _digits(buf, p + 17, 2)
    if (buf[p + 4] != 45 or buf[p + 7] != 45 or buf[p + 10] != 32 or buf[p + 13] != 58 or buf[p + 16] != 58
            or min(y, mo, d, h, mi, s) < 0):
        return 0, False
    if y == 0 and mo == 0 and d == 0:
        return NULL_INT, True
    if mo < 1 or mo > 12 or d < 1 or d > 31 or h > 23 or mi > 59 or s > 59:
        return 0, False
    return _days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s, True


@nb.njit(cache=True)
def _datetime(buf, p, end):
    """A quoted datetime starting after the opening quote at p -> (seconds, next pos, ok)."""
    if p + 20 > end:
        return 0, end, 2
    v, ok = datetime_text(buf, p)
    if not ok or buf[p + 19] != 39:
        return 0, p, 0
    return v, p + 20, 1


@nb.njit(cache=True, inline="always")
def _significant(buf, start, nd):
    """Digits of the integer part at buf[start:start+nd] after its leading zeros (only counted when
    there are enough digits to overflow int64)."""
    if nd <= 16:
        return nd
    k = 0
    while k < nd - 1 and buf[start + k] == 48:
        k += 1
    return nd - k


@nb.njit(cache=True, inline="always")   # inlined: a call per value costs a third of the parse
def decimal_text(buf, p, end, scale_digits):
    """The decimal at buf[p:] (up to end) scaled by 10**scale_digits, half away from zero on extra
    digits -> (value, pos after it, ok: 1 / 0)."""
    neg = False
    if p < end and buf[p] == 45:
        neg = True
        p += 1
    ip = 0
    nd = 0
    start = p
    while p < end and 48 <= buf[p] <= 57:
        ip = ip * 10 + buf[p] - 48
        p += 1
        nd += 1
    frac = 0
    fd = 0
    round_up = False
    if p < end and buf[p] == 46:
        p += 1
        while p < end and 48 <= buf[p] <= 57:
            if fd < scale_digits:
                frac = frac * 10 + buf[p] - 48
            elif fd == scale_digits:
                round_up = buf[p] >= 53
            fd += 1
            p += 1
        if fd == 0 or scale_digits == 0 and frac != 0:
            return 0, p, 0
    if nd == 0 or _significant(buf, start, nd) + scale_digits > 18:   # would overflow int64: not a value
        return 0, p, 0
    v = ip * _POW10[scale_digits] + frac * _POW10[scale_digits - min(fd, scale_digits)] + (1 if round_up else 0)
    return (-v if neg else v), p, 1


@nb.njit(cache=True, inline="always")
def _fast_decimal(buf, p, end, scale):
    """decimal_text as the dump parser needs it (same values, same rounding: half away from zero on
    the first extra digit), a third faster: no branch on the scale per digit. -> (value, pos after
    it, ok: 1 / 0 bad / 2 ran out of buffer)."""
    neg = buf[p] == 45
    if neg:
        p += 1
    start = p
    ip = 0
    while p < end:
        d = np.int64(buf[p]) - 48
        if d < 0 or d > 9:
            break
        ip = ip * 10 + d
        p += 1
    nd = p - start
    if p >= end:
        return 0, p, 2
    if nd == 0 or _significant(buf, start, nd) + scale > 18:
        return 0, p, 0
    v = ip * _POW10[scale]
    if buf[p] == 46:
        p += 1
        fstart = p
        frac = 0
        while p < end:
            d = np.int64(buf[p]) - 48
            if d < 0 or d > 9:
                break
            frac = frac * 10 + d
            p += 1
        fd = p - fstart
        if p >= end:
            return 0, p, 2
        if fd == 0:
            return 0, p, 0
        if fd <= scale:
            v += frac * _POW10[scale - fd]
        else:                            # rounded on the first extra digit
            if fd > 18:                  # (more digits than int64 holds: read the ones that count again)
                frac = 0
                for k in range(scale + 1):
                    frac = frac * 10 + np.int64(buf[fstart + k]) - 48
                fd = scale + 1
            extra = _POW10[fd - scale]
            q = frac // extra
            v += q + (1 if (frac // _POW10[fd - scale - 1]) % 10 >= 5 else 0)
    return (-v if neg else v), p, 1


@nb.njit(cache=True, inline="always")
def _number(buf, p, end, scale_digits, quoted):
    """A decimal value of a tuple at p -> (value, next pos, ok: 1 ok / 0 bad / 2 ran out of buffer)."""
    v, p, ok = _fast_decimal(buf, p, end, scale_digits)
    if ok != 1:
        return 0, p, ok
    if quoted:
        if buf[p] != 39:
            return 0, p, 0
        p += 1
    return v, p, 1


@nb.njit(cache=True)
def _close_at(buf, p, end):
    """If buf[p] is a ')' that closes a tuple (spaces, then ',', ';' or a line break follow): the
    index after it; -1 if not; -2 if the window ends before that is known."""
    q = p + 1
    while q < end and (buf[q] == 32 or buf[q] == 13):
        q += 1
    if q >= end:
        return -2
    if buf[q] == 44 or buf[q] == 59 or buf[q] == 10:
        return p + 1
    return -1


@nb.njit(cache=True)
def _tuple_end(buf, p, end):
    """End of the malformed tuple starting at p: just past the ')' that closes it (quotes respected),
    or the line break that ends its line first. An unterminated quote (a line break inside quotes)
    falls back to the first closing ')' of the line regardless of quotes. -1: the window ends first."""
    start = p
    inq = False
    while p < end:
        c = buf[p]
        if inq:
            if c == 92:
                p += 1
            elif c == 39:
                inq = False
            elif c == 10:                                # unterminated quote
                q = start
                while q < p:
                    if buf[q] == 41:
                        r = _close_at(buf, q, p + 1)
                        if r >= 0:
                            return r
                    q += 1
                return p
        elif c == 39:
            inq = True
        elif c == 10:
            return p
        elif c == 41:
            r = _close_at(buf, p, end)
            if r == -2:
                return -1
            if r >= 0:
                return r
        p += 1
    return -1


@nb.njit(cache=True, inline="always")
def _skip_value(buf, p, end):
    """Past one value of any type at p (a quoted string with its escapes, or a bare token) ->
    (next pos, ok: 1 ok / 0 bad / 2 ran out of buffer)."""
    if buf[p] == 39:
        p += 1
        while p < end:
            c = buf[p]
            if c == 92:
                p += 2
                continue
            if c == 39:
                if p + 1 < end and buf[p + 1] == 39:      # '' inside a string
                    p += 2
                    continue
                if p + 1 >= end:
                    return p, 2
                return p + 1, 1
            if c == 10:
                return p, 0
            p += 1
        return p, 2
    while p < end and buf[p] != 44 and buf[p] != 41 and buf[p] != 10:
        p += 1
    return p, (2 if p >= end else 1)


@nb.njit(cache=True, nogil=True)   # nogil: the read-ahead thread inflates meanwhile
def parse_tuples(buf, pos, end, kinds, out, n, final):
    """Parse tuples from buf[pos:end] into out[:, n:]. Returns (pos, n, status, bad_a, bad_b, newlines):
    newlines = line breaks passed between tuples (a good tuple has none; a bad one's span is the
    caller's to count), so the caller never rescans the bytes for line numbers. ST_LINE_END: the
    line at pos does not begin with a tuple (pos is its first byte)."""
    ncol = kinds.shape[0]
    cap = out.shape[1]
    lines = 0
    while True:
        if n >= cap:
            return pos, n, ST_FULL, 0, 0, lines
        sep = pos
        new_line = False
        while pos < end and (buf[pos] == 44 or buf[pos] == 32 or buf[pos] == 10 or buf[pos] == 13 or buf[pos] == 9):
            new_line |= buf[pos] == 10
            pos += 1
        if pos >= end:
            return sep, n, ST_NEED_MORE, 0, 0, lines     # separators re-read on resume: line starts seen
        for k in range(sep, pos):
            lines += buf[k] == 10
        if buf[pos] == 59:
            return pos + 1, n, ST_STMT_END, 0, 0, lines
        if new_line and buf[pos] != 40:
            return pos, n, ST_LINE_END, 0, 0, lines
        start = pos
        ok = 1
        p = pos + 1
        if buf[pos] != 40:
            ok = 0
        col = 0
        while ok == 1 and col < ncol:
            while p < end and buf[p] == 32:
                p += 1
            if p >= end:
                ok = 2
                break
            c = buf[p]
            kind = kinds[col]
            if kind == K_SKIP:
                v = 0
                p, ok = _skip_value(buf, p, end)
            elif c == 78:                                   # NULL
                if p + 4 > end:
                    ok = 2
                    break
                if buf[p + 1] != 85 or buf[p + 2] != 76 or buf[p + 3] != 76:
                    ok = 0
                    break
                v = NULL_INT
                p += 4
            elif c == 39 and kind == K_DATETIME:
                v, p, ok = _datetime(buf, p + 1, end)
            elif kind == K_DATETIME:
                ok = 0
            else:
                quoted = c == 39
                sd = 2 if kind == K_DEC2 else 6 if kind == K_DEC10 else 0
                v, p, ok = _number(buf, p + 1 if quoted else p, end, sd, quoted)
            if ok != 1:
                break
            out[col, n] = v
            while p < end and buf[p] == 32:
                p += 1
            if p >= end:
                ok = 2
                break
            want = 41 if col == ncol - 1 else 44
            if buf[p] != want:
                ok = 0
                break
            p += 1
            col += 1
        if ok == 1:
            n += 1
            pos = p
            continue
        if ok == 2 and not final:
            return start, n, ST_NEED_MORE, 0, 0, lines
        stop = _tuple_end(buf, start, end)
        if stop < 0:
            if not final:
                return start, n, ST_NEED_MORE, 0, 0, lines
            stop = end
        return stop, n, ST_BAD, start, stop, lines
