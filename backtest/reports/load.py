"""Reading a report's data from the warehouse and writing the files (the imperative shell)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pyarrow as pa

from backtest.reports.charts import LegPath, trade_png
from backtest.reports.html import RunReport, render_html
from backtest.reports.selection import resolve, select_runs
from backtest.padded import padded_trades
from backtest.run import partition_version
from backtest.simulate import summarize_run
from transforms.calendar import session_seconds
from warehouse.catalog import connect, sql_string
from warehouse.files import atomic_write
from warehouse.layout import partition_dir
from warehouse.writer import data_file, read_manifest


def _arrow(con, sql: str, params: list) -> pa.Table:
    return con.sql(sql, params=params).to_arrow_table()


def _among(column: str, values: list[str]) -> str:
    return f"{column} in ({', '.join(sql_string(v) for v in values)})" if values else "false"


def audited(root: Path, run_id: str) -> bool:
    """Has the audit stored this run's findings (a clean run stores an empty partition)?"""
    return data_file(root, "audit_findings", {"run_id": run_id}) is not None


def audit_sample(root: Path, run_ids: list[str]) -> int | None:
    """Trades per day the stored audits sampled (None: every trade was audited)."""
    sizes = [((read_manifest(partition_dir(root, "audit_findings", {"run_id": i})) or {}).get("extra") or {})
             .get("sampled_trades_per_day") for i in run_ids]
    return max((n for n in sizes if n), default=None)


def load_report(root: Path, selector: str, con=None, runs: list[dict] | None = None) -> RunReport:
    """A run id, or a strategy name (its latest run per underlying and day: reports.selection);
    `con` an open warehouse connection to reuse, `runs` every backtest_runs row when already read."""
    con = con or connect(root)
    sel = select_runs(runs, selector) if runs is not None else resolve(con, selector)
    ids = [r["run_id"] for r in sel.runs]
    taken = pa.table({"run_id": pa.array([i for i in ids for _ in sel.days[i]], pa.string()),
                      "date": pa.array([d for i in ids for d in sel.days[i]], pa.date32())})
    con.register("taken", taken)
    # the run ids as literals too: DuckDB then reads only those runs' partitions (a join or a list
    # parameter alone scans every run's files)
    legs = _arrow(con, f"""select l.* from trade_legs l join taken using (run_id, date) where {_among('l.run_id', ids)}
                           order by l.exit_ts, l.trade_id, l.leg""", [])
    findings = _arrow(con, f"select * from audit_findings where {_among('run_id', ids)} order by run_id, trade_id",
                      []) if all(audited(root, i) for i in ids) else None
    days = sel.all_days()
    session_s = float(np.mean([session_seconds(d) for d in days])) if days else 0.0
    pads = padded_trades(root, legs, {(u, d): partition_version(root, "features_options", {"underlying": u, "date": d})
                                      for u, d in set(zip(legs["underlying"].to_pylist(), legs["date"].to_pylist()))})
    return RunReport(selector, sel, legs, findings, days, summarize_run(legs, days, session_s, padded_trades=pads),
                     audit_sample(root, ids) if findings is not None else None)


def write_report(root: Path, selectors: list[str], out: Path, con=None, runs: list[dict] | None = None) -> Path:
    reports = [load_report(root, s, con, runs) for s in selectors]
    title = "ticklake backtest report: " + " vs ".join(selectors)
    return atomic_write(out, render_html(reports, title).encode())


SPAWN_MIN_REPORTS = 4     # reports per worker process before a pool pays for itself
_WORKER: dict = {}      # a report worker's warehouse connection and backtest_runs rows


def _report_worker(root: Path) -> None:
    con = connect(root)
    con.execute("SET parquet_metadata_cache = true")    # every report reads the same files' footers
    _WORKER.update(root=root, con=con, runs=con.sql("select * from backtest_runs").to_arrow_table().to_pylist())


def _write_one(name: str, folder: Path) -> Path:
    return write_report(_WORKER["root"], [name], folder / f"{name}.html", _WORKER["con"], _WORKER["runs"])


