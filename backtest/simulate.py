"""The pure simulation: one day's data and a strategy config -> trade legs and trade events.

No I/O but the day's own depth source (a day loaded with the touch only runs again with the 5
levels when an order walks past it). The strategy's signal function makes a Plan; backtest.compile
turns the config and the plan into the position engine's arrays (kernels.position); fees are
charged by the fee model, per instrument (options on premium, the future on notional).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from backtest import metrics as M
from backtest.compile import KernelInputs, kernel_inputs
from backtest.data import FUTURE, DayData
from backtest.enums import EVENT_KINDS, EXIT_REASONS, Quote
from backtest.kernels.fills import DepthNeeded
from backtest.kernels.position import run_positions
from backtest.models import FeeModel
from backtest.strategies import Strategy
from backtest.strategies.base import Plan, StrategyConfig
from transforms.columns import constant_column
from warehouse import schema as S
from warehouse.clock import IST_OFFSET_S
from warehouse.version import code_version

_EXIT_REASONS, _EVENT_KINDS = pa.array(EXIT_REASONS, pa.string()), pa.array(EVENT_KINDS, pa.string())
MAX_LEGS_PER_DAY = 20_000
MAX_EVENTS_PER_DAY = 400_000
DEFAULT_CAPITAL = 500_000.0


@dataclass
class DayResult:
    legs: pa.Table      # trade_legs rows
    events: pa.Table    # trade_events rows
    gross: float = 0.0  # the day's gross P&L (the Kelly sizing's tracked capital moves by it)


@dataclass
class KernelOutput:
    """What the engine returns: leg records (with their position and leg number), position
    records, event records."""
    legs: np.ndarray
    positions: np.ndarray
    events: np.ndarray


def run_engine(day: DayData, k: KernelInputs, log_events: bool) -> KernelOutput:
    """The position engine on one day's compiled inputs."""
    legs, positions, ev = run_positions(
        day.t_s, day.Q, day.book, day.book_row, day.contracts.lot, day.last_real, k.entry_i, k.entry_c,
        k.entry_dir, k.entry_type, k.entry_px, k.leg_contract, k.cond, k.exit_sig, k.score, k.delta, day.spot, k.LS,
        k.P, k.windows, k.kills, k.ADJ, log_events, MAX_LEGS_PER_DAY, MAX_EVENTS_PER_DAY)
    return KernelOutput(legs, positions, ev)


def simulate_day(strategy: Strategy, cfg: StrategyConfig, day: DayData, run_id: str, log_events: bool,
                 spot: dict | None = None, fees: FeeModel | None = None, capital: float | None = None) -> DayResult:
    """Signals, the engine and trade-leg/event rows for one day. `fees` replaces the config's fee
    model (tests and benchmarks swap models this way); `capital` is the Kelly sizing's tracked
    capital at the day's start (default: the config's)."""
    try:
        return _simulate(strategy, cfg, day, run_id, log_events, spot or {}, fees or cfg.execution.fees, capital)
    except DepthNeeded:
        day.load_depth()
        return _simulate(strategy, cfg, day, run_id, log_events, spot or {}, fees or cfg.execution.fees, capital)


def _simulate(strategy: Strategy, cfg: StrategyConfig, day: DayData, run_id: str, log_events: bool,
              spot: dict, fees: FeeModel, capital: float | None) -> DayResult:
    slippage = cfg.execution.slippage
    if day.slippage_of != slippage:     # the configs of one sweep mostly share it
        day.Q[:, :, Quote.slip] = slippage.per_unit(day.strikes_from_atm)
        day.slippage_of = slippage
    plan = strategy.signals(day, spot, cfg)
    if not isinstance(plan, Plan):
        raise TypeError(f"{strategy.name}: signals returned a {type(plan).__name__}, not a Plan")
    out = run_engine(day, kernel_inputs(cfg, day, plan, spot, capital), log_events)
    return _tables(day, cfg, run_id, out, fees)


def _ts(day_t_s: np.ndarray, i: np.ndarray) -> pa.Array:
    ok = i >= 0
    v = np.where(ok, (day_t_s[np.maximum(i, 0)] - IST_OFFSET_S) * 1_000_000, 0)
    return pa.array(v, pa.int64(), mask=~ok).cast(S.IST_TS)


def trade_id_prefix(run_id: str, day: dt.date) -> str:
    """Trade ids are unique across runs: `<run id>-<yyyymmdd>-<trade number of the day>`."""
    return f"{run_id}-{day:%Y%m%d}-"


def leg_fees(fee_model: FeeModel, day: dt.date, tr: np.ndarray, is_future: np.ndarray) -> np.ndarray:
    """Charges per leg: option legs on premium, future legs on notional (the schedule's `future` rows)."""
    side, qty = tr["side"].astype(np.int64), tr["qty"]
    fees = np.zeros(len(tr))
    if (~is_future).any():
        o = ~is_future
        fees[o] = fee_model.charges(day, side[o], tr["entry_px"][o], tr["exit_px"][o], qty[o])
    if is_future.any():
        fees[is_future] = fee_model.charges(day, side[is_future], tr["entry_px"][is_future], tr["exit_px"][is_future],
                                            qty[is_future], instrument="future")
    return fees


