"""The pure simulation: one day's data and a strategy config -> trade legs and trade events.

No I/O but the day's own depth source (a day loaded with the touch only runs again with the 5
levels when an order walks past it). The strategy's plan type picks the engine (ENGINES); the
execution models are read into what the kernels read; fees are charged by the fee model.
backtest.run is the I/O around this (reading partitions, writing tables).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pyarrow as pa

from backtest import metrics as M
from backtest.data import DayData
from backtest.enums import EVENT_KINDS, EXIT_REASONS, Param, Quote
from backtest.kernels.engine import run_single_leg
from backtest.kernels.fills import DepthNeeded
from backtest.kernels.straddle import run_straddle
from backtest.models import FeeModel
from backtest.strategies import Strategy
from backtest.strategies.base import EntryOrders, StraddlePlan, StrategyConfig
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


@dataclass
class KernelOutput:
    """What an engine returns: leg records, event records, each leg's trade (position) number and
    its leg number within the trade."""
    legs: np.ndarray
    events: np.ndarray
    trade: np.ndarray
    leg: np.ndarray


def _single_leg(day: DayData, orders: EntryOrders, P: np.ndarray, log_events: bool) -> KernelOutput:
    legs, ev = run_single_leg(day.t_s, day.Q, day.book, day.book_row, orders.side, orders.type, orders.price,
                              orders.exit_side, day.contracts.lot, P, log_events, MAX_LEGS_PER_DAY, MAX_EVENTS_PER_DAY)
    return KernelOutput(legs, ev, np.arange(len(legs)), np.zeros(len(legs), np.int32))


def _straddle(day: DayData, plan: StraddlePlan, P: np.ndarray, log_events: bool) -> KernelOutput:
    if not math.isnan(P[Param.daily_loss_r]):
        raise ValueError("risk.daily_loss_r: a straddle has no initial stop to measure R against; "
                         "use risk.daily_loss_rupees")
    legs, ev = run_straddle(day.t_s, day.Q, day.book, day.book_row, plan.entry_ok, plan.leg_ce, plan.leg_pe,
                            plan.score, plan.spot_roc, day.contracts.lot, P, log_events, MAX_LEGS_PER_DAY,
                            MAX_EVENTS_PER_DAY)
    return KernelOutput(legs, ev, legs["position"].astype(np.int64), legs["leg"].astype(np.int32))


# plan type -> the engine that executes it
ENGINES: dict[type, Callable[[DayData, object, np.ndarray, bool], KernelOutput]] = {
    EntryOrders: _single_leg,
    StraddlePlan: _straddle,
}


def simulate_day(strategy: Strategy, cfg: StrategyConfig, day: DayData, run_id: str, log_events: bool,
                 spot: dict | None = None, fees: FeeModel | None = None) -> DayResult:
    """Signals, the engine and trade-leg/event rows for one day. `fees` replaces the config's fee
    model (tests and benchmarks swap models this way)."""
    try:
        return _simulate(strategy, cfg, day, run_id, log_events, spot or {}, fees or cfg.execution.fees)
    except DepthNeeded:
        day.load_depth()
        return _simulate(strategy, cfg, day, run_id, log_events, spot or {}, fees or cfg.execution.fees)


def _simulate(strategy: Strategy, cfg: StrategyConfig, day: DayData, run_id: str, log_events: bool,
              spot: dict, fees: FeeModel) -> DayResult:
    slippage = cfg.execution.slippage
    if day.slippage_of != slippage:     # the configs of one sweep mostly share it
        day.Q[:, :, Quote.slip] = slippage.per_unit(day.strikes_from_atm)
        day.slippage_of = slippage
    plan = strategy.signals(day, spot, cfg)
    engine = ENGINES.get(type(plan))
    if engine is None:
        raise TypeError(f"{strategy.name}: signals returned a {type(plan).__name__}; no engine executes it")
    out = engine(day, plan, cfg.param_vector(), log_events)
    return _tables(day, cfg, run_id, out, fees)


def _ts(day_t_s: np.ndarray, i: np.ndarray) -> pa.Array:
    ok = i >= 0
    v = np.where(ok, (day_t_s[np.maximum(i, 0)] - IST_OFFSET_S) * 1_000_000, 0)
    return pa.array(v, pa.int64(), mask=~ok).cast(S.IST_TS)


def trade_id_prefix(run_id: str, day: dt.date) -> str:
    """Trade ids are unique across runs: `<run id>-<yyyymmdd>-<trade number of the day>`."""
    return f"{run_id}-{day:%Y%m%d}-"


def _tables(day: DayData, cfg: StrategyConfig, run_id: str, out: KernelOutput, fee_model: FeeModel) -> DayResult:
    """Kernel records -> trade_legs and trade_events rows; orders that never filled are dropped."""
    filled = out.legs["entry_i"] >= 0
    tr, trade, leg = out.legs[filled], out.trade[filled], out.leg[filled]
    row_of = np.cumsum(filled) - 1           # kernel record index -> filled row
    _, trade = np.unique(trade, return_inverse=True)
    prefix = trade_id_prefix(run_id, day.date)      # formatted once, not per leg
    ids = pa.array([f"{prefix}{g:05d}" for g in trade.tolist()], pa.string())
    c = tr["contract"].astype(np.int64)
    side = tr["side"].astype(np.int64)
    qty = tr["qty"]
    gross = (tr["exit_px"] - tr["entry_px"]) * side * qty
    fees = fee_model.charges(day.date, side, tr["entry_px"], tr["exit_px"], qty) if len(tr) else np.zeros(0)
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
    return DayResult(legs, events)


def make_run_id(cfg: StrategyConfig, underlying: str, days: list[dt.date], data_versions: list[str]) -> str:
    """A hash of the config, the underlying and days, the data partitions' versions and the code."""
    h = hashlib.sha256(json.dumps([cfg.to_dict(), underlying, [d.isoformat() for d in days], data_versions,
                                   code_version("backtest")], sort_keys=True, default=str).encode())
    return f"{cfg.name}-{h.hexdigest()[:12]}"


def summarize_run(legs: pa.Table, days: list[dt.date], session_s: float, capital: float = DEFAULT_CAPITAL) -> dict:
    """Headline metrics of trade legs over the run's days (backtest.metrics)."""
    def col(name: str) -> np.ndarray:
        return legs[name].to_numpy(zero_copy_only=False) if legs.num_rows else np.zeros(0)

    net = col("net_pnl")
    daily = M.daily_pnl(legs["date"].to_pylist(), net, days)
    return M.summarize(net, col("gross_pnl"), col("fees"), col("hold_s").astype(float), daily, session_s, capital)
