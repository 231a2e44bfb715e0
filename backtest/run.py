"""A backtest run: config + data -> trades, trade events, metrics (pure core, thin I/O at the edge).

`simulate_day()` is pure (DayData in, Arrow tables out); `run_backtest()` reads partitions, calls
it per day, charges fees and writes `trades`, `trade_events` and `backtest_runs` once per
partition. run_id = hash of config + the data partitions' versions + code version, so the same
inputs give the same run id and the same rows.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from backtest import metrics as M
from backtest.data import DEPTH_COLUMNS, QUOTE_COLUMNS, DayData, dense_spot, load_day, nearest_expiry
from backtest.kernels.engine import Q_SLIP, run_single_leg
from backtest.kernels.fills import DepthNeeded
from backtest.kernels.straddle import run_straddle
from backtest.kernels.params import EVENTS, EXIT_REASONS
from backtest.strategies import Strategy
from backtest.strategies.base import StrategyConfig
from backtest.strategies.straddles import SPOT_FEATURES
from warehouse.readahead import map_ahead
from transforms.columns import constant_column
from warehouse import schema as S
from warehouse.clock import IST_OFFSET_S
from warehouse.version import code_version

_EXIT_REASONS, _EVENTS = pa.array(EXIT_REASONS, pa.string()), pa.array(EVENTS, pa.string())
MAX_TRADES_PER_DAY = 20_000
MAX_EVENTS_PER_DAY = 400_000
DEFAULT_CAPITAL = 500_000.0


def _ts(day_t_s: np.ndarray, i: np.ndarray) -> pa.Array:
    ok = i >= 0
    v = np.where(ok, (day_t_s[np.maximum(i, 0)] - IST_OFFSET_S) * 1_000_000, 0)
    return pa.array(v, pa.int64(), mask=~ok).cast(S.IST_TS)


def slippage_matrix(day: DayData, cfg: StrategyConfig) -> np.ndarray:
    """Per-unit extra slippage per [second, contract]: ATM band vs the rest, from spot each second."""
    s = cfg.execution.slippage
    return np.where(day.strikes_from_atm <= s.atm_band, s.atm, s.otm)


@dataclass
class DayResult:
    trades: pa.Table
    events: pa.Table


def simulate_day(strategy: Strategy, cfg: StrategyConfig, day: DayData, run_id: str, log_events: bool,
                 fee_fn, spot: dict | None = None) -> DayResult:
    """Signals, the engine and trade/event rows for one day (no I/O but the day's own depth source:
    a day loaded with the touch only runs again with the 5 levels when an order walks past it)."""
    try:
        return _simulate(strategy, cfg, day, run_id, log_events, fee_fn, spot)
    except DepthNeeded:
        day.load_depth()
        return _simulate(strategy, cfg, day, run_id, log_events, fee_fn, spot)


def _simulate(strategy: Strategy, cfg: StrategyConfig, day: DayData, run_id: str, log_events: bool,
              fee_fn, spot: dict | None) -> DayResult:
    s = cfg.execution.slippage
    if day.slippage_of != (s.atm, s.otm, s.atm_band):     # configs of one sweep mostly share it
        day.Q[:, :, Q_SLIP] = slippage_matrix(day, cfg)
        day.slippage_of = (s.atm, s.otm, s.atm_band)
    P = cfg.param_vector()
    if strategy.legs == 1:
        ok = day.selectable(cfg.selection.strikes, cfg.selection.opt_types) & day.tradable
        orders = strategy.signals(day.F, ok, cfg)
        tr, ev = run_single_leg(day.t_s, day.Q, day.book, day.book_row, orders.side, orders.type, orders.price, orders.exit_side,
                                day.contracts.lot, P, log_events, MAX_TRADES_PER_DAY, MAX_EVENTS_PER_DAY)
        group, leg = np.arange(len(tr)), np.zeros(len(tr), np.int32)
    else:
        plan = strategy.signals(day, spot, cfg)
        tr, ev = run_straddle(day.t_s, day.Q, day.book, day.book_row, plan.entry_ok, plan.leg_ce, plan.leg_pe, plan.score,
                              plan.spot_roc, day.contracts.lot, P, log_events, MAX_TRADES_PER_DAY, MAX_EVENTS_PER_DAY)
        group, leg = tr["position"].astype(np.int64), tr["leg"].astype(np.int32)
    return _tables(day, cfg, run_id, tr, ev, group, leg, fee_fn)


def _tables(day: DayData, cfg: StrategyConfig, run_id: str, tr, ev, group, leg, fee_fn) -> DayResult:
    """Kernel records -> trades (one row per leg) and trade_events rows; unfilled orders dropped."""
    filled = tr["entry_i"] >= 0
    tr, group, leg = tr[filled], group[filled], leg[filled]
    index_of = np.cumsum(filled) - 1           # kernel record index -> filled row
    _, group = np.unique(group, return_inverse=True)
    prefix = f"{day.underlying}-{day.date:%Y%m%d}-{cfg.name}-"      # formatted once, not per trade
    ids = pa.array([f"{prefix}{g:05d}" for g in group.tolist()], pa.string())
    c = tr["contract"].astype(np.int64)
    side = tr["side"].astype(np.int64)
    qty = tr["qty"]
    gross = (tr["exit_px"] - tr["entry_px"]) * side * qty
    fees = fee_fn(day.date, side, tr["entry_px"], tr["exit_px"], qty) if len(tr) else np.zeros(0)
    n = len(tr)
    # constants and per-contract / per-code strings are taken from small arrays, not built per row
    trades = pa.table({
        "run_id": constant_column(run_id, n), "strategy": constant_column(cfg.name, n), "trade_id": ids, "leg": leg,
        "underlying": constant_column(day.underlying, n), "date": constant_column(day.date, n),
        "symbol": pa.array(day.contracts.symbol).take(c), "expiry": pa.array(day.contracts.expiry, pa.date32()).take(c),
        "opt_type": day.contracts.opt_type[c], "strike": day.contracts.strike[c].astype(np.int32),
        "side": side.astype(np.int32), "lots": np.round(qty / np.maximum(day.contracts.lot[c], 1)).astype(np.int32),
        "lot_size": day.contracts.lot[c].astype(np.int32), "qty": qty.astype(np.int64),
        "signal_ts": _ts(day.t_s, tr["signal_i"]), "entry_ts": _ts(day.t_s, tr["entry_i"]), "entry_px": tr["entry_px"],
        "exit_signal_ts": _ts(day.t_s, tr["exit_signal_i"]), "exit_ts": _ts(day.t_s, tr["exit_i"]),
        "exit_px": tr["exit_px"], "exit_reason": _EXIT_REASONS.take(tr["reason"]),
        "initial_stop": tr["initial_stop"], "gross_pnl": gross, "fees": fees, "net_pnl": gross - fees,
        "mfe": tr["mfe"], "mae": tr["mae"], "hold_s": (day.t_s[tr["exit_i"]] - day.t_s[tr["entry_i"]]).astype(np.int64),
        "stop_and_target_same_second": tr["both_hit"], "partial_fill": tr["partial"],
    }, schema=S.TRADES)
    ev = ev[filled[ev["trade"]]] if len(ev) else ev
    rows = index_of[ev["trade"]] if len(ev) else np.zeros(0, np.int64)
    m = len(ev)
    events = pa.table({
        "run_id": constant_column(run_id, m), "trade_id": ids.take(rows), "leg": leg[rows] if m else np.zeros(0, np.int32),
        "date": constant_column(day.date, m), "ts": _ts(day.t_s, ev["i"].astype(np.int64)), "event": _EVENTS.take(ev["code"]),
        "price": ev["price"], "stop": ev["stop"], "target": ev["target"], "bid": ev["bid"], "ask": ev["ask"]},
        schema=S.TRADE_EVENTS)
    return DayResult(trades, events)


def make_run_id(cfg: StrategyConfig, underlying: str, days: list[dt.date], data_versions: list[str]) -> str:
    h = hashlib.sha256(json.dumps([cfg.to_dict(), underlying, [d.isoformat() for d in days], data_versions,
                                   code_version("backtest")], sort_keys=True, default=str).encode())
    return f"{cfg.name}-{h.hexdigest()[:12]}"


def summarize_run(trades: pa.Table, days: list[dt.date], session_s: float, capital: float = DEFAULT_CAPITAL) -> dict:
    net = trades["net_pnl"].to_numpy(zero_copy_only=False) if trades.num_rows else np.zeros(0)
    daily = M.daily_pnl(trades["date"].to_pylist(), net, days)
    return M.summarize(net, trades["gross_pnl"].to_numpy(zero_copy_only=False) if trades.num_rows else np.zeros(0),
                       trades["fees"].to_numpy(zero_copy_only=False) if trades.num_rows else np.zeros(0),
                       trades["hold_s"].to_numpy(zero_copy_only=False).astype(float) if trades.num_rows else np.zeros(0),
                       daily, session_s, capital)


@dataclass
class RunResult:
    run_id: str
    strategy: str
    trades: pa.Table
    events: pa.Table
    metrics: dict
    days: list[dt.date]
    engine_s: float = 0.0          # time in signals + engine kernels (the rest is reading and writing)
    contract_seconds: int = 0      # grid cells the engine walked (seconds x nearest-expiry contracts)


def partition_version(root, table: str, keys: dict) -> str:
    from warehouse.layout import partition_dir
    from warehouse.writer import read_manifest

    m = read_manifest(partition_dir(root, table, keys)) or {}
    return f"{table}:{m.get('run_id', '')}:{m.get('code_version', '')}"


def available_days(root, underlying: str, start: dt.date | None, end: dt.date | None) -> list[dt.date]:
    from warehouse.layout import table_dir

    base = table_dir(root, "features_options") / f"underlying={underlying}"
    days = sorted(dt.date.fromisoformat(p.name.split("=", 1)[1]) for p in base.glob("date=*")) if base.exists() else []
    return [d for d in days if (start is None or d >= start) and (end is None or d <= end)]


def load_inputs(root, underlying: str, day: dt.date, names: list[str]) -> tuple[DayData, dict] | None:
    """One day's dense engine inputs (nearest expiry only, only the named features), or None."""
    from warehouse.writer import read_partition, read_partition_rows

    keys = {"underlying": underlying, "date": day}
    expiries = read_partition(root, "features_options", keys, columns=["expiry"])
    nearest = nearest_expiry(expiries["expiry"], day) if expiries is not None else None
    if nearest is None:
        return None
    feats = read_partition_rows(root, "features_options", keys, list(dict.fromkeys(QUOTE_COLUMNS + names)),
                                "expiry", nearest, dictionary=("symbol", "opt_type"))
    depth = lambda: read_partition_rows(root, "options_grid", keys, DEPTH_COLUMNS, "expiry", nearest)  # noqa: E731
    data = load_day(underlying, day, feats, read_partition(root, "spot_grid", keys), names, depth)
    data.tradable, data.strikes_from_atm    # noqa: B018 - the masks every strategy reads, built here in the loader
    return data, dense_spot(data.t_s, read_partition(root, "features_spot", keys), SPOT_FEATURES)