def _tables(day: DayData, cfg: StrategyConfig, run_id: str, out: KernelOutput, fee_model: FeeModel) -> DayResult:
    """Kernel records -> trade_legs and trade_events rows; orders that never filled are dropped."""
    filled = out.legs["entry_i"] >= 0
    tr = out.legs[filled]
    trade, leg = tr["position"].astype(np.int64), tr["leg"].astype(np.int32)
    row_of = np.cumsum(filled) - 1           # kernel record index -> filled row
    _, trade = np.unique(trade, return_inverse=True)
    prefix = trade_id_prefix(run_id, day.date)      # formatted once, not per leg
    ids = pa.array([f"{prefix}{g:05d}" for g in trade.tolist()], pa.string())
    c = tr["contract"].astype(np.int64)
    side = tr["side"].astype(np.int64)
    qty = tr["qty"]
    gross = (tr["exit_px"] - tr["entry_px"]) * side * qty
    fees = leg_fees(fee_model, day.date, tr, day.contracts.opt_type[c] == FUTURE)
    names = np.array([x.name for x in cfg.legs], dtype=object)
    n = len(tr)
    # constants and per-contract / per-code strings are taken from small arrays, not built per row
    legs = pa.table({
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
        "leg_name": pa.array(names, pa.string()).take(tr["spec"].astype(np.int64)) if n else pa.array([], pa.string()),
    }, schema=S.TRADE_LEGS)
    ev = out.events
    ev = ev[filled[ev["record"]]] if len(ev) else ev
    rows = row_of[ev["record"]] if len(ev) else np.zeros(0, np.int64)
    m = len(ev)
    events = pa.table({
        "run_id": constant_column(run_id, m), "trade_id": ids.take(rows), "leg": leg[rows] if m else np.zeros(0, np.int32),
        "date": constant_column(day.date, m), "ts": _ts(day.t_s, ev["i"].astype(np.int64)),
        "event": _EVENT_KINDS.take(ev["code"]), "price": ev["price"], "stop": ev["stop"], "target": ev["target"],
        "bid": ev["bid"], "ask": ev["ask"]},
        schema=S.TRADE_EVENTS)
    return DayResult(legs, events, float(gross.sum()))


def make_run_id(cfg: StrategyConfig, underlying: str, days: list[dt.date], data_versions: list[str]) -> str:
    """A hash of the config, the underlying and days, the data partitions' versions and the code."""
    h = hashlib.sha256(json.dumps([cfg.to_dict(), underlying, [d.isoformat() for d in days], data_versions,
                                   code_version("backtest")], sort_keys=True, default=str).encode())
    return f"{cfg.name}-{h.hexdigest()[:12]}"


def summarize_run(legs: pa.Table, days: list[dt.date], session_s: float, capital: float = DEFAULT_CAPITAL,
                  padded_trades: int | None = None) -> dict:
    """Headline metrics of trade legs over the run's days (backtest.metrics); `padded_trades`: how
    many of its trades touch a padded second (backtest.padded; None: not known, the share is NaN)."""
    def col(name: str) -> np.ndarray:
        return legs[name].to_numpy(zero_copy_only=False) if legs.num_rows else np.zeros(0)

    net = col("net_pnl")
    daily = M.daily_pnl(legs["date"].to_pylist(), net, days)
    out = M.summarize(net, col("gross_pnl"), col("fees"), col("hold_s").astype(float), daily, session_s, capital)
    # legs alive when their contract's data ended (closed at its last quote): every report counts them
    out["end_of_data_exits"] = int(sum(1 for r in (legs["exit_reason"].to_pylist() if legs.num_rows else [])
                                       if r == "end_of_data"))
    out.update(M.trade_metrics(*_per_trade(legs), tick=_tick(legs)))
    out["padded_share"] = padded_trades / out["trade_count"] if padded_trades is not None and out["trade_count"] \
        else float("nan")
    return out


def _per_trade(legs: pa.Table) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Net P&L, quantity, MFE and MAE in rupees per trade (trade_id), trades in first-leg order. A
    trade's MFE/MAE is the sum of its legs' (per-unit excursion x quantity): exact for one leg, a
    bound for several (their extremes may fall on different seconds)."""
    if not legs.num_rows:
        return (np.zeros(0),) * 4
    ids = legs["trade_id"].to_numpy(zero_copy_only=False)
    _, first, trade = np.unique(ids, return_index=True, return_inverse=True)
    qty = legs["qty"].to_numpy(zero_copy_only=False).astype(np.float64)
    n = len(first)

    def add(values: np.ndarray) -> np.ndarray:
        out = np.zeros(n)
        np.add.at(out, trade, values)
        return out[np.argsort(first, kind="stable")]

    col = {k: legs[k].to_numpy(zero_copy_only=False).astype(np.float64) for k in ("net_pnl", "mfe", "mae")}
    return add(col["net_pnl"]), add(qty), add(col["mfe"] * qty), add(col["mae"] * qty)


def _tick(legs: pa.Table) -> float:
    from transforms.expiry import tick_size

    names = set(legs["underlying"].to_pylist()) if legs.num_rows else set()
    return max((tick_size(u) for u in names if u), default=0.05)
