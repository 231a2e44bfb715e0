"""Golden digests of what the commands make of a fixed archive: ingest -> gaps -> features -> the six
backtests, each table reduced to one md5 per column (DuckDB renders every value as text, rows in a
fixed order), so a difference names the table and the columns that changed.

`tests/data/golden/make_golden.py` ran this against the code before the restructuring (commit
b69f8f6) to write `digests.json`; `tests/test_golden_archive.py` runs it against the code of today.
Only what both versions can express is compared: run ids (they hash the code version) and the
run-id part of trade ids are left out, and a trade is named by its ordinal within its day.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

STRATEGIES = ("ob_imbalance", "volume_spike_ladder", "micro_ema_flip", "orb_2min", "guarded_straddle",
              "dynamic_theta_straddle")
# per table: the columns that order its rows (every row of the table has a distinct key)
ORDER = {
    "gaps": "underlying, date, symbol, gap_start",
    "features_options": "underlying, date, expiry, opt_type, strike, ts",
    "features_spot": "underlying, date, ts",
    "legs": "strategy, underlying, date, trade_no, leg",
    "events": "strategy, underlying, date, trade_no, leg, ts, event, price",
    "runs": "strategy, underlying, start",
}
# run metrics that a restructuring must not move (backtest_runs columns)
RUN_METRICS = ("strategy", "underlying", "start", "end", "days", "trades", "win_rate", "expectancy",
               "profit_factor", "net_pnl", "gross_pnl", "fees", "sharpe", "sortino", "max_drawdown",
               "max_drawdown_pct", "trades_per_day", "time_in_market", "fee_share_of_gross")


def cli(python: str, code_root: Path, root: Path, landing: Path, *args: str) -> str:
    """One `ticklake` command of the code at `code_root`, run as a user would (a subprocess)."""
    env = {**os.environ, "PYTHONPATH": str(code_root), "TICKLAKE_WAREHOUSE": str(root),
           "TICKLAKE_LANDING": str(landing), "DAGSTER_HOME": str(root / ".dagster")}
    r = subprocess.run([python, "-m", "orchestration.cli", "--quiet", *args], cwd=code_root, env=env,
                       capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"ticklake {' '.join(args)} failed ({r.returncode}): {r.stderr[-2000:]}")
    return r.stdout


def build(archive: Path, root: Path, python: str = sys.executable, code_root: Path | None = None) -> None:
    """The archive landed, ingested, gaps and features materialised, the six strategies backtested."""
    materialize(archive, root, python, code_root)
    backtest(archive, root, python=python, code_root=code_root)


def materialize(archive: Path, root: Path, python: str = sys.executable, code_root: Path | None = None) -> None:
    """The archive landed, ingested, gaps and features materialised."""
    code_root = code_root or Path(__file__).resolve().parents[1]
    (root / ".dagster").mkdir(parents=True, exist_ok=True)
    cli(python, code_root, root, archive, "materialize", "--group", "ingest", "--group", "gaps",
        "--group", "features")


def backtest(archive: Path, root: Path, configs: Path | None = None, python: str = sys.executable,
             code_root: Path | None = None) -> None:
    """The six strategies backtested, each with `configs/<strategy>.json` over its defaults when given."""
    code_root = code_root or Path(__file__).resolve().parents[1]
    for s in STRATEGIES:
        extra = ["--config", str(configs / f"{s}.json")] if configs is not None else []
        cli(python, code_root, root, archive, "backtest", "--strategy", s, *extra)


def _column_md5(con: duckdb.DuckDBPyConnection, relation: str, order: str) -> dict:
    cols = [r[0] for r in con.sql(f"describe select * from {relation}").fetchall()]
    exprs = ", ".join(f"md5(string_agg(coalesce(cast(\"{c}\" as varchar), '<null>'), '|' order by {order}))"
                      for c in cols)
    values = con.sql(f"select count(*), {exprs} from {relation}").fetchall()[0]
    return {"rows": values[0], "columns": dict(zip(cols, values[1:]))}


def digests(root: Path, legs_view: str) -> dict:
    """{table: {rows, columns: {column: md5}}} of the warehouse at `root`; `legs_view` is the view
    holding one row per trade leg (`trades` before the restructuring, `trade_legs` after)."""
    from warehouse.catalog import connect

    con = connect(root)
    # trade ids differ in form between versions; both end in the trade's ordinal within its day
    con.execute(f"""create temp view legs as select * exclude (run_id, trade_id),
                        cast(right(trade_id, 5) as integer) as trade_no from {legs_view}""")
    con.execute("""create temp view events as
                   select e.* exclude (run_id, trade_id), r.strategy, r.underlying,
                          cast(right(e.trade_id, 5) as integer) as trade_no
                   from trade_events e join backtest_runs r using (run_id)""")
    metrics = ", ".join(f'"{c}"' for c in RUN_METRICS)
    con.execute(f"create temp view runs as select {metrics} from backtest_runs")
    return {t: _column_md5(con, t, order) for t, order in ORDER.items()}


def differences(want: dict, got: dict) -> list[str]:
    """One line per table whose rows or columns differ (columns only one side has are named too)."""
    out = []
    for table in want:
        w, g = want[table], got.get(table, {"rows": None, "columns": {}})
        changed = sorted(c for c in w["columns"] if c in g["columns"] and w["columns"][c] != g["columns"][c])
        gone = sorted(set(w["columns"]) - set(g["columns"]))
        if w["rows"] != g["rows"] or changed or gone:
            out.append(f"{table}: rows {w['rows']} -> {g['rows']}; changed {changed}; missing {gone}")
    return out
