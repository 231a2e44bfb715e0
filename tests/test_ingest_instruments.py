"""Instruments as the recorder names and times them: canonical symbols, look-alike names, session
segments of index and futures rows, the session grid and gaps, quarantine rows that cannot be
misread. Hand-built recorder rows through staging and finalize (no server)."""
import datetime as dt
import json

import numpy as np
import pyarrow as pa

from ingest import normalize as N
from ingest import staging
from ingest.finalize import finalize_partition
from ingest.route import R_NOT_ASCII
from ingest.stage import SourceBatch, stage_batches
from tests.recorder_rows import option_rows, wall
from transforms.gaps import gaps_table
from transforms.pad import coverage_rows, padded_grid
from warehouse.catalog import connect
from warehouse.clock import wall_to_ts_us

D = dt.date(2025, 11, 4)


def ingest(root, batches):
    st = staging.Stager(staging.pending_root(root), "run1-s000", "src.sql.gz", "sha")
    stage_batches(iter(batches), st, 0)
    return [r for key in st.close() for r in finalize_partition(root, key)]


def batch(rows, table, db):
    return SourceBatch(db, table, rows, lambda i: f"row {i}")


def sql(root, q):
    return connect(root).sql(q).fetchall()


def index_rows(times: list[str], day=D) -> dict:
    n = len(times)
    return {"timestamp": np.array([wall(day, t) for t in times], np.int64),
            "price": np.arange(2500000, 2500000 + n, dtype=np.int64)}


def test_index_and_futures_rows_outside_the_session_are_kept_with_their_segment(tmp_path):
    """Index pre-open (09:00-09:08) and post-close values are real prices; an option has none."""
    times = ["09:07:30", "09:15:00", "15:30:00", "15:35:10"]
    ts = [wall(D, t) for t in times]
    runs = ingest(tmp_path, [batch(index_rows(times), "NIFTY", "das_nse"),
                             batch(option_rows(ts, [2510000] * 4, [75, 150, 225, 300]), "NIFTYFUT", "das_nse"),
                             batch(option_rows(ts, [10000] * 4, [75, 150, 225, 300]), "NIFTY25N0426000CE", "das_niftyopt")])
    want = [("09:07:30", "pre_open"), ("09:15:00", "regular"), ("15:30:00", "regular"), ("15:35:10", "post_close")]
    assert sql(tmp_path, "select strftime(ts, '%H:%M:%S'), session from spot_ticks order by ts") == want
    assert sql(tmp_path, "select strftime(ts, '%H:%M:%S'), session from futures_ticks order by ts") == want
    assert sql(tmp_path, "select strftime(ts, '%H:%M:%S') from options_ticks order by ts") == [("09:15:00",), ("15:30:00",)]
    assert sorted(r[0] for r in sql(tmp_path, "select reason from quarantine")) == sorted([N.R_POSTCLOSE, N.R_PREOPEN])
    assert sum(r["written"] for r in runs) == 10 and sum(r["quarantined"] for r in runs) == 2


def _spot(times: list[str], day=D) -> pa.Table:
    secs = np.array([wall(day, t) for t in times], np.int64)
    n = len(secs)
    return pa.table({"underlying": pa.array(["NIFTY"] * n), "ts": wall_to_ts_us(secs),
                     "date": pa.array([day] * n, pa.date32()),
                     "session": pa.array(["pre_open" if t < "09:15" else "post_close" if t > "15:30" else "regular"
                                          for t in times]),
                     "price": pa.array(np.linspace(25000, 25100, n))})


