"""The audit's exit timing uses the same executable seconds as its real_quote rule: a second whose
recorded price is null (the recorder's price-0 rows) is not one, even with a book. Found by the
calibrated demo market: a target reached on such a second was filled at the next one by the engine,
and the audit called the exit late."""
import datetime as dt

import pyarrow as pa

from backtest.audit.leg_exits import check_leg_exits
from backtest.audit.series import Market

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
DAY = dt.date(2025, 11, 4)
CONFIG = {"exits": {"signal": False}, "position": {"session_exit": "15:20:00"}}


def at(s: int) -> dt.datetime:
    return dt.datetime(2025, 11, 4, 14, 2, s, tzinfo=IST)


def findings(price_at_2: float | None) -> list[dict]:
    grid = pa.table({"symbol": ["X"] * 4, "date": [DAY] * 4, "ts": [at(0), at(1), at(2), at(3)],
                     "bid_px0": [80.05, 81.0, 82.35, 82.5], "ask_px0": [80.15, 81.1, 82.45, 82.65],
                     "price": [80.05, 81.0, price_at_2, 82.65], "is_pad": [False] * 4, "vol_delta": [75, 75, 0, 75]})
    trade = {"run_id": "r", "trade_id": "t", "leg": 0, "side": 1, "symbol": "X", "date": DAY, "leg_name": None,
             "exit_reason": "target", "entry_ts": at(0), "exit_signal_ts": at(3), "exit_ts": at(3),
             "initial_stop": 78.65}
    events = [{"trade_id": "t", "leg": 0, "ts": at(0), "event": "fill", "stop": 78.65, "target": 82.15}]
    return check_leg_exits(Market(grid, None, None), [trade], events, CONFIG)


def test_a_target_on_a_second_without_a_real_price_is_not_due_until_the_next_real_second():
    assert findings(None) == []


def test_a_target_on_a_real_second_must_fire_there():
    [f] = findings(82.35)
    assert f["check"] == "exit_timing"
    assert f"first met: ({int(at(2).timestamp())}, 'price')" in f["detail"]     # 14:02:02, the real second