@dataclass
class _Job:
    strategy: Strategy
    cfg: StrategyConfig
    fee_fn: object
    run_id: str
    trades: list
    events: list
    engine_s: float = 0.0
    cells: int = 0


def _write_day(root, run_id: str, keys: dict, res: DayResult) -> None:
    from warehouse.writer import PartitionManifest, write_partition

    for table, rows, schema in (("trades", res.trades, S.TRADES), ("trade_events", res.events, S.TRADE_EVENTS)):
        write_partition(root, table, {"run_id": run_id, **keys}, rows, schema,
                        PartitionManifest(table, {"run_id": run_id, **{k: str(v) for k, v in keys.items()}},
                                          0, run_id, code_version("backtest")))


def _finish(root, j: _Job, underlying: str, days: list[dt.date], versions: list[str], write: bool) -> RunResult:
    from transforms.calendar import session_seconds
    from warehouse.writer import PartitionManifest, write_partition

    trades = pa.concat_tables(j.trades) if j.trades else S.TRADES.empty_table()
    events = pa.concat_tables(j.events) if j.events else S.TRADE_EVENTS.empty_table()
    session_s = float(np.mean([session_seconds(d) for d in days])) if days else 0.0
    metrics = summarize_run(trades, days, session_s)
    if write:
        row = {"run_id": j.run_id, "strategy": j.cfg.name, "underlying": underlying,
               "start": min(days) if days else None, "end": max(days) if days else None, "days": len(days),
               "config": json.dumps(j.cfg.to_dict(), default=str), "code_version": code_version("backtest"),
               "data_version": hashlib.sha256("|".join(versions).encode()).hexdigest()[:12],
               "created_at": dt.datetime.now(dt.timezone.utc), **metrics}
        write_partition(root, "backtest_runs", {"run_id": j.run_id},
                        pa.Table.from_pylist([row], schema=S.BACKTEST_RUNS), S.BACKTEST_RUNS,
                        PartitionManifest("backtest_runs", {"run_id": j.run_id}, 0, j.run_id, code_version("backtest")))
    return RunResult(j.run_id, j.cfg.name, trades, events, metrics, days, j.engine_s, j.cells)


