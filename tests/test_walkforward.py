"""Walk-forward over a sweep's runs: windows, the in-sample choice (ties, NaN), the stitched
out-of-sample equity, degradation, on trade legs built so that every answer is known by hand."""
import datetime as dt
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from backtest.reports import walkforward as report
from backtest.walkforward import best, parse_days, walk_forward, windows
from warehouse import schema as S

DAYS = [dt.date(2025, 11, 3) + dt.timedelta(days=k) for k in (0, 1, 2, 3, 4, 7)]   # Mon..Fri, Mon
NET = {"A": [100, 100, -50, 0, 30, 10],      # one leg a day each, Rs 10 fees
       "B": [50, 200, 20, 40, -10, 5],
       "C": [0, 0, 500, -100, 0, 60]}


def legs(name: str) -> pa.Table:
    rows = [{"run_id": name, "trade_id": f"{name}-{d:%Y%m%d}-00000", "leg": 0, "date": d, "net_pnl": float(x),
             "gross_pnl": float(x + 10), "fees": 10.0, "hold_s": 60, "qty": 75, "exit_reason": "target",
             "mfe": 1.0, "mae": 0.5} for d, x in zip(DAYS, NET[name])]
    return pa.Table.from_pylist(rows, schema=S.TRADE_LEGS)


def test_windows_roll_or_anchor_by_the_test_length_and_only_whole_ones_are_made():
    w = windows(DAYS, 2, 1)
    assert [(x.train, x.test) for x in w] == [((DAYS[k], DAYS[k + 1]), (DAYS[k + 2],)) for k in range(4)]
    assert [x.train for x in windows(DAYS, 2, 2, anchored=True)] == [tuple(DAYS[:2]), tuple(DAYS[:4])]
    assert windows(DAYS, 4, 3) == []
    assert parse_days("20d") == 20 and parse_days("5") == 5
    with pytest.raises(ValueError, match="number of trading days"):
        parse_days("2w")


def test_the_best_is_the_highest_or_lowest_nan_last_ties_to_the_first():
    nan = float("nan")
    assert best([nan, 1.0, 1.0], "sharpe") == 1
    assert best([3.0, 1.0, 1.0], "max_drawdown") == 1
    assert best([nan, nan], "net_pnl") == 0


def test_rolling_walk_forward_picks_the_known_in_sample_best_and_stitches_its_out_of_sample_days():
    wf = walk_forward(["A", "B", "C"], [legs(n) for n in "ABC"], DAYS, train=2, test=1)
    # in sample: d0-1 A 200 B 250 C 0 -> B; d1-2 A 50 B 220 C 500 -> C; d2-3 A -50 B 60 C 400 -> C;
    # d3-4 A 30 B 30 C -100 -> A (tie with B: the first in sweep order)
    assert [w.chosen for w in wf.windows] == [1, 2, 2, 0]
    assert [w.scores for w in wf.windows][3] == [30.0, 30.0, -100.0]
    assert [w.out_sample["net_pnl"] for w in wf.windows] == [20.0, -100.0, 0.0, 10.0]
    assert wf.daily() == [(DAYS[2], 20.0, 20.0), (DAYS[3], -100.0, -80.0), (DAYS[4], 0.0, -80.0),
                          (DAYS[5], 10.0, -70.0)]
    assert wf.out_sample["net_pnl"] == -70.0 and wf.out_sample["trades"] == 4
    assert wf.out_sample["max_drawdown"] == 100.0                     # the peak 20 down to -80
    assert wf.windows[0].efficiency == pytest.approx(20 / 125)      # OOS net/day over IS net/day
    text = report.text(wf)
    assert "-70.00" in text
    assert "degradation: in-sample net/day 147.50 (mean over windows), out-of-sample -17.50" in text


