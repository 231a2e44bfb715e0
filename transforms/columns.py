"""Column helpers: columns handed to Numba kernels as one tuple, and constant Arrow columns.


A tuple of arrays compiles to a uniform tuple type only when every array has the same dtype,
layout and writability; Arrow's zero-copy arrays are read-only and converted ones are not, so
every column becomes a read-only float64 contiguous view (a copy only when the dtype differs)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

_EPOCH = dt.date(1970, 1, 1)


def float_columns(columns) -> tuple[np.ndarray, ...]:
    out = []
    for c in columns:
        view = np.ascontiguousarray(c, dtype=np.float64).view()
        view.flags.writeable = False
        out.append(view)
    return tuple(out)


def constant_column(value: str | dt.date, n: int) -> pa.Array:
    """`value` n times as a string or date32 column, built from buffers (a list of n Python objects
    costs ~30 ms per 500k rows; this costs a few)."""
    if isinstance(value, dt.date):
        return pa.array(np.full(n, (value - _EPOCH).days, np.int32)).view(pa.date32())
    data = value.encode()
    if len(data) * n >= 2**31:                   # past 32-bit offsets: let Arrow chunk it
        return pa.array([value] * n, pa.string())
    offsets = np.arange(0, (n + 1) * len(data), len(data), dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))
