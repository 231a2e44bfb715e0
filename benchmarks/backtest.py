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

from backtest.run import available_days, run_backtest  # noqa: E402
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
    per = {}
    t = time.perf_counter()
    for name, s in CATALOGUE.items():
        t1 = time.perf_counter()
        runs = [run_backtest(root, s, s.default(), u, days, log_events=True, write=False) for u, days in work]
        per[name] = (time.perf_counter() - t1, sum(r.engine_s for r in runs), sum(r.contract_seconds for r in runs))
    total = time.perf_counter() - t
    print(f"{rows:,} contract-seconds of features ({len(cols)} columns)")
    print(f"(a) DuckDB scan of the feature columns : {scan:7.2f} s")
    print(f"(b) six backtests, events logged        : {total:7.2f} s  ratio {total / scan:5.2f}x")
    print(f"    {'strategy':24s} {'wall':>7s} {'engine':>7s}  engine M contract-seconds/s (nearest expiry)")
    for name, (el, eng, cells) in per.items():
        print(f"    {name:24s} {el:6.2f}s {eng:6.2f}s  {cells / max(eng, 1e-9) / 1e6:7.1f}")


if __name__ == "__main__":
    main()