def test_the_grid_gaps_and_coverage_stay_inside_the_session(tmp_path):
    """A pre-open value neither starts the padded grid nor fills 09:15; a post-close value hides
    no early end; neither counts as session coverage."""
    spot = _spot(["09:07:30", "09:17:00", "09:17:01", "15:00:00", "15:40:00"])
    grid = padded_grid(spot, D, "spot")
    first = grid.slice(0, 1).to_pylist()[0]
    assert first["ts"].strftime("%H:%M:%S") == "09:17:00" and first["is_pad"] is False
    assert grid.num_rows == wall(D, "15:30:00") - wall(D, "09:17:00") + 1
    assert grid["price"][0].as_py() == spot["price"][1].as_py()
    gaps = gaps_table("NIFTY", D, None, None, spot, "NIFTY").to_pylist()
    assert [(g["kind"], g["gap_start"].strftime("%H:%M:%S"), g["gap_end"].strftime("%H:%M:%S")) for g in gaps] == [
        ("late_start", "09:15:00", "09:17:00"), ("intraday", "09:17:01", "15:00:00"), ("partial_day", "15:00:00", "15:30:00")]
    (cov,) = coverage_rows(spot, D, "spot")
    assert cov["real_rows"] == 3 and cov["last_ts"].strftime("%H:%M:%S") == "15:00:00"


def test_symbol_is_the_canonical_upper_case_name_and_source_table_the_recorder_name(tmp_path):
    t1, t2 = [wall(D, "09:15:00")], [wall(D, "09:15:01")]
    ingest(tmp_path, [batch(option_rows(t1, [10000], [30]), "banknifty25nov54400ce", "das_bankopt"),
                      batch(option_rows(t2, [10005], [60]), "BANKNIFTY25NOV54400CE", "das_bankopt")])
    got = sql(tmp_path, "select symbol, source_table, strftime(ts, '%H:%M:%S'), vol_delta from options_ticks "
                        "where symbol = 'BANKNIFTY25NOV54400CE' order by ts")
    assert got == [("BANKNIFTY25NOV54400CE", "banknifty25nov54400ce", "09:15:00", 30),
                   ("BANKNIFTY25NOV54400CE", "BANKNIFTY25NOV54400CE", "09:15:01", 30)]


def test_unicode_look_alikes_of_contract_names_are_quarantined_not_read_as_contracts(tmp_path):
    rows = option_rows([wall(D, "09:15:00")], [10000], [75])
    names = ["NIFTY\u0662\u0665NOV24900CE", "N\u0131FTY25NOV24900CE", "NIFTY25NOV24900CE\n"]
    runs = ingest(tmp_path, [batch(rows, n, "das_niftyopt") for n in names])
    assert sum(r["written"] for r in runs) == 0 and sum(r["quarantined"] for r in runs) == 3
    reasons = [r[0] for r in sql(tmp_path, "select reason from quarantine order by position, reason")]
    assert reasons.count(R_NOT_ASCII) == 2 and reasons[0].startswith(("unknown table", R_NOT_ASCII))
    assert sql(tmp_path, "select count(*) from options_ticks") == [(0,)]


def test_quarantined_times_are_iso_text_with_the_zone(tmp_path):
    """A local-clock number (1762228499) reads as an epoch 5 h 30 min off; ISO text with +05:30 cannot."""
    t = wall(D, "09:14:59")
    ingest(tmp_path, [batch(option_rows([t], [10000], [75], [t - 1]), "NIFTY25N0426000CE", "das_niftyopt")])
    ((reason, raw),) = sql(tmp_path, "select reason, raw from quarantine")
    row = json.loads(raw)
    assert reason == N.R_PREOPEN
    assert (row["timestamp"], row["lastTradeTime"]) == ("2025-11-04T09:14:59+05:30", "2025-11-04T09:14:58+05:30")
    assert dt.datetime.fromisoformat(row["timestamp"]).timestamp() == t - 19800


def test_no_generated_symbol_is_stored_in_lower_case(warehouse):
    """The demo archive names about one contract in seven in the old lower-case style."""
    ((lower_tables, not_upper, n),) = sql(warehouse, "select count(distinct source_table) filter (source_table <> upper(source_table)),"
                                                     " count(*) filter (symbol <> upper(symbol)), count(distinct symbol) "
                                                     "from options_ticks")
    assert lower_tables > 0 and not_upper == 0 and n > 10
