"""Staging + assembly on hand-built recorder rows: every fate of a row, reconciliation, re-ingest."""
import datetime as dt


from ingest import staging
from ingest.finalize import finalize_partition
from ingest.skipped import Skipped
from ingest.stage import SourceBatch, stage_batches
from tests.recorder_rows import option_rows, wall
from ingest import normalize as N
from warehouse.catalog import connect

D = dt.date(2025, 11, 4)
TABLE = "NIFTY25N0426000CE"  # weekly NIFTY 2025-11-04 26000 CE


def stage(root, batches, stage_id="run1-s000", source="src.sql.gz"):
    st = staging.Stager(staging.pending_root(root), stage_id, source, f"sha256:of {source}")
    stage_batches(iter(batches), st, 0)
    return st.close()


def ingest(root, batches, **kw):
    runs = []
    for key in stage(root, batches, **kw):
        runs += finalize_partition(root, key)
    return runs


def batch(rows, table=TABLE, db="das_niftyopt"):
    return SourceBatch(db, table, rows, lambda i: f"row {i}")


def sql(root, q):
    return connect(root).sql(q).fetchall()


def test_every_row_is_written_deduped_or_quarantined(tmp_path):
    t = [wall(D, "09:15:00"), wall(D, "09:15:01"), wall(D, "09:15:01"), N.EPOCH_1970_IST, N.EPOCH_1970_IST,
         wall(D, "09:14:59"), wall(D, "15:30:01"), wall(dt.date(2025, 11, 5), "10:00:00")]
    ltt = [t[0], t[1], t[2], wall(D, "09:15:07"), wall(D, "09:15:01"), t[5], t[6], t[7]]
    rows = option_rows(t, [10000, 10005, 10010, 10020, 10030, 9000, 9100, 9200], [15, 30, 45, 60, 75, 0, 0, 0], ltt)
    runs = ingest(tmp_path, [batch(rows)])
    by_part = {r["partition"]: r for r in runs}
    day = by_part["NIFTY/2025-11-04"]
    # 7 rows of the 4th: 2 written + 1 placed 1970 row; 1 deduped (09:15:01 twice); quarantined:
    # pre-open, post-close, the 1970 row whose lastTradeTime second is taken. The 5th is a holiday.
    assert (day["source_rows"], day["written"], day["deduped"], day["quarantined"], day["repaired"]) == (7, 3, 1, 3, 1)
    assert by_part["NIFTY/2025-11-05"]["quarantined"] == 1 and by_part["NIFTY/2025-11-05"]["source_rows"] == 1
    reasons = sorted(r[0] for r in sql(tmp_path, "select reason from quarantine"))
    assert reasons == sorted([N.R_PREOPEN, N.R_POSTCLOSE, N.R_1970_OCCUPIED, N.R_NO_SESSION])
    got = sql(tmp_path, "select strftime(ts, '%H:%M:%S'), price, vol_delta from options_ticks order by ts")
    assert got == [("09:15:00", 100.0, 15), ("09:15:01", 100.1, 30), ("09:15:07", 100.2, 15)]


def test_reconciliation_sums_hold_in_ingest_runs(tmp_path):
    t = [wall(D, "09:15:00"), wall(D, "09:15:00"), 0, N.EPOCH_1970_IST]
    rows = option_rows(t, [10000, 10005, 1, 1], [1, 2, 3, 4], [t[0], t[1], 0, 0])  # 1970 row without lastTradeTime
    runs = ingest(tmp_path, [batch(rows)])
    assert sorted(r["partition"] for r in runs) == ["NIFTY/2025-11-04", "NIFTY/unplaced"]  # never a 1970 partition
    ((src, w, d, q),) = sql(tmp_path, "select sum(source_rows), sum(written), sum(deduped), sum(quarantined) from ingest_runs")
    assert src == 4 and src == w + d + q and (w, d, q) == (1, 1, 2)


def test_zero_price_and_empty_depth_levels_are_null(tmp_path):
    rows = option_rows([wall(D, "09:15:00")], [10000], [10])
    rows["price"][:] = 0
    for k in (3, 4):
        rows[f"bp{k}"][:] = rows[f"bq{k}"][:] = rows[f"bo{k}"][:] = 0
    ingest(tmp_path, [batch(rows)])
    got = sql(tmp_path, "select price, bid_px2, bid_px3, bid_qty3, bid_orders4, ask_px4, ask_qty4 from options_ticks")
    assert got == [(None, 99.85, None, None, None, 100.25, 150)]


