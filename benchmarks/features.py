"""Feature build speed vs a DuckDB scan of the grid columns the build reads, same partitions, in
rounds timed back to back (each round's ratio, then the median: the machine is shared and noisy);
plus IV solves per second on one core and on all, against a Black-Scholes pricing pass of the same
quotes, each the best of --repeat runs.

    .venv/bin/python benchmarks/features.py [--warehouse ./warehouse] [--rounds 3] [--repeat 5]   (after `make demo`)
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

import numba
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from features.build import GRID_DICTIONARY, GRID_INPUTS, build_option_features  # noqa: E402
from features.kernels.greeks import bs_greeks, implied_vol  # noqa: E402
from warehouse.catalog import connect  # noqa: E402
from warehouse.layout import table_dir, warehouse_root  # noqa: E402
from warehouse.writer import read_partition  # noqa: E402


def best_of(repeat: int, fn) -> tuple[float, object]:
    """(fastest wall time, last result) of `repeat` calls."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def build_all(root, keys: list[dict]) -> None:
    for k in keys:
        build_option_features(read_partition(root, "options_grid", k, columns=GRID_INPUTS, dictionary=GRID_DICTIONARY),
                              read_partition(root, "spot_grid", k), dt.date.fromisoformat(k["date"]))


def feature_build(root, rounds: int) -> None:
    parts = sorted(p for p in (table_dir(root, "options_grid")).glob("underlying=*/date=*"))
    if not parts:
        sys.exit(f"no options_grid partitions under {root}: run `make demo` first")
    keys = [{"underlying": p.parent.name.split("=")[1], "date": p.name.split("=")[1]} for p in parts]
    con = connect(root, threads=2)
    build_all(root, keys[:1])                                   # JIT warm-up
    ratios = []
    for k in range(rounds):                  # scan and build back to back: the machine is noisy
        scan, rows = best_of(1, lambda: con.sql(f"select {', '.join(GRID_INPUTS)} from options_grid")
                             .to_arrow_table().num_rows)
        build, _ = best_of(1, lambda: build_all(root, keys))
        ratios.append(build / scan)
        print(f"round {k + 1}: (a) DuckDB scan {scan:5.2f} s   (b) read + build {build:5.2f} s   ratio {ratios[-1]:5.2f}x")
    print(f"{len(keys)} partitions, {rows:,} contract-seconds")
    print(f"(a) DuckDB scan of the {len(GRID_INPUTS)} grid columns the build reads: {scan:7.2f} s  (last round)")
    print(f"(b) read them and build every feature             : {build:7.2f} s  ratio {build / scan:5.2f}x  "
          f"({rows / build:,.0f} rows/s); median of {len(ratios)} rounds {statistics.median(ratios):5.2f}x")


def iv_solver(repeat: int) -> None:
    rng = np.random.default_rng(0)
    n = 2_000_000
    S = np.full(n, 48_000.0)
    K = 48_000 + 100.0 * rng.integers(-20, 21, n)
    T = rng.uniform(300 / (365 * 86400), 30 / 365, n)
    sig = rng.uniform(0.08, 0.40, n)
    call = rng.random(n) < 0.5
    implied_vol(np.ones(4), S[:4], K[:4], T[:4], 0.065, 0.0, call[:4])
    cores = numba.get_num_threads()
    for threads in (1, cores):            # the per-core rate first, then every core
        numba.set_num_threads(threads)
        pricing, price = best_of(repeat, lambda: bs_greeks(S, K, T, 0.065, 0.0, sig, call)[0])
        solve, iv = best_of(repeat, lambda: implied_vol(price, S, K, T, 0.065, 0.0, call))
        err = np.nanmax(np.abs(iv - sig)[price > 1e-3])
        print(f"IV on {threads} core{'s' if threads > 1 else ''}: {n / solve / 1e6:.2f} M solves/s "
              f"({n / solve / 1e6 / threads:.2f} M per core; baseline BS price+greeks {n / pricing / 1e6:.2f} M/s, "
              f"ratio {solve / pricing:.2f}x); max |iv - sigma| {err:.1e} where price > 0.001")
    numba.set_num_threads(cores)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse")
    ap.add_argument("--repeat", type=int, default=5, help="IV: runs per timing; the best is reported")
    ap.add_argument("--rounds", type=int, default=3, help="scan + build pairs, timed back to back")
    a = ap.parse_args()
    iv_solver(a.repeat)
    feature_build(warehouse_root(a.warehouse), a.rounds)


if __name__ == "__main__":
    main()
