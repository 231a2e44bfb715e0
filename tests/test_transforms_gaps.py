import datetime as dt

import numpy as np
import pyarrow as pa

from tests.recorder_rows import wall
from transforms.gaps import Instrument, day_gaps
from transforms.pad import padded_grid

D = dt.date(2025, 11, 4)
OPEN, CLOSE = wall(D, "09:15:00"), wall(D, "15:30:00")
CE = Instrument("NIFTY25N0426000CE", "option", dt.date(2025, 11, 4), "CE", 26000)
PE = Instrument("NIFTY25N0426000PE", "option", dt.date(2025, 11, 4), "PE", 26000)


def every(a: str, b: str, day=D) -> np.ndarray:
    return np.arange(wall(day, a), wall(day, b) + 1, dtype=np.int64)


def kinds(gaps):
    return [(g["symbol"][-2:], g["kind"], g["gap_start_s"], g["gap_end_s"], g["seconds"]) for g in gaps]


def test_late_start_intraday_and_early_end_have_exact_bounds():
    ce = np.r_[every("09:20:00", "11:00:00"), every("11:10:00", "15:00:00")]
    pe = every("09:15:00", "15:30:00")
    got = kinds(day_gaps("NIFTY", D, [(CE, ce), (PE, pe)], "NIFTY"))
    assert got == [("CE", "late_start", OPEN, wall(D, "09:20:00"), 300),
                   ("CE", "intraday", wall(D, "11:00:00"), wall(D, "11:10:00"), 600),
                   ("CE", "early_end", wall(D, "15:00:00"), CLOSE, 1800)]


def test_silence_at_the_threshold_is_not_a_gap():
    ce = np.r_[every("09:15:00", "10:00:00"), every("10:01:00", "15:30:00")]  # exactly 60 s apart
    assert day_gaps("NIFTY", D, [(CE, ce)], "NIFTY", min_gap_s=60) == []
    assert kinds(day_gaps("NIFTY", D, [(CE, ce)], "NIFTY", min_gap_s=59))[0][1] == "intraday"


def test_a_whole_underlying_ending_early_is_a_partial_day():
    got = kinds(day_gaps("NIFTY", D, [(CE, every("09:15:00", "13:00:00")), (PE, every("09:15:00", "12:59:30"))], "NIFTY"))
    assert got == [("CE", "partial_day", wall(D, "13:00:00"), CLOSE, CLOSE - wall(D, "13:00:00")),
                   ("PE", "partial_day", wall(D, "12:59:30"), CLOSE, CLOSE - wall(D, "12:59:30"))]


def test_a_trading_day_without_rows_is_one_missing_day_row():
    (g,) = day_gaps("NIFTY", D, [(CE, np.zeros(0, np.int64))], "NIFTY")
    assert (g["symbol"], g["kind"], g["gap_start_s"], g["gap_end_s"]) == ("NIFTY", "missing_day", OPEN, CLOSE)


def test_the_break_between_drill_segments_is_not_a_gap():
    day = dt.date(2024, 3, 2)  # 09:15-10:00 and 11:30-12:30
    ce = np.r_[every("09:15:00", "10:00:00", day), every("11:30:00", "12:30:00", day)]
    assert day_gaps("NIFTY", day, [(CE, ce)], "NIFTY") == []


def _ticks(seconds: list[int], prices: list[float], vol_delta: list[int]) -> pa.Table:
    from warehouse.schema import OPTION_TICKS
    n = len(seconds)
    cols = {f.name: pa.nulls(n, f.type) for f in OPTION_TICKS}
    cols.update(underlying=pa.array(["NIFTY"] * n), expiry=pa.array([CE.expiry] * n, pa.date32()),
                opt_type=pa.array(["CE"] * n), strike=pa.array([26000] * n, pa.int32()),
                symbol=pa.array([CE.symbol] * n), date=pa.array([D] * n, pa.date32()),
                ts=pa.array([(s - 19800) * 1_000_000 for s in seconds], pa.int64()).cast(OPTION_TICKS.field("ts").type),
                price=pa.array(prices, pa.float64()), vol_delta=pa.array(vol_delta, pa.int64()))
    return pa.table(cols, schema=OPTION_TICKS)


def test_grid_starts_at_the_first_real_row_and_carries_values_up_to_the_max_age():
    t = _ticks([wall(D, "15:29:40"), wall(D, "15:29:50")], [100.0, 101.0], [5, 7])
    g = padded_grid(t, D, max_pad_age_s=5).to_pydict()
    assert len(g["ts"]) == 21  # 15:29:40 .. 15:30:00, nothing before the first real row
    assert g["price"][:11] == [100.0] * 6 + [None] * 4 + [101.0]
    assert g["is_pad"][:11] == [False] + [True] * 9 + [False]
    assert g["pad_age_s"][:11] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0]
    assert g["vol_delta"][:11] == [5] + [0] * 9 + [7]
    assert set(g["symbol"]) == {CE.symbol}