def test_vol_delta_is_reset_aware_and_never_negative(tmp_path):
    t = [wall(D, f"09:15:0{i}") for i in range(6)]
    rows = option_rows(t, [10000] * 6, [100, 150, 150, 20, 45, 45])   # counter restarts at the 4th row
    ingest(tmp_path, [batch(rows)])
    assert [r[0] for r in sql(tmp_path, "select vol_delta from options_ticks order by ts")] == [100, 50, 0, 20, 25, 0]


def test_an_unknown_option_table_is_quarantined_and_a_table_without_recorder_columns_skipped(tmp_path):
    rows = option_rows([wall(D, "09:15:00")], [100], [1])
    odd = {"timestamp": rows["timestamp"], "price": rows["price"], "mystery": rows["volume"]}
    st = staging.Stager(staging.pending_root(tmp_path), "run1-s000", "src.sql.gz", "sha")
    skipped = Skipped()
    seen = stage_batches(iter([batch(rows, table="NIFTYXYZ"), batch(odd)]), st, 0, skipped=skipped)
    runs = [r for key in st.close() for r in finalize_partition(tmp_path, key)]
    assert seen == 1 and sum(r["quarantined"] for r in runs) == 1 and sum(r["written"] for r in runs) == 0
    assert [r[0].split(":")[0] for r in sql(tmp_path, "select reason from quarantine")] == ["unknown table"]
    assert skipped.rows() == [{"table_name": f"das_niftyopt.{TABLE}", "rows": 1,
                               "reason": "not the recorder's columns (timestamp, price, mystery)"}]


def test_reingest_gives_identical_rows_and_overlap_gives_the_union(tmp_path):
    a = option_rows([wall(D, "09:15:00"), wall(D, "09:15:01")], [10000, 10005], [1, 2])
    b = option_rows([wall(D, "09:15:01"), wall(D, "09:15:02")], [10005, 10010], [2, 3])
    q = "select ts, price, volume, vol_delta from options_ticks order by ts"
    ingest(tmp_path, [batch(a)], stage_id="r1-s000")
    first = sql(tmp_path, q)
    ingest(tmp_path, [batch(a)], stage_id="r2-s000")
    assert sql(tmp_path, q) == first
    ingest(tmp_path, [batch(b)], stage_id="r3-s000", source="other.sql.gz")
    assert [r[1] for r in sql(tmp_path, q)] == [100.0, 100.05, 100.1]


def test_uncommitted_stage_is_ignored_and_swept_once_its_writer_is_gone(tmp_path):
    pending = staging.pending_root(tmp_path)
    st = staging.Stager(pending, "dead-s000", "x.sql.gz", "sha")
    stage_batches(iter([batch(option_rows([wall(D, "09:15:00")], [100], [1]))]), st, 0)
    st._flush(("options", "NIFTY", D))  # files written, never committed
    assert staging.pending_keys(pending) == []
    assert finalize_partition(tmp_path, ("options", "NIFTY", D)) == []
    staging.sweep(pending)               # its writer still runs (holds its lock): left alone
    assert any(p.name.startswith("dead-s000.f") for p in pending.rglob("*"))
    st._lock.release()                   # the writer dies (the kernel drops its lock)
    staging.sweep(pending)
    assert not pending.exists()


def test_a_worker_whose_parent_is_gone_deletes_its_stage_instead_of_committing(tmp_path):
    import os

    import pytest

    pending = staging.pending_root(tmp_path)
    st = staging.Stager(pending, "orphan-s000", "x.sql.gz", "sha")
    stage_batches(iter([batch(option_rows([wall(D, "09:15:00")], [100], [1]))]), st, 0)
    staging.set_parent(os.getppid() + 1)          # started by a process that is not its parent any more
    try:
        with pytest.raises(staging.ParentGone):
            st.close()
    finally:
        staging.set_parent(None)
    assert staging.committed(pending) == {} and not any(p.is_file() for p in pending.rglob("*"))