def write_reports(root: Path, names: list[str], folder: Path, workers: int | None = None, progress=None) -> list[Path]:
    """Each strategy's own report, <folder>/<name>.html (the leaderboard's links), on `workers`
    processes (default: the usable cores), each with one connection for all its reports. Every file
    is the one write_report writes for it alone, whichever process wrote it. (Spawned workers import
    the caller's main module: a script calling this needs the usual `if __name__ == "__main__"`.)"""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    # a spawned worker imports the stack first (about a second): worth it from a few reports each
    workers = max(1, min(workers or cores, len(names) // SPAWN_MIN_REPORTS))
    out: dict[str, Path] = {}
    step = (lambda: progress({"files_done": len(out), "files_total": len(names), "source": ""})) if progress \
        else (lambda: None)
    if workers == 1:
        _report_worker(root)
        try:
            for name in names:
                out[name] = _write_one(name, folder)
                step()
        finally:
            _WORKER.pop("con").close()
        return [out[n] for n in names]
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn: the caller (the demo) has run DuckDB and Dagster threads; a forked child could inherit a held lock
    with ProcessPoolExecutor(workers, mp_context=mp.get_context("spawn"), initializer=_report_worker,
                             initargs=(root,)) as pool:
        futures = {pool.submit(_write_one, name, folder): name for name in names}
        for f in as_completed(futures):
            out[futures[f]] = f.result()
            step()
    return [out[n] for n in names]


def _levels(ts: list, start, end, initial: float | None, moves: list[tuple]) -> np.ndarray:
    """The level in force each second between entry and exit (NaN outside): the last move at or before it."""
    out = np.full(len(ts), np.nan)
    for k, t in enumerate(ts):
        if start <= t <= end:
            level = initial
            for mts, m in moves:
                if mts <= t:
                    level = m
            out[k] = np.nan if level is None else level
    return out


def load_trade_legs(root: Path, run_id: str, trade_id: str, margin_s: int = 60) -> list[LegPath]:
    con = connect(root)
    if not con.sql("select count(*) from backtest_runs where run_id = ?", params=[run_id]).fetchall()[0][0]:
        raise LookupError(f"no backtest run {run_id!r} in the warehouse (`ticklake sql \"select run_id from "
                          f"backtest_runs\"` lists them)")
    legs = _arrow(con, "select * from trade_legs where run_id = ? and trade_id = ? order by leg",
                  [run_id, trade_id]).to_pylist()
    if not legs:
        raise LookupError(f"no trade {trade_id!r} in run {run_id!r} (its trade ids look like "
                          f"{run_id}-YYYYMMDD-00000)")
    events = _arrow(con, "select * from trade_events where run_id = ? and trade_id = ? order by ts",
                    [run_id, trade_id]).to_pylist()
    out = []
    for leg in legs:
        lo = leg["signal_ts"] - dt.timedelta(seconds=margin_s)
        hi = leg["exit_ts"] + dt.timedelta(seconds=margin_s)
        g = _arrow(con, """select ts, price, bid_px0, ask_px0, is_pad from options_grid
                           where underlying = ? and date = ? and symbol = ? and ts between ? and ? order by ts""",
                   [leg["underlying"], leg["date"], leg["symbol"], lo, hi])
        mine = [e for e in events if e["leg"] == leg["leg"]]
        moves = [(e["ts"], e["stop"]) for e in mine if e["event"] == "stop_move"]
        fill = next((e for e in mine if e["event"] == "fill"), None)
        ts = g["ts"].to_pylist()
        f = {c: g[c].to_numpy(zero_copy_only=False).astype(float) for c in ("price", "bid_px0", "ask_px0")}
        target = fill["target"] if fill is not None else None
        side = "long" if leg["side"] > 0 else "short"
        out.append(LegPath(
            title=f"{leg['symbol']} {side} {leg['lots']} lot(s): {leg['exit_reason']}, net {leg['net_pnl']:,.2f}",
            ts=np.array([t.replace(tzinfo=None) for t in ts], dtype="datetime64[s]"), ltp=f["price"], bid=f["bid_px0"],
            ask=f["ask_px0"], is_pad=g["is_pad"].to_numpy(zero_copy_only=False).astype(bool),
            stop=_levels(ts, leg["entry_ts"], leg["exit_ts"], leg["initial_stop"], moves),
            target=_levels(ts, leg["entry_ts"], leg["exit_ts"], target, []),
            entry=(np.datetime64(leg["entry_ts"].replace(tzinfo=None), "s"), leg["entry_px"]),
            exit=(np.datetime64(leg["exit_ts"].replace(tzinfo=None), "s"), leg["exit_px"])))
    return out


def write_trade_chart(root: Path, run_id: str, trade_id: str, out: Path) -> Path:
    return atomic_write(out, trade_png(load_trade_legs(root, run_id, trade_id)))