def run_many(root, jobs: list[tuple[Strategy, StrategyConfig]], underlying: str, days: list[dt.date],
             log_events: bool = True, fee_fn=None, write: bool = True, progress=None) -> list[RunResult]:
    """Several strategy configs over the same days of one underlying (see run_each)."""
    return run_each(root, jobs, {underlying: days}, log_events, fee_fn, write, progress)[underlying]


def run_each(root, jobs: list[tuple[Strategy, StrategyConfig]], days_of: dict[str, list[dt.date]],
             log_events: bool = True, fee_fn=None, write: bool = True, progress=None) -> dict[str, list[RunResult]]:
    """Several strategy configs over days of several underlyings, one run per (config, underlying):
    each day is read once and every config runs on it (the same engine call as a single run, so
    sharing changes no trade). Sweeps and the six demo strategies use this; `run_backtest` is the
    one-config case."""
    versions = {u: [partition_version(root, t, {"underlying": u, "date": d}) for d in days
                    for t in ("options_grid", "features_options")] for u, days in days_of.items()}
    states = {u: [_Job(s, c, fee_fn or fee_fn_for(c), make_run_id(c, u, days, versions[u]), [], [])
                  for s, c in jobs] for u, days in days_of.items()}
    names = sorted(set().union(*(s.features for s, _ in jobs)) | {"price"})
    # the next days are read and made dense by two threads while this one is simulated: Parquet
    # decoding, Arrow conversions and the scatter kernels release the GIL, so the cores stay busy;
    # one pipeline for all underlyings, so the threads do not drain at each underlying's last day
    work = [(u, d) for u, days in days_of.items() for d in days]
    for i, ((underlying, day), loaded) in enumerate(map_ahead(lambda w: (w, load_inputs(root, *w, names)), work,
                                                              workers=2)):
        if progress:   # the progress protocol (orchestration.progress): days done, the day's grid cells
            cells = 0 if loaded is None else loaded[0].Q.shape[0] * loaded[0].Q.shape[1]
            progress({"files_done": i, "files_total": len(work), "source": f"{underlying} {day}", "rows": cells})
        if loaded is None:
            continue
        data, spot = loaded
        for j in states[underlying]:
            t0 = time.perf_counter()
            res = simulate_day(j.strategy, j.cfg, data, j.run_id, log_events, j.fee_fn, spot)
            j.engine_s += time.perf_counter() - t0
            j.cells += data.Q.shape[0] * data.Q.shape[1]
            j.trades.append(res.trades)
            j.events.append(res.events)
            if write:
                _write_day(root, j.run_id, {"underlying": underlying, "date": day}, res)
    return {u: [_finish(root, j, u, days, versions[u], write) for j in states[u]] for u, days in days_of.items()}


def run_backtest(root, strategy: Strategy, cfg: StrategyConfig, underlying: str, days: list[dt.date],
                 log_events: bool = True, fee_fn=None, write: bool = True, progress=None) -> RunResult:
    """Run one strategy config over days of one underlying; write its partitions (imperative shell)."""
    return run_many(root, [(strategy, cfg)], underlying, days, log_events, fee_fn, write, progress)[0]


def fee_fn_for(cfg: StrategyConfig):
    """Charges per round trip from the NSE schedule by trade date, the config's brokerage."""
    from backtest.fees import round_trip_fees

    brokerage = cfg.execution.fees.brokerage_per_order
    return lambda day, side, entry, exit_, qty: round_trip_fees(day, side, entry, exit_, qty, brokerage)
