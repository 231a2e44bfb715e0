"""Feature build speed vs a DuckDB scan of the grid columns the features read, same partitions, one
run; plus IV solves per second against a vectorised Black-Scholes pricing pass of the same quotes.

    .venv/bin/python benchmarks/features.py [--warehouse ./warehouse]   (after `make demo`)
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.build import build_option_features  # noqa: E402
from features.kernels.greeks import bs_greeks, implied_vol  # noqa: E402
from warehouse.catalog import connect  # noqa: E402
from warehouse.layout import table_dir, warehouse_root  # noqa: E402
from warehouse.writer import read_partition  # noqa: E402

GRID_COLUMNS = ["ts", "expiry", "opt_type", "strike", "price", "vol_delta", "oi", "is_pad",
                *[f"{s}_{f}{k}" for s in ("bid", "ask") for f in ("px", "qty", "orders") for k in range(5)]]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse")
    a = ap.parse_args()
    root = warehouse_root(a.warehouse)
    parts = sorted(p for p in (table_dir(root, "options_grid")).glob("underlying=*/date=*"))
    if not parts:
        sys.exit(f"no options_grid partitions under {root}: run `make demo` first")
    keys = [{"underlying": p.parent.name.split("=")[1], "date": p.name.split("=")[1]} for p in parts]
    con = connect(root, threads=2)
    t = time.perf_counter()
    rows = con.sql(f"select {', '.join(GRID_COLUMNS)} from options_grid").to_arrow_table().num_rows
    scan = time.perf_counter() - t
    import datetime as dt
    build_option_features(read_partition(root, "options_grid", keys[0]).slice(0, 5000),
                          read_partition(root, "spot_grid", keys[0]), dt.date.fromisoformat(keys[0]["date"]))
    t = time.perf_counter()
    for k in keys:
        day = dt.date.fromisoformat(k["date"])
        build_option_features(read_partition(root, "options_grid", k), read_partition(root, "spot_grid", k), day)
    build = time.perf_counter() - t
    print(f"{len(keys)} partitions, {rows:,} contract-seconds")
    print(f"(a) DuckDB scan of the grid columns : {scan:7.2f} s")
    print(f"(b) build every feature             : {build:7.2f} s  ratio {build / scan:5.2f}x  ({rows / build:,.0f} rows/s)")
    rng = np.random.default_rng(0)
    n = 2_000_000
    S = np.full(n, 48_000.0)
    K = 48_000 + 100.0 * rng.integers(-20, 21, n)
    T = rng.uniform(300 / (365 * 86400), 30 / 365, n)
    sig = rng.uniform(0.08, 0.40, n)
    call = rng.random(n) < 0.5
    implied_vol(np.ones(4), S[:4], K[:4], T[:4], 0.065, 0.0, call[:4])
    t = time.perf_counter()
    price = bs_greeks(S, K, T, 0.065, 0.0, sig, call)[0]
    pricing = time.perf_counter() - t
    t = time.perf_counter()
    iv = implied_vol(price, S, K, T, 0.065, 0.0, call)
    solve = time.perf_counter() - t
    err = np.nanmax(np.abs(iv - sig)[price > 1e-3])
    print(f"IV: {n / solve / 1e6:.2f} M solves/s on one core (baseline: BS price+greeks {n / pricing / 1e6:.2f} M/s, "
          f"ratio {solve / pricing:.2f}x); max |iv - sigma| {err:.1e} where price > 0.001")


if __name__ == "__main__":
    main()
