"""Arrow <-> numpy column helpers against Arrow's own conversions."""
import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from transforms.columns import constant_column, float64_values


@pytest.mark.parametrize("kind", [pa.int64(), pa.int32(), pa.uint32(), pa.float64(), pa.float32()])
def test_float64_values_match_arrow_with_nulls_offsets_and_chunks(kind):
    rng = np.random.default_rng(7)
    raw = [None if rng.random() < 0.3 else int(v) for v in rng.integers(0, 10_000, 1000)]
    arr = pa.array(raw, kind)
    # sliced chunks: offsets that are not multiples of 8 exercise the validity bitmap's bit offset
    col = pa.chunked_array([arr.slice(3, 500), arr.slice(517, 13), arr.slice(600, 400)])
    want = np.array([np.nan if v is None else float(v) for v in raw[3:503] + raw[517:530] + raw[600:1000]])
    got = float64_values(col)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, want)                   # NaN in the same places, values exact
    np.testing.assert_array_equal(float64_values(arr.slice(5, 50)), np.array(
        [np.nan if v is None else float(v) for v in raw[5:55]]))


def test_float64_values_without_nulls_is_zero_copy_and_other_types_fall_back():
    arr = pa.array([1.5, 2.5, 3.5])
    view = float64_values(arr)
    assert view.tolist() == [1.5, 2.5, 3.5] and not view.flags.writeable
    assert float64_values(pa.array([True, None, False])).tolist()[::2] == [1.0, 0.0]


def test_constant_column_equals_a_repeated_list():
    assert constant_column("BANKNIFTY25NOV53200CE", 1000).equals(pa.array(["BANKNIFTY25NOV53200CE"] * 1000))
    assert constant_column(dt.date(2025, 11, 4), 7).equals(pa.array([dt.date(2025, 11, 4)] * 7, pa.date32()))
    assert constant_column("", 3).equals(pa.array([""] * 3))