def test_anchored_walk_forward_trains_from_the_first_day():
    wf = walk_forward(["A", "B", "C"], [legs(n) for n in "ABC"], DAYS, train=2, test=1, anchored=True)
    # d0-1 B 250; d0-2 C 500 (B 270); d0-3 C 400 (B 310); d0-4 C 400 (B 300)
    assert [w.chosen for w in wf.windows] == [1, 2, 2, 2]
    assert [c for _, _, c in wf.daily()] == [20.0, -80.0, -80.0, -20.0]


def test_a_lower_is_better_metric_and_an_unknown_one():
    wf = walk_forward(["A", "B", "C"], [legs(n) for n in "ABC"], DAYS, train=2, test=2, metric="max_drawdown")
    # d0-1: drawdowns A 0, B 0, C 0 -> A; d2-3: A 50 (-50 then 0), B 0, C 100 -> B
    assert [w.chosen for w in wf.windows] == [0, 1]
    with pytest.raises(ValueError, match="--metric 'nett'"):
        walk_forward(["A"], [legs("A")], DAYS, 2, 1, metric="nett")
    with pytest.raises(ValueError, match="6 days with data: .* needs at least 7"):
        walk_forward(["A"], [legs("A")], DAYS, 4, 3)


def test_the_command_says_how_many_days_it_needs_and_which_metrics_exist(landed):
    _, root, _ = landed

    def tl(*args):
        return subprocess.run([sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), "walkforward",
                               "--strategy", "micro_ema_flip", "--sweep", "exits.target=1.5,2", *args],
                              capture_output=True, text=True)

    r = tl("--underlying", "NIFTY", "--train", "1d", "--test", "1d")
    assert r.returncode == 2 and "NIFTY: 1 trading days with features; --train 1d --test 1d needs at least 2" in r.stderr
    r = tl("--metric", "nett")
    assert r.returncode == 2 and "--metric 'nett': one of trades, " in r.stderr
    r = tl("--train", "2w")
    assert r.returncode == 2 and "'2w': expected a number of trading days, e.g. 20d" in r.stderr


# Kelly sizing: lots = floor(kelly_fraction x tracked capital / (stop 20 x lot 75)); with the
# configured capital of 100,000 fraction 0.15 gives floor(C / 10,000) lots, 0.3 floor(C / 5,000)
KELLY_MOVES = [20.0, 20.0, -10.0, -10.0, 20.0, 20.0]     # rupees per unit each day's one trade makes


def _kelly_days() -> dict:
    from tests.backtest_paths import book, day_of

    out = {}
    for d, move in zip(DAYS, KELLY_MOVES):
        # bought at the ask 100.25 a second after the signal, sold at the bid 100 + move + 0.25 (prices exact in binary)
        t, Q, B = book([[100.0] * 3 + [100.25 + move] * 5], spread=0.25, depth=1e7)
        out[d] = day_of(Q, B, t, date=d)
    return out


def _kelly_strategy():
    from backtest.models import Execution
    from backtest.strategies import Strategy
    from backtest.strategies.base import Exits, Leg, Plan, Risk, StrategyConfig, Strike
    from tests.backtest_paths import NO_FILTERS

    def default() -> StrategyConfig:
        return StrategyConfig("wf_kelly", legs=[Leg("x", "CE", strike=Strike("atm"), side=1)],
                              exits=Exits(stop=20.0, time_stop_s=2), filters=NO_FILTERS,
                              risk=Risk(entry_windows=[("00:00:00", "23:59:59")], max_entries=1, kelly_fraction=0.15,
                                        capital=100_000.0),
                              execution=Execution().with_overrides({"slippage": {"atm": 0.0, "otm": 0.0}}))

    def signals(day, spot, cfg):
        ok = np.zeros(len(day.t_s), bool)
        ok[0] = True
        return Plan.every_second(ok)

    return Strategy("wf_kelly", default, (), signals)


