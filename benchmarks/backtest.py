"""Backtest speed: a DuckDB scan of the feature columns the six strategies read vs the six backtests
(events logged) over the same partitions, one run.

    .venv/bin/python benchmarks/backtest.py [--warehouse ./warehouse]   (after `make demo`)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from backtest.run import available_days, run_backtest, run_many  # noqa: E402
from backtest.strategies import CATALOGUE  # noqa: E402
from warehouse.catalog import connect  # noqa: E402
from warehouse.layout import warehouse_root  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse")
    a = ap.parse_args()
    root = warehouse_root(a.warehouse)
    cols = sorted({c for s in CATALOGUE.values() for c in s.features} | {"ts", "symbol", "bid_px0", "ask_px0", "price"})
    con = connect(root, threads=2)
    t = time.perf_counter()
    rows = con.sql(f"select {', '.join(cols)} from features_options").to_arrow_table().num_rows
    scan = time.perf_counter() - t
    work = [(u, available_days(root, u, None, None)) for u in ("BANKNIFTY", "NIFTY")]
    s0 = CATALOGUE["orb_2min"]
    run_backtest(root, s0, s0.default(), work[0][0], work[0][1][:1], write=False)   # JIT warm-up
    jobs = [(s, s.default()) for s in CATALOGUE.values()]
    t = time.perf_counter()
    runs = [r for u, days in work for r in run_many(root, jobs, u, days, log_events=True, write=False)]
    total = time.perf_counter() - t
    t = time.perf_counter()
    for name, s in CATALOGUE.items():
        for u, days in work:
            run_backtest(root, s, s.default(), u, days, log_events=True, write=False)
    alone = time.perf_counter() - t
    print(f"{rows:,} contract-seconds of features ({len(cols)} columns)")
    print(f"(a) DuckDB scan of the feature columns        : {scan:7.2f} s")
    print(f"(b) six backtests, days read once, events logged: {total:7.2f} s  ratio {total / scan:5.2f}x")
    print(f"    the six run one after another (each reads)  : {alone:7.2f} s  ratio {alone / scan:5.2f}x")
    print(f"    {'strategy':24s} {'engine':>7s}  engine M contract-seconds/s (nearest expiry)")
    for name in CATALOGUE:
        eng = sum(r.engine_s for r in runs if r.strategy == name)
        cells = sum(r.contract_seconds for r in runs if r.strategy == name)
        print(f"    {name:24s} {eng:6.2f}s  {cells / max(eng, 1e-9) / 1e6:7.1f}")


if __name__ == "__main__":
    main()
