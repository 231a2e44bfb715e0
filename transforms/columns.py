"""Columns handed to Numba kernels as one tuple.

A tuple of arrays compiles to a uniform tuple type only when every array has the same dtype,
layout and writability; Arrow's zero-copy arrays are read-only and converted ones are not, so
every column becomes a read-only float64 contiguous view (a copy only when the dtype differs)."""
from __future__ import annotations

import numpy as np


def float_columns(columns) -> tuple[np.ndarray, ...]:
    out = []
    for c in columns:
        view = np.ascontiguousarray(c, dtype=np.float64).view()
        view.flags.writeable = False
        out.append(view)
    return tuple(out)
