"""Every benchmark in benchmarks/, one after another (`make bench`): each prints its own output
as it runs, then a summary repeats every line that gives a ratio against its baseline.

    .venv/bin/python benchmarks/run_all.py [--warehouse DIR]

The feature and backtest benchmarks read a materialised warehouse (`make demo` first); without one
they are reported as skipped, not failed. Exit 1 when a benchmark fails.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from warehouse.layout import table_dir, warehouse_root  # noqa: E402

NEEDS_WAREHOUSE = {"features.py", "backtest.py", "sweep.py", "demo_stages.py"}     # they take --warehouse


def scripts() -> list[Path]:
    return sorted(p for p in HERE.glob("*.py") if p.name != Path(__file__).name and not p.name.startswith("_"))


def materialised(root: Path) -> bool:
    return any(table_dir(root, "features_options").rglob("*.parquet")) if table_dir(root, "features_options").exists() \
        else False


def run(script: Path, root: Path) -> tuple[int, list[str], float]:
    """(exit code, the lines that give a ratio, seconds); the script's output goes to ours as it comes."""
    args = [sys.executable, str(script)] + (["--warehouse", str(root)] if script.name in NEEDS_WAREHOUSE else [])
    t = time.perf_counter()
    ratios = []
    with subprocess.Popen(args, stdout=subprocess.PIPE, text=True, bufsize=1) as p:
        for line in p.stdout:
            print(f"  {line}", end="", flush=True)
            if "ratio" in line:
                ratios.append(line.strip())
    return p.returncode, ratios, time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", help="warehouse root for the feature and backtest benchmarks")
    root = warehouse_root(ap.parse_args().warehouse)
    summary, failed = [], []
    for script in scripts():
        if script.name in NEEDS_WAREHOUSE and not materialised(root):
            summary.append(f"{script.name}: skipped (no features in {root}; run `make demo` first)")
            continue
        print(f"== {script.name}", flush=True)
        code, ratios, seconds = run(script, root)
        if code:
            failed.append(script.name)
            summary.append(f"{script.name}: FAILED (exit {code}) after {seconds:,.0f}s")
            continue
        summary.append(f"{script.name} ({seconds:,.0f}s):" + "".join(f"\n    {r}" for r in ratios or ["no ratio printed"]))
    print("\n== ratios against each benchmark's own baseline, same run")
    print("\n".join(summary))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