def test_kelly_sized_configs_start_each_window_from_the_configured_capital_and_trade_the_oos_account(
        tmp_path, monkeypatch):
    """Each window's in-sample run of a Kelly config starts from the configured 100,000; the chosen
    config's out-of-sample trades are sized from the stitched out-of-sample account (100,000 +
    the gross P&L of the out-of-sample trades before); fixed-lot configs are never run again."""
    import json

    import backtest.parallel
    import backtest.run
    from backtest.sweep import walk_forward_sweep

    from backtest.sweep_dirs import sweep_running

    days, locked = _kelly_days(), []

    def load(root, u, d, needs):         # hand-made days instead of a warehouse
        locked.append(sweep_running(tmp_path))
        return days[d], {}

    for module in (backtest.run, backtest.parallel):
        monkeypatch.setattr(module, "load_inputs", load)
    s = _kelly_strategy()
    wf = walk_forward_sweep(tmp_path, s, s.default(), ["risk.sizing=kelly,fixed", "risk.kelly_fraction=0.15,0.3"],
                            "NIFTY", DAYS, train=2, test=1, metric="gross_pnl", workers=1)
    # configs: K1 kelly 0.15, K2 kelly 0.3, F fixed 1 lot (twice: the fraction does not size it)
    # W1 d0-1 (the sweep's own run): K1 10 lots x 75 x 20 = 15,000 -> 115,000: 11 lots 16,500; K2 20 lots
    #    30,000 -> 130,000: 26 lots 39,000; F 1,500 + 1,500. -> K2; OOS d2 from 100,000: 20 lots, -15,000
    # W2 d1-2 from 100,000: K1 15,000 then 11 lots -8,250; K2 30,000 then 26 lots -19,500; F 1,500 - 750
    #    -> K2; OOS d3 from 85,000: 17 lots, -12,750
    # W3 d2-3: K1 -7,500 then 9 lots -6,750; K2 -15,000 then 17 lots -12,750; F -750 - 750 -> F (the
    #    first of the tie); OOS d4: the sweep's fixed 1 lot, +1,500
    # W4 d3-4: K1 -7,500 then 9 lots 13,500; K2 -15,000 then 17 lots 25,500; F -750 + 1,500 -> K2; OOS d5
    #    from 72,250 + 1,500 = 73,750: 14 lots, +21,000
    assert [w.scores for w in wf.windows] == [[31_500.0, 69_000.0, 3_000.0, 3_000.0],
                                              [6_750.0, 10_500.0, 750.0, 750.0],
                                              [-14_250.0, -27_750.0, -1_500.0, -1_500.0],
                                              [6_000.0, 10_500.0, 750.0, 750.0]]
    assert [w.chosen for w in wf.windows] == [1, 1, 2, 1]
    assert [w.capital for w in wf.windows] == [100_000.0, 85_000.0, None, 73_750.0]
    assert wf.stitched["qty"].to_pylist() == [1500, 1275, 75, 1050]
    assert wf.stitched["gross_pnl"].to_pylist() == [-15_000.0, -12_750.0, 1_500.0, 21_000.0]
    assert wf.out_sample["gross_pnl"] == -5_250.0
    # runs: the sweep (4 configs x 6 days), the Kelly configs' training days of windows 2-4, and
    # the chosen Kelly config's test day of windows 1, 2 and 4; fixed-lot configs never again
    runs = sorted((len(m["runs"]), tuple(m["days"]))
                  for m in (json.loads(p.read_text()) for p in tmp_path.glob("backtests/sweeps/*/sweep.json")))
    iso = [d.isoformat() for d in DAYS]
    assert runs == sorted([(4, tuple(iso)), (2, tuple(iso[1:3])), (2, tuple(iso[2:4])), (2, tuple(iso[3:5])),
                           (1, (iso[2],)), (1, (iso[3],)), (1, (iso[5],))])
    assert "OOS capital" in report.text(wf) and "73,750.00" in report.text(wf)
    assert len(locked) == 6 + 6 + 3 and all(locked)     # each day read by every run held the lock gc respects
