"""Reading one value's rows of a partition: the sorted fast path and the unsorted fallback agree
with a Parquet filter, across row groups."""
import datetime as dt

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from warehouse import writer
from warehouse.writer import PartitionManifest, read_partition, read_partition_rows, write_partition

SCHEMA = pa.schema([("expiry", pa.date32()), ("strike", pa.int32()), ("px", pa.float64()), ("opt_type", pa.string())])
KEYS = {"underlying": "NIFTY", "date": "2025-11-03"}


def _write(root, expiries: list[dt.date | None]) -> None:
    n = len(expiries)
    rows = pa.table({"expiry": expiries, "strike": list(range(n)), "px": [i * 0.05 for i in range(n)],
                     "opt_type": ["CE" if i % 4 else "PE" for i in range(n)]}, schema=SCHEMA)
    write_partition(root, "options_grid", KEYS, rows, SCHEMA, PartitionManifest("options_grid", KEYS, n, "t", "t"))


@pytest.mark.parametrize("order", ["sorted", "interleaved", "null inside a run"])
def test_rows_of_one_value_equal_a_filter(tmp_path, monkeypatch, order):
    monkeypatch.setattr(writer, "ROW_GROUP_ROWS", 1_000)              # several row groups
    a, b, c = dt.date(2025, 11, 4), dt.date(2025, 11, 11), dt.date(2025, 11, 25)
    expiries = [a] * 1500 + [b] * 2300 + [c] * 700
    if order == "interleaved":
        expiries = [[a, b, c][i % 3] for i in range(4500)]
    if order == "null inside a run":
        expiries[2000] = None
    _write(tmp_path, expiries)
    assert pq.ParquetFile(next((tmp_path).rglob("*.parquet"))).metadata.num_row_groups == 5
    for value in (a, b, c, dt.date(2025, 12, 30)):
        got = read_partition_rows(tmp_path, "options_grid", KEYS, ["strike", "px", "opt_type"], "expiry", value,
                                  dictionary=("opt_type",))
        want = read_partition(tmp_path, "options_grid", KEYS, columns=["strike", "px", "opt_type"],
                              filters=[("expiry", "=", value)])
        assert got.column_names == ["strike", "px", "opt_type"]
        assert got.schema.field("opt_type").type == pa.dictionary(pa.int32(), pa.string())
        assert got.to_pydict() == want.to_pydict()
        assert got.num_rows == sum(e == value for e in expiries)
    assert read_partition_rows(tmp_path, "options_grid", {**KEYS, "date": "2025-11-04"}, ["px"], "expiry", a) is None
