"""Numba kernel that decodes the row packets of a MySQL/MariaDB text-protocol result set straight
into int64 columns (the same units as the dump parser, ingest.sqlscan_nb).

PyMySQL sends the query and reads the column definitions; the row packets that follow are raw
socket bytes, decoded here without a Python object per row or value. A packet is a 3-byte length,
a sequence number and a payload; a row payload is one length-encoded string per column (0xFB is
NULL); the result set ends with an EOF packet (0xFE, payload shorter than 9 bytes) or an error
packet (0xFF).
"""
from __future__ import annotations

import numba as nb
import numpy as np

from ingest.recorder_format import NULL_INT
from ingest.sqlscan_nb import K_DATETIME, K_DEC2, K_DEC10, datetime_text, decimal_text

W_NEED_MORE, W_FULL, W_END, W_ERROR, W_BAD_ROW, W_PROTOCOL = 0, 1, 2, 3, 4, 5
MAX_PAYLOAD = 0xFFFFFF   # a longer row is split over packets: never the case for recorder rows


@nb.njit(cache=True, inline="always")
def _uint(buf, p, size):
    """Little-endian unsigned integer of `size` bytes at p."""
    v = np.int64(0)
    for k in range(size):
        v |= np.int64(buf[p + k]) << (8 * k)
    return v


@nb.njit(cache=True, inline="always")
def _field_length(buf, p):
    """Length-encoded string header at p -> (length, header bytes); length -1 = NULL, -2 = invalid."""
    c = np.int64(buf[p])                  # int64 throughout: uint8 mixed with int64 promotes to float
    if c < 251:
        return c, 1
    if c == 251:
        return -1, 1
    if c == 252:
        return _uint(buf, p + 1, 2), 3
    if c == 253:
        return _uint(buf, p + 1, 3), 4
    return -2, 1


@nb.njit(cache=True, nogil=True)   # nogil: the socket is read meanwhile
def parse_rows(buf, pos, end, kinds, out, n, seq):
    """Row packets from buf[pos:end] into out[:, n:]. Returns (pos, n, seq, status, a, b): a packet
    split by the end of the window is left for the next call (W_NEED_MORE); [a, b) is the payload
    of the error packet (W_ERROR) or of the row that does not decode (W_BAD_ROW, skipped: pos is
    past it); W_PROTOCOL = a packet out of sequence or too long."""
    ncol = kinds.shape[0]
    cap = out.shape[1]
    while True:
        if n >= cap:
            return pos, n, seq, W_FULL, 0, 0
        if pos + 4 > end:
            return pos, n, seq, W_NEED_MORE, 0, 0
        length = _uint(buf, pos, 3)
        if buf[pos + 3] != seq or length >= MAX_PAYLOAD:
            return pos, n, seq, W_PROTOCOL, pos, pos + 4
        p = pos + 4
        q = p + length
        if q > end:
            return pos, n, seq, W_NEED_MORE, 0, 0
        seq = (seq + 1) & 255
        if length and buf[p] == 0xFE and length < 9:
            return q, n, seq, W_END, p, q
        if length and buf[p] == 0xFF:
            return q, n, seq, W_ERROR, p, q
        ok = True
        for col in range(ncol):
            if p >= q:
                ok = False
                break
            size, head = _field_length(buf, p)
            p += head
            if size == -1:
                out[col, n] = NULL_INT
                continue
            if size < 0 or p + size > q:
                ok = False
                break
            if kinds[col] == K_DATETIME:
                v, good = datetime_text(buf, p) if size == 19 else (0, False)
            else:
                sd = 2 if kinds[col] == K_DEC2 else 6 if kinds[col] == K_DEC10 else 0
                v, stop, fine = decimal_text(buf, p, p + size, sd)
                good = fine == 1 and stop == p + size
            if not good:
                ok = False
                break
            out[col, n] = v
            p += size
        if ok and p == q:
            n += 1
        else:
            return q, n, seq, W_BAD_ROW, pos + 4, q
        pos = q
