"""Walk-forward analysis (pure): in-sample / out-of-sample windows over a sweep's days; in each, the
best parameter set in sample by a metric, traded out of sample; the out-of-sample trades stitched.

Windows step by the test length. Rolling: train on the `train` days before each test block;
anchored: train on every day from the first up to it. Only whole windows are made (the days after
the last whole test block are named, not traded).

Every config of the sweep runs once over all the days (backtest.parallel); a window's in-sample and
out-of-sample results are that run's trade legs on the window's days, summarised by the run's own
metrics (backtest.simulate.summarize_run). Days are independent in the engine except for the Kelly
sizing's tracked capital (`risk.sizing = "kelly"`: lots from kelly_fraction x capital), so a config
sized by capital is evaluated as a trader would run it:
- in sample, from its configured `risk.capital` on the window's first training day: the sweep's run
  is exact for windows that start on the sweep's first day (the first rolling window, every anchored
  one); for later windows its training days are run again (`rerun`);
- out of sample, from the stitched out-of-sample account: the configured capital plus the gross P&L
  of the out-of-sample trades before this window (gross: the engine's tracked capital moves by gross
  P&L, in a day and between days, as in a single run); its test days are run again from there.
Fixed-lot and rupee-risk configs keep the one-sweep shortcut: their days do not depend on capital.

Selection: the highest metric value (the lowest for drawdowns and costs, LOWER_IS_BETTER); NaN
(e.g. a Sharpe without trades) ranks last; ties go to the first config in sweep order.
"""
from __future__ import annotations

import datetime as dt
import math
import copy
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backtest.simulate import summarize_run
from backtest.strategies.base import StrategyConfig
from transforms.calendar import session_seconds

LOWER_IS_BETTER = frozenset({"max_drawdown", "max_drawdown_pct", "fees", "fee_share_of_gross", "end_of_data_exits"})


@dataclass(frozen=True)
class Window:
    train: tuple[dt.date, ...]
    test: tuple[dt.date, ...]


def windows(days: list[dt.date], train: int, test: int, anchored: bool = False) -> list[Window]:
    """The whole in-sample/out-of-sample windows over `days` (sorted), stepping by `test` days."""
    if train < 1 or test < 1:
        raise ValueError(f"--train {train}d / --test {test}d: both must be at least 1 day")
    days = sorted(days)
    out = []
    start = train
    while start + test <= len(days):
        out.append(Window(tuple(days[0 if anchored else start - train:start]), tuple(days[start:start + test])))
        start += test
    return out


def parse_days(text: str) -> int:
    """'20d' or '20' -> 20 (trading days with data)."""
    t = text.strip().lower().removesuffix("d")
    if not t.isdigit() or int(t) < 1:
        raise ValueError(f"{text!r}: expected a number of trading days, e.g. 20d")
    return int(t)


def on_days(legs: pa.Table, days: tuple[dt.date, ...]) -> pa.Table:
    """The legs of a run that traded on `days`."""
    return legs.filter(pc.is_in(legs["date"], value_set=pa.array(days, pa.date32())))


def window_metrics(legs: pa.Table, days: tuple[dt.date, ...]) -> dict:
    """A run's metrics restricted to `days` (the run's own summary, as if it had run only then)."""
    session_s = float(np.mean([session_seconds(d) for d in days])) if days else 0.0
    return summarize_run(on_days(legs, days), list(days), session_s)


def best(values: list[float], metric: str) -> int:
    """Index of the best value: highest (lowest for LOWER_IS_BETTER), NaN last, ties to the first."""
    sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
    keyed = [(-math.inf if v is None or math.isnan(v) else sign * v) for v in values]
    return max(range(len(keyed)), key=lambda i: (keyed[i], -i))


@dataclass
class WindowResult:
    window: Window
    chosen: int                  # index of the chosen config in the sweep
    scores: list[float]          # the metric in sample, every config
    in_sample: dict              # the chosen config's metrics in sample
    out_sample: dict             # ... and out of sample
    capital: float | None = None  # the out-of-sample account the chosen config was sized from (None: fixed sizing)

    @property
    def efficiency(self) -> float:
        """Out-of-sample net P&L per day over in-sample net P&L per day (walk-forward efficiency);
        NaN when the in-sample best did not make money (a ratio of losses reads as no degradation)."""
        i = self.in_sample["net_pnl"] / len(self.window.train)
        o = self.out_sample["net_pnl"] / len(self.window.test)
        return o / i if i > 0 else float("nan")


