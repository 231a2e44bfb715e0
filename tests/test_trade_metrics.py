"""Per-trade run metrics on hand-made legs: trades (legs together), breakevens apart from wins and
losses, per-trade Sharpe, MFE/MAE in rupees, and the share of trades touching a padded second read
from a features_options partition (the leaderboard's definition)."""
import datetime as dt
import math

import pyarrow as pa
import pytest

from backtest.padded import padded_trades
from backtest.run import partition_version
from backtest.simulate import summarize_run
from warehouse import schema as S
from warehouse.writer import PartitionManifest, write_partition

DAY = dt.date(2025, 11, 3)


def ts(hh, mm, ss):
    return dt.datetime(2025, 11, 3, hh, mm, ss)


def leg(tid, n, net, qty, mfe, mae, symbol="NIFTY25N0625000CE", entry=(10, 0, 0), exit_=(10, 5, 0)):
    return {"run_id": "r", "trade_id": tid, "leg": n, "underlying": "NIFTY", "date": DAY, "symbol": symbol,
            "qty": qty, "net_pnl": net, "gross_pnl": net + 5.0, "fees": 5.0, "hold_s": 300, "mfe": mfe, "mae": mae,
            "exit_reason": "target", "entry_ts": ts(*entry), "exit_ts": ts(*exit_)}


LEGS = pa.Table.from_pylist([
    leg("t1", 0, 100.0, 75, 2.0, -0.5),                       # a win
    leg("t2", 0, 2.0, 75, 0.4, -0.2),                         # |2| <= 0.05 x 75 = 3.75: breakeven
    leg("t3", 0, -50.0, 75, 0.1, -1.0, "NIFTY25N0625000PE"),  # a two-leg trade: -50 + 47 = -3 over 150
    leg("t3", 1, 47.0, 75, 1.0, -0.3, "NIFTY25N0625000PE", (10, 6, 0), (10, 9, 0)),   # units: b/e (<= 7.5)
    leg("t4", 0, -40.0, 75, 0.0, -0.8),                       # a loss
], schema=S.TRADE_LEGS)


def test_trades_are_counted_with_breakevens_apart_and_excursions_in_rupees():
    m = summarize_run(LEGS, [DAY], 22_500.0)
    assert m["trades"] == 5                                   # legs, as before
    assert (m["trade_count"], m["trade_wins"], m["trade_losses"], m["trade_breakevens"]) == (4, 1, 1, 2)
    nets = [100.0, 2.0, -3.0, -40.0]
    mean = sum(nets) / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in nets) / 3)
    assert m["sharpe_per_trade"] == pytest.approx(mean / sd)
    assert m["avg_mfe"] == pytest.approx((2.0 * 75 + 0.4 * 75 + (0.1 + 1.0) * 75 + 0.0) / 4)
    assert m["avg_mae"] == pytest.approx((-0.5 - 0.2 - 1.3 - 0.8) * 75 / 4)
    assert math.isnan(m["padded_share"])                       # not known without the warehouse
    empty = summarize_run(S.TRADE_LEGS.empty_table(), [DAY], 22_500.0, padded_trades=0)
    assert empty["trade_count"] == 0 and math.isnan(empty["sharpe_per_trade"]) and math.isnan(empty["padded_share"])


def test_the_padded_share_counts_trades_with_a_padded_second_between_entry_and_exit(tmp_path):
    rows = [{"underlying": "NIFTY", "date": DAY, "symbol": "NIFTY25N0625000CE", "ts": ts(10, 5, 0), "is_pad": True},
            {"underlying": "NIFTY", "date": DAY, "symbol": "NIFTY25N0625000CE", "ts": ts(10, 6, 0), "is_pad": True},
            {"underlying": "NIFTY", "date": DAY, "symbol": "NIFTY25N0625000PE", "ts": ts(10, 5, 30), "is_pad": False},
            {"underlying": "NIFTY", "date": DAY, "symbol": "NIFTY25N0625000PE", "ts": ts(10, 9, 1), "is_pad": True}]
    keys = {"underlying": "NIFTY", "date": DAY}
    table = pa.Table.from_pylist(rows, schema=S.FEATURES_OPTIONS.remove_metadata())
    write_partition(tmp_path, "features_options", keys, table, S.FEATURES_OPTIONS,
                    PartitionManifest("features_options", {k: str(v) for k, v in keys.items()}, 0, "x", "test"))
    versions = {("NIFTY", DAY): partition_version(tmp_path, "features_options", keys)}
    # the CE pad at 10:05:00 is each CE leg's exit second (t1, t2, t4: touched, the bound is included);
    # 10:06:00 is no CE leg's; t3's PE legs see a real row at 10:05:30 and a pad at 10:09:01, after the exit
    assert padded_trades(tmp_path, LEGS, versions) == 3
    m = summarize_run(LEGS, [DAY], 22_500.0, padded_trades=3)
    assert m["padded_share"] == 0.75


def test_win_rate_expectancy_and_profit_factor_count_a_multi_leg_trade_once():
    """A straddle is one trade: its legs' net P&L summed before it counts as a win or a loss."""
    legs = pa.Table.from_pylist([
        leg("s1", 0, 100.0, 75, 1.0, -1.0), leg("s1", 1, -40.0, 75, 1.0, -1.0, "NIFTY25N0625000PE"),   # +60: a win
        leg("s2", 0, 30.0, 75, 1.0, -1.0), leg("s2", 1, -80.0, 75, 1.0, -1.0, "NIFTY25N0625000PE"),    # -50: a loss
        leg("x3", 0, 10.0, 75, 1.0, -1.0),                                                          # +10: a win
    ], schema=S.TRADE_LEGS)
    m = summarize_run(legs, [DAY], 22_500.0)
    # per leg it was 3 wins of 5 legs, 4.00 a leg, PF 140 / 120
    assert m["trades"] == 5 and m["trade_count"] == 3
    assert m["win_rate"] == 2 / 3
    assert m["expectancy"] == pytest.approx(20.0 / 3)
    assert m["profit_factor"] == 70.0 / 50.0
    only_wins = summarize_run(legs.slice(4), [DAY], 22_500.0)
    assert (only_wins["win_rate"], only_wins["expectancy"], only_wins["profit_factor"]) == (1.0, 10.0, math.inf)
    none = summarize_run(S.TRADE_LEGS.empty_table(), [DAY], 22_500.0)
    assert all(math.isnan(none[k]) for k in ("win_rate", "expectancy", "profit_factor"))
