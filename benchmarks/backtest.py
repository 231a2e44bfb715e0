"""Backtest speed: a DuckDB scan of the feature columns the six strategies read vs the six backtests
(events logged) over the same partitions, in rounds timed back to back (the machine is shared and
noisy: each round's ratio is printed, then the median). Kernels are compiled (or loaded from
Numba's cache) by a warm-up run of the six on one day first.

    .venv/bin/python benchmarks/backtest.py [--warehouse ./warehouse]   (after `make demo`)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backtest.run import available_days, load_inputs, run_backtest, run_each  # noqa: E402
from backtest.simulate import simulate_day  # noqa: E402
from backtest.strategies import CATALOGUE  # noqa: E402
from warehouse.catalog import connect  # noqa: E402
from warehouse.layout import warehouse_root  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse")
    ap.add_argument("--rounds", type=int, default=3, help="scan + backtests pairs, timed back to back")
    a = ap.parse_args()
    root = warehouse_root(a.warehouse)
    cols = sorted({c for s in CATALOGUE.values() for c in s.features} | {"ts", "symbol", "bid_px0", "ask_px0", "price"})
    con = connect(root, threads=2)
    work = [(u, available_days(root, u, None, None)) for u in ("BANKNIFTY", "NIFTY")]
    jobs = [(s, s.default()) for s in CATALOGUE.values()]
    run_each(root, jobs, {work[0][0]: work[0][1][:1]}, write=False)   # JIT warm-up: the six on one day
    ratios = []
    for k in range(a.rounds):
        t = time.perf_counter()
        rows = con.sql(f"select {', '.join(cols)} from features_options").to_arrow_table().num_rows
        scan = time.perf_counter() - t
        t = time.perf_counter()
        runs = [r for rs in run_each(root, jobs, dict(work), log_events=True, write=False).values() for r in rs]
        total = time.perf_counter() - t
        ratios.append(total / scan)
        print(f"round {k + 1}: (a) DuckDB scan {scan:5.2f} s   (b) six backtests {total:5.2f} s   ratio {ratios[-1]:5.2f}x")
    t = time.perf_counter()
    for name, s in CATALOGUE.items():
        for u, days in work:
            run_backtest(root, s, s.default(), u, days, log_events=True, write=False)
    alone = time.perf_counter() - t
    print(f"{rows:,} contract-seconds of features ({len(cols)} columns)")
    print(f"(a) DuckDB scan of the feature columns        : {scan:7.2f} s  (last round)")
    print(f"(b) six backtests, days read once, events logged: {total:7.2f} s  ratio {total / scan:5.2f}x; "
          f"median of {len(ratios)} rounds {statistics.median(ratios):5.2f}x")
    print(f"    the six run one after another (each reads)  : {alone:7.2f} s  ratio {alone / scan:5.2f}x")
    alone_rate = engine_alone(root, work)
    print(f"    {'strategy':24s} {'in (b)':>7s}  M contract-s/s in (b), loaders running | one core, days in memory")
    for name in CATALOGUE:
        eng = sum(r.engine_s for r in runs if r.strategy == name)
        cells = sum(r.contract_seconds for r in runs if r.strategy == name)
        print(f"    {name:24s} {eng:6.2f}s  {cells / max(eng, 1e-9) / 1e6:7.1f}"
              f"{alone_rate[name] / 1e6:41.1f}")


def engine_alone(root, work) -> dict[str, float]:
    """Contract-seconds per second of each strategy's signals + engine + trade rows + fees on days
    already in memory, nothing else running (the per-core engine rate), best of two passes."""
    names = sorted(set().union(*(s.features for s in CATALOGUE.values())) | {"price"})
    spot_names = tuple(sorted(set().union(*(s.spot_features for s in CATALOGUE.values()))))
    days = [x for u, ds in work for d in ds if (x := load_inputs(root, u, d, names, spot_names)) is not None]
    rate = {}
    for name, s in CATALOGUE.items():
        cfg = s.default()
        best = float("inf")
        for _ in range(2):
            t = time.perf_counter()
            for data, spot in days:
                simulate_day(s, cfg, data, "bench", True, spot)
            best = min(best, time.perf_counter() - t)
        rate[name] = sum(d.Q.shape[0] * d.Q.shape[1] for d, _ in days) / best
    return rate


if __name__ == "__main__":
    main()
