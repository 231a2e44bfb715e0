"""Generator speed: option rows per second written to .sql.gz, against the simulation alone
(the same days simulated without writing) measured in the same run.

    .venv/bin/python benchmarks/generate.py [--days 2 --strikes 20]
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.config import GeneratorConfig  # noqa: E402
from generator.driver import archive_days, generate  # noqa: E402
from generator.market import CarryState, simulate_day  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--strikes", type=int, default=20)
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ticklake-gen-"))
    try:
        generate(GeneratorConfig(out=tmp / "warm", days=1, strikes=1, seed=2, underlyings=("NIFTY",)))  # JIT warm-up
        days, _ = archive_days(dt.date(2025, 11, 3), a.days)
        t = time.perf_counter()
        carry, sim_rows = CarryState(), 0
        for d in days:
            for u in ("BANKNIFTY", "NIFTY"):
                sim_rows += sum(len(o.rows["timestamp"]) for o in simulate_day(u, d, a.strikes, 1, carry).options)
        sim = time.perf_counter() - t
        t = time.perf_counter()
        m = generate(GeneratorConfig(out=tmp / "out", days=a.days, strikes=a.strikes, seed=1))
        full = time.perf_counter() - t
        opt = sum(v for k, v in m["tables"].items() if k.startswith(("das_bankopt", "das_niftyopt")))
        print(f"{a.days} days, BANKNIFTY+NIFTY, ATM+-{a.strikes}: {opt:,} option rows")
        print(f"simulation only : {sim:7.2f} s  {sim_rows / sim:,.0f} rows/s")
        print(f"generate to gz  : {full:7.2f} s  {opt / full:,.0f} option rows/s (one process)  ratio {full / sim:4.2f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