@dataclass
class WalkForward:
    metric: str
    anchored: bool
    labels: list[str]
    windows: list[WindowResult]
    left_out: tuple[dt.date, ...]     # days after the last whole window
    stitched: pa.Table                # the chosen configs' out-of-sample legs, window after window
    out_sample: dict                  # metrics of the stitched out-of-sample trades over every test day

    def daily(self) -> list[tuple[dt.date, float, float]]:
        """(test day, out-of-sample net P&L, cumulative) over every test day: the stitched equity."""
        days = [d for w in self.windows for d in w.window.test]
        net = {d: 0.0 for d in days}
        for d, x in zip(self.stitched["date"].to_pylist(), self.stitched["net_pnl"].to_pylist()):
            net[d] += x
        out, cum = [], 0.0
        for d in days:
            cum += net[d]
            out.append((d, net[d], cum))
        return out


# (config indexes, days, starting capital or None for each config's own) -> each config's trade legs
Rerun = Callable[[list[int], tuple[dt.date, ...], "float | None"], list[pa.Table]]


def sized_by_capital(cfg: StrategyConfig) -> bool:
    """Do the config's lots depend on the tracked capital (Kelly sizing)?"""
    return cfg.risk.sizing == "kelly"


def with_capital(cfg: StrategyConfig, capital: float | None) -> StrategyConfig:
    """A copy of `cfg` whose tracked capital starts at `capital` (None: `cfg` itself)."""
    if capital is None:
        return cfg
    out = copy.deepcopy(cfg)
    out.risk = replace(out.risk, capital=float(capital))
    return out


def capital_rerun(jobs: list[tuple], run: Callable[[list[tuple], list[dt.date]], list[pa.Table]]) -> Rerun:
    """A Rerun over the sweep's (strategy, config) `jobs`: `run(jobs, days)` gives each job's legs
    over `days` (backtest.sweep runs them on the sweep's workers)."""
    def rerun(indexes: list[int], days: tuple[dt.date, ...], capital: float | None) -> list[pa.Table]:
        return run([(jobs[i][0], with_capital(jobs[i][1], capital)) for i in indexes], list(days))
    return rerun


def _gross(legs: pa.Table) -> float:
    return float(pc.sum(legs["gross_pnl"]).as_py() or 0.0) if legs.num_rows else 0.0


def walk_forward(labels: list[str], legs: list[pa.Table], days: list[dt.date], train: int, test: int,
                 anchored: bool = False, metric: str = "net_pnl", *, sized: list[bool] | None = None,
                 rerun: Rerun | None = None, capital: float | None = None) -> WalkForward:
    """Walk forward over the sweep's runs (`legs[i]`: config i's trade legs over `days`, its tracked
    capital carried from the first day). `sized[i]`: config i is sized by the tracked capital; those
    are run again by `rerun` where the sweep's run is not what the window needs (module docstring),
    the out-of-sample account starting at `capital`."""
    wins = windows(days, train, test, anchored)
    if not wins:
        raise ValueError(f"{len(days)} days with data: a walk-forward of --train {train}d --test {test}d needs at "
                         f"least {train + test}")
    sized = list(sized) if sized is not None else [False] * len(legs)
    if any(sized) and (rerun is None or capital is None):
        raise ValueError("walk-forward: configs sized by tracked capital need a rerun and the starting capital")
    first = min(days)
    results, stitched, account = [], [], capital
    for w in wins:
        train_legs = list(legs)
        again = [i for i, s in enumerate(sized) if s] if w.train[0] != first else []
        for i, x in zip(again, rerun(again, w.train, None) if again else []):
            train_legs[i] = x
        scored = [window_metrics(x, w.train) for x in train_legs]
        if metric not in scored[0]:
            raise ValueError(f"--metric {metric!r}: one of {', '.join(sorted(scored[0]))}")
        scores = [float(m[metric]) for m in scored]
        k = best(scores, metric)
        out = on_days(rerun([k], w.test, account)[0] if sized[k] else legs[k], w.test)
        results.append(WindowResult(w, k, scores, scored[k], window_metrics(out, w.test),
                                    account if sized[k] else None))
        stitched.append(out)
        if account is not None:
            account += _gross(out)
    test_days = tuple(d for w in wins for d in w.test)
    table = pa.concat_tables(stitched) if stitched else legs[0].schema.empty_table()
    last = wins[-1].test[-1]
    return WalkForward(metric, anchored, labels, results, tuple(d for d in sorted(days) if d > last), table,
                       window_metrics(table, test_days))
