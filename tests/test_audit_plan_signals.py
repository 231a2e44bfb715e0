"""The audit and a strategy's own exit signal (found by `make demo` running the whole catalogue):
#5 IV-spike fade and #20 IV pump-and-run close on a signal their plan computes from IV (the
signal second's IV - 3, + 2; three seconds without a rise), not on a condition the config declares,
so the independent replay cannot recompute it. The audit called every such exit an error ("the
leg's rules first met: None", or its time stop "first"). It now takes the plan's signal second as
logged, says so once per leg (info `signal_not_replayed`), and still checks that no price rule or
time stop of the leg was due before it, and that a leg which ignores signals never exits on one."""
import datetime as dt

import pyarrow as pa

from backtest.audit.leg_exits import check_leg_exits
from backtest.audit.series import Market

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
DAY = dt.date(2025, 11, 4)


def at(s: int) -> dt.datetime:
    return dt.datetime(2025, 11, 4, 14, 2, s, tzinfo=IST)


def findings(exits: dict, bids: list[float], exit_at: int = 3, reason: str = "signal_exit") -> list[tuple]:
    """A long bought at 0 (stop 98.5), out by `reason` decided at `exit_at`, on 6 real seconds."""
    n = len(bids)
    grid = pa.table({"symbol": ["X"] * n, "date": [DAY] * n, "ts": [at(s) for s in range(n)], "bid_px0": bids,
                     "ask_px0": [b + 0.1 for b in bids], "price": [b + 0.05 for b in bids], "is_pad": [False] * n,
                     "vol_delta": [75] * n})
    trade = {"run_id": "r", "trade_id": "t", "leg": 0, "side": 1, "symbol": "X", "date": DAY, "leg_name": None,
             "exit_reason": reason, "entry_ts": at(0), "exit_signal_ts": at(exit_at), "exit_ts": at(exit_at + 1),
             "initial_stop": 98.5}
    events = [{"trade_id": "t", "leg": 0, "ts": at(0), "event": "fill", "stop": 98.5, "target": None}]
    config = {"exits": exits, "position": {"session_exit": "15:20:00"}}
    return [(f["check"], f["severity"]) for f in check_leg_exits(Market(grid, None, None), [trade], events, config)]


FLAT = [100.0] * 6


def test_a_plan_signal_exit_is_taken_as_logged_and_said_so():
    assert findings({}, FLAT) == [("signal_not_replayed", "info")]
    # the time stop (30 s) is not due before it either
    assert findings({"time_stop_s": 30}, FLAT) == [("signal_not_replayed", "info")]


def test_a_plan_signal_exit_after_a_price_rule_or_time_stop_was_due_is_still_an_error():
    stopped = [100.0, 100.0, 98.4, 100.0, 100.0, 100.0]          # the stop 98.5 was hit at 2, the exit logged at 3
    assert ("exit_timing", "error") in findings({}, stopped)
    assert ("exit_timing", "error") in findings({"time_stop_s": 2}, FLAT)   # due at 2


def test_a_leg_that_ignores_signals_never_exits_on_one():
    assert ("exit_timing", "error") in findings({"signal": False}, FLAT)


def test_a_declared_condition_is_still_replayed_not_trusted():
    # close_long_when names a feature the audit reads; with no feature rows the condition never held
    assert ("exit_timing", "error") in findings({"close_long_when": {"feature": "spread", "op": ">", "value": 0.7}}, FLAT)
