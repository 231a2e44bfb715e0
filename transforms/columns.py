"""Column helpers: Arrow columns as float64 arrays, columns handed to Numba kernels as one tuple,
and constant Arrow columns."""
from __future__ import annotations

import datetime as dt

import numba as nb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_EPOCH = dt.date(1970, 1, 1)


def float_columns(columns) -> tuple[np.ndarray, ...]:
    """Columns as one tuple for a Numba kernel. A tuple of arrays compiles to a uniform tuple type
    only when every array has the same dtype, layout and writability; Arrow's zero-copy arrays are
    read-only and converted ones are not, so every column becomes a read-only float64 contiguous
    view (a copy only when the dtype differs)."""
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
    offsets = np.arange(n + 1, dtype=np.int32) * np.int32(len(data))
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data * n))


@nb.njit(cache=True, nogil=True)
def _fill_valid(values: np.ndarray, bitmap: np.ndarray, offset: int, out: np.ndarray) -> None:
    """out[j] = values[j] where validity bit offset + j is set, else NaN."""
    for j in range(values.shape[0]):
        b = offset + j
        out[j] = values[j] if (bitmap[b >> 3] >> (b & 7)) & 1 else np.nan


NO_VALIDITY = np.zeros(0, np.uint8)      # an empty bitmap: every value valid


def numeric_parts(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray, int] | None:
    """(values, validity bitmap or NO_VALIDITY, bit offset of value 0) of an integer or float
    Arrow array, zero-copy views of its buffers; None for any other type. Kernels read these
    instead of a converted copy (read-only views)."""
    if not (pa.types.is_integer(chunk.type) or pa.types.is_floating(chunk.type)):
        return None
    validity, data = chunk.buffers()[:2]
    values = np.frombuffer(data, chunk.type.to_pandas_dtype())[chunk.offset:chunk.offset + len(chunk)]
    values.flags.writeable = False            # Arrow buffers are immutable
    if chunk.null_count == 0 or validity is None:
        return values, NO_VALIDITY, 0
    return values, np.frombuffer(validity, np.uint8), chunk.offset


def column_chunks(column: pa.ChunkedArray | pa.Array | np.ndarray):
    """(values, validity, bit offset) of each chunk of an Arrow column, read in place when numeric
    (numeric_parts; otherwise converted by float64_values), or of a numpy array (one chunk)."""
    if isinstance(column, np.ndarray):
        yield column, NO_VALIDITY, 0
        return
    for chunk in column.chunks if isinstance(column, pa.ChunkedArray) else [column]:
        parts = numeric_parts(chunk)
        yield parts if parts is not None else (float64_values(chunk), NO_VALIDITY, 0)


def float64_values(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """A numeric column as float64 with NaN for null, read straight from Arrow's value buffer and
    validity bitmap (Arrow's own conversion of a nullable integer column goes through a masked
    copy at ~3x the cost). A float64 column without nulls comes back zero-copy (read-only)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [numeric_parts(c) for c in chunks]
    if any(p is None for p in parts):
        return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
    if len(parts) == 1 and parts[0][1] is NO_VALIDITY and parts[0][0].dtype == np.float64:
        return parts[0][0]
    out = np.empty(len(column))
    at = 0
    for values, validity, offset in parts:
        n = len(values)
        if validity is NO_VALIDITY:
            out[at:at + n] = values
        else:
            _fill_valid(values, validity, offset, out[at:at + n])
        at += n
    return out


# the columns that name one contract within a partition, per tick table
CONTRACT = {"options": ["expiry", "opt_type", "strike"], "futures": ["expiry"], "spot": [], "equity": []}


def contract_starts(table: pa.Table, keys: list[str]) -> np.ndarray:
    """Row offsets where a new contract begins (table sorted by contract then ts), plus the end."""
    n = table.num_rows
    if n == 0:
        return np.array([0], dtype=np.int64)
    new = np.zeros(n, dtype=bool)
    new[0] = True
    for k in keys:     # Arrow compares strings in C; numpy object arrays would take ~10x longer
        col = table[k]
        changed = pc.not_equal(col.slice(1), col.slice(0, n - 1)).combine_chunks().fill_null(True)
        new[1:] |= changed.to_numpy(zero_copy_only=False)
    return np.r_[np.flatnonzero(new), n]
