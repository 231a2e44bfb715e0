"""Backtest speed: a DuckDB scan of the feature columns the strategies read vs their backtests
(events logged) over the same partitions, in rounds timed back to back (the machine is shared and
noisy: each round's ratio is printed, then the median). The strategies: the six the position
engine replaced two kernels for, plus the guarded-straddle variants 2A-2D. Kernels are compiled
(or loaded from Numba's cache) by a warm-up run on one day first.

Then the engine rate on one core: contract-seconds (seconds x contracts loaded for the day) per
second of each strategy's signals + engine + trade rows + fees, days already in memory, nothing
else running; target >= 20 M/s for single-leg shapes and >= 8 M/s for multi-leg ones.

    .venv/bin/python benchmarks/backtest.py [--warehouse ./warehouse]   (after `make demo`)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backtest.run import Needs, available_days, load_inputs, run_backtest, run_each  # noqa: E402
from backtest.simulate import simulate_day  # noqa: E402
from backtest.strategies import CATALOGUE, ORIGINAL_SIX  # noqa: E402
from warehouse.catalog import connect  # noqa: E402
from warehouse.layout import warehouse_root  # noqa: E402

VARIANTS = ("guarded_strangle_2a", "guarded_hedged_2b", "guarded_delta_flat_2c", "guarded_ladder_2d")
STRATEGIES = (*ORIGINAL_SIX, *VARIANTS)
SINGLE_LEG_TARGET, MULTI_LEG_TARGET = 20e6, 8e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse")
    ap.add_argument("--rounds", type=int, default=3, help="scan + backtests pairs, timed back to back")
    ap.add_argument("--all", dest="whole", action="store_true",
                    help="the whole catalogue (issue #17: target <= 10x the scan) instead of the ten")
    a = ap.parse_args()
    root = warehouse_root(a.warehouse)
    names = tuple(CATALOGUE) if a.whole else STRATEGIES
    jobs = [(CATALOGUE[n], CATALOGUE[n].default()) for n in names]
    needs = Needs.of(jobs)
    cols = sorted(set(needs.features) | {"ts", "symbol", "expiry", "opt_type", "strike", "bid_px0", "ask_px0", "price",
                                         "vol_delta", "is_pad", "bid_qty0", "ask_qty0"})
    con = connect(root, threads=2)
    work = [(u, d) for u in ("BANKNIFTY", "NIFTY") if (d := available_days(root, u, None, None))]
    run_each(root, jobs, {work[0][0]: work[0][1][:1]}, write=False)   # JIT warm-up: every strategy on one day
    ratios = []
    for k in range(a.rounds):
        t = time.perf_counter()
        rows = con.sql(f"select {', '.join(cols)} from features_options").to_arrow_table().num_rows
        scan = time.perf_counter() - t
        t = time.perf_counter()
        runs = [r for rs in run_each(root, jobs, dict(work), log_events=True, write=False).values() for r in rs]
        total = time.perf_counter() - t
        ratios.append(total / scan)
        print(f"round {k + 1}: (a) DuckDB scan {scan:5.2f} s   (b) {len(jobs)} backtests {total:5.2f} s   "
              f"ratio {ratios[-1]:5.2f}x")
    t = time.perf_counter()
    for s, cfg in jobs:
        for u, days in work:
            run_backtest(root, s, cfg, u, days, log_events=True, write=False)
    alone = time.perf_counter() - t
    legs = sum(r.legs.num_rows for r in runs)
    print(f"{rows:,} rows of features_options ({len(cols)} columns) over {sum(len(d) for _, d in work)} underlying-days; "
          f"{legs:,} trade legs")
    print(f"(a) DuckDB scan of the feature columns            : {scan:7.2f} s  (last round)")
    print(f"(b) {len(jobs)} backtests, days read once, events logged: {total:7.2f} s  ratio {total / scan:5.2f}x; "
          f"median of {len(ratios)} rounds {statistics.median(ratios):5.2f}x  (target <= {10 if a.whole else 2}x)")
    print(f"    the {len(jobs)} run one after another (each reads) : {alone:7.2f} s  ratio {alone / scan:5.2f}x")
    alone_rate = engine_alone(root, work, jobs, needs)
    print(f"    {'strategy':28s} {'legs':>5s} {'in (b)':>7s}  M contract-s/s in (b), loaders running | "
          f"one core, days in memory (target)")
    for s, cfg in jobs:
        eng = sum(r.engine_s for r in runs if r.strategy == s.name)
        cells = sum(r.contract_seconds for r in runs if r.strategy == s.name)
        n = sum(r.legs.num_rows for r in runs if r.strategy == s.name)
        target = SINGLE_LEG_TARGET if len(cfg.legs) == 1 else MULTI_LEG_TARGET
        print(f"    {s.name:28s} {n:5d} {eng:6.2f}s  {cells / max(eng, 1e-9) / 1e6:7.1f}"
              f"{alone_rate[s.name] / 1e6:41.1f}  (>= {target / 1e6:.0f}: {'ok' if alone_rate[s.name] >= target else 'BELOW'})")


def engine_alone(root, work, jobs, needs: Needs) -> dict[str, float]:
    """Contract-seconds per second of each strategy's signals + engine + trade rows + fees on days
    already in memory, nothing else running (the per-core engine rate), best of two passes."""
    days = [x for u, ds in work for d in ds if (x := load_inputs(root, u, d, needs)) is not None]
    for data, _ in days:
        if data.depth_source is not None:    # the 5 levels read up front: a walk past the touch
            data.load_depth()                # must not count a Parquet read as engine time
    rate = {}
    for s, cfg in jobs:
        best = float("inf")
        for _ in range(2):
            t = time.perf_counter()
            for data, spot in days:
                simulate_day(s, cfg, data, "bench", True, spot)
            best = min(best, time.perf_counter() - t)
        rate[s.name] = sum(d.Q.shape[0] * d.Q.shape[1] for d, _ in days) / best
    return rate


if __name__ == "__main__":
    main()
