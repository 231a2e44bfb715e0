"""Coverage heatmap: a contract with a row every second of the session is bright in every minute,
the 15:30 column (one second of session) included."""
import datetime as dt

import pyarrow as pa

from expectations.heatmap import coverage_matrix, save_heatmap
from warehouse.clock import IST


def _ticks(day: dt.date, seconds: list[int]) -> pa.Table:
    open_t = dt.datetime.combine(day, dt.time(9, 15), IST)
    ts = [open_t + dt.timedelta(seconds=s) for s in seconds]
    n = len(ts)
    return pa.table({"expiry": pa.array([dt.date(2025, 11, 4)] * n), "opt_type": ["CE"] * n,
                     "strike": pa.array([25_000] * n, pa.int32()), "symbol": ["NIFTY25N0425000CE"] * n,
                     "ts": pa.array(ts, pa.timestamp("us", tz="Asia/Kolkata"))})


def test_a_full_session_is_full_in_every_minute_including_1530(tmp_path):
    day = dt.date(2025, 11, 3)
    names, m = coverage_matrix(_ticks(day, list(range(22_501))), day)      # 09:15:00 .. 15:30:00
    assert names == ["NIFTY25N0425000CE"] and m.shape == (1, 376)
    assert m.min() == 1.0                       # before: the 15:30 column was 1/60, drawn dark as missing
    assert save_heatmap(_ticks(day, list(range(22_501))), day, "t", tmp_path / "h.png").stat().st_size > 1000


def test_missing_seconds_show_as_their_share_of_the_minute():
    day = dt.date(2025, 11, 3)
    seconds = [s for s in range(22_501) if not (60 <= s < 90) and s != 22_500]   # half of 09:16 and 15:30:00 missing
    _, m = coverage_matrix(_ticks(day, seconds), day)
    assert m[0, 1] == 0.5 and m[0, -1] == 0.0 and m[0, 0] == m[0, -2] == 1.0
