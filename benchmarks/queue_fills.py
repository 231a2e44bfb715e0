"""Queue model vs the full-fill rule (issue #18): what the queue of resting limits costs in engine
time and what it changes in fills and P&L.

(1) Cost: every runnable strategy of the catalogue on the demo days already in memory (the 5 levels
loaded up front, so no Parquet read counts), signals + engine + trade rows + fees, the default
queue model (risk_averse) and the full-fill rule alternating round by round in one process (the
machine is shared and noisy); each round's ratio is printed, then the median (target <= 1.3x).
(2) The table: each strategy's filled legs, partly filled legs and net P&L with the queue model
vs the full-fill rule, everything else at today's defaults (zero-brokerage broker, Rs 0.15/0.30
slippage crossing the spread).

    .venv/bin/python benchmarks/queue_fills.py [--warehouse ./warehouse] [--rounds 3]   (after `make demo`)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tabulate import tabulate  # noqa: E402

from backtest.models import FullFillQueue, ProbQueue, RiskAverseQueue  # noqa: E402
from backtest.run import Needs, available_days, load_inputs  # noqa: E402
from backtest.simulate import simulate_day  # noqa: E402
from backtest.strategies import CATALOGUE  # noqa: E402
from warehouse.layout import warehouse_root  # noqa: E402

MODELS = {"risk_averse": RiskAverseQueue(), "full_fill": FullFillQueue(), "prob": ProbQueue()}
TARGET = 1.3


def with_queue(cfg, queue):
    """A copy of the config with another queue model (nothing else changed)."""
    out = replace(cfg)
    out.execution = replace(cfg.execution, queue=queue)
    return out


def run_all(days, jobs) -> tuple[float, dict]:
    """Seconds for every job on every day, and per strategy (filled legs, partial legs, net P&L)."""
    out = {}
    t = time.perf_counter()
    for s, cfg in jobs:
        legs = partial = 0
        net = 0.0
        for data, spot in days:
            r = simulate_day(s, cfg, data, "bench", True, spot).legs
            legs += r.num_rows
            partial += sum(r["partial_fill"].to_pylist())
            net += sum(r["net_pnl"].to_pylist())
        out[s.name] = (legs, partial, net)
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--warehouse")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    root = warehouse_root(a.warehouse)
    base = [(s, s.default()) for s in CATALOGUE.values()]
    needs = Needs.of(base)
    work = [(u, d) for u in ("BANKNIFTY", "NIFTY") for d in available_days(root, u, None, None)]
    days = [x for u, d in work if (x := load_inputs(root, u, d, needs)) is not None]
    for data, _ in days:
        if data.depth_source is not None:
            data.load_depth()
    jobs = {m: [(s, with_queue(cfg, q)) for s, cfg in base] for m, q in MODELS.items()}
    for m in ("risk_averse", "full_fill"):                  # JIT warm-up (or Numba's cache)
        run_all(days[:1], jobs[m])
    cells = sum(d.Q.shape[0] * d.Q.shape[1] for d, _ in days)
    print(f"{len(base)} strategies x {len(days)} underlying-days ({cells:,} contract-seconds each)")
    ratios, results = [], {}
    for k in range(a.rounds):
        order = ("risk_averse", "full_fill") if k % 2 == 0 else ("full_fill", "risk_averse")
        took = {}
        for m in order:
            took[m], results[m] = run_all(days, jobs[m])
        ratios.append(took["risk_averse"] / took["full_fill"])
        print(f"round {k + 1}: queue (risk_averse) {took['risk_averse']:6.2f} s   full fill {took['full_fill']:6.2f} s"
              f"   ratio {ratios[-1]:5.3f}x")
    med = statistics.median(ratios)
    print(f"queue model cost: median {med:5.3f}x the full-fill engine over {a.rounds} rounds "
          f"(target <= {TARGET}x: {'ok' if med <= TARGET else 'ABOVE'})")
    _, results["prob"] = run_all(days, jobs["prob"])
    rows = []
    for s, _ in base:
        q, f, p = results["risk_averse"][s.name], results["full_fill"][s.name], results["prob"][s.name]
        if q[0] == f[0] == p[0] == 0:
            continue
        rows.append((s.name, f[0], q[0], q[1], p[0], f"{f[2]:,.2f}", f"{q[2]:,.2f}", f"{p[2]:,.2f}"))
    tot = [sum(results[m][s.name][0] for s, _ in base) for m in ("full_fill", "risk_averse", "prob")]
    net = [sum(results[m][s.name][2] for s, _ in base) for m in ("full_fill", "risk_averse", "prob")]
    rows.append(("TOTAL", tot[0], tot[1], sum(results["risk_averse"][s.name][1] for s, _ in base), tot[2],
                 f"{net[0]:,.2f}", f"{net[1]:,.2f}", f"{net[2]:,.2f}"))
    print(f"\nfills and net P&L per strategy on the demo ({len(days)} underlying-days; strategies without a fill "
          f"under any model left out)")
    print(tabulate(rows, headers=["strategy", "legs full-fill", "legs queue", "partial", "legs prob",
                                  "net full-fill", "net queue", "net prob"], tablefmt="github", disable_numparse=True))


if __name__ == "__main__":
    main()
