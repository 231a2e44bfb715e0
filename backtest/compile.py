"""A strategy config and one day's plan -> the arrays the position engine reads.

Day-independent records (enums name every field): the rules vector P, the leg-spec matrix LS, the
entry windows, the kill-switches and the adjustments. Per day: every leg's pick per second
(backtest.selectors), the named conditions (backtest.conditions), the per-contract exit signal,
the calendar filter on entries (backtest.entry_filters). Invalid configs fail here with the
config path of the bad value.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from backtest import conditions as CD
from backtest.entry_filters import entry_allowed
from backtest.enums import (N_ADJ_FIELDS, N_LEG_FIELDS, N_LOCKS, N_PARAMS, Action, AdjField, ExitReason, LegField,
                            OrderType, Param, PriceRef, Sizing, Trigger, code_of)
from backtest.selectors import leg_contracts
from backtest.strategies.base import Exits, Plan, StrategyConfig, hhmm

INSTRUMENTS = ("CE", "PE", "FUT", "option")
EXPIRIES = ("weekly", "next_weekly", "monthly", "next_monthly")


@dataclass
class KernelInputs:
    entry_i: np.ndarray
    entry_c: np.ndarray
    entry_dir: np.ndarray
    entry_type: np.ndarray
    entry_px: np.ndarray
    leg_contract: np.ndarray
    cond: np.ndarray
    exit_sig: np.ndarray
    score: np.ndarray
    delta: np.ndarray
    P: np.ndarray
    LS: np.ndarray
    windows: np.ndarray
    kills: np.ndarray
    ADJ: np.ndarray


def _nan(x) -> float:
    return np.nan if x is None else float(x)


def leg_matrix(cfg: StrategyConfig) -> np.ndarray:
    """LS[leg, LegField]: each leg's side, ratio, order and own exits."""
    names = [leg.name for leg in cfg.legs]
    if len(set(names)) != len(names):
        raise ValueError(f"{cfg.name}: leg names repeat: {names}")
    LS = np.full((len(cfg.legs), N_LEG_FIELDS), np.nan)
    for n, leg in enumerate(cfg.legs):
        where = f"{cfg.name}: legs.{leg.name}"
        if leg.instrument not in INSTRUMENTS or leg.expiry not in EXPIRIES or leg.side not in (1, -1) or \
                leg.on_expiry_day not in ("trade", "roll"):
            raise ValueError(f"{where}: instrument {leg.instrument!r} (one of {INSTRUMENTS}), expiry {leg.expiry!r} "
                             f"(one of {EXPIRIES}), on_expiry_day {leg.on_expiry_day!r} (trade/roll), side {leg.side} (+1/-1)")
        if set(leg.exits) & {"close_long_when", "close_short_when"}:
            raise ValueError(f"{where}.exits: exit conditions are the strategy's (exits.close_*_when), not a leg's")
        ex: Exits = cfg.leg_exits(leg)
        if len(ex.locks) > N_LOCKS:
            raise ValueError(f"{where}: exits.locks has {len(ex.locks)} steps; the engine takes {N_LOCKS}")
        row = LS[n]
        row[LegField.side], row[LegField.lots] = leg.side, leg.lots
        row[LegField.added], row[LegField.side_from_trigger] = float(leg.added), float(leg.side_from_trigger)
        row[LegField.premium] = 0.0 if leg.instrument == "FUT" else 1.0
        row[LegField.order] = code_of(OrderType, leg.order.type, f"{where}.order.type")
        row[LegField.price_ref] = code_of(PriceRef, leg.order.price, f"{where}.order.price")
        row[LegField.offset], row[LegField.timeout_s] = leg.order.offset, _nan(leg.order.timeout_s)
        for f in fields(Exits):
            if f.name in ("locks", "signal", "close_long_when", "close_short_when", "trail_on_ltp"):
                continue
            row[getattr(LegField, f.name)] = _nan(getattr(ex, f.name))
        row[LegField.trail_on_ltp] = float(ex.trail_on_ltp)
        row[LegField.exit_on_signal] = float(ex.signal)
        for k, (at, to) in enumerate(ex.locks):
            row[LegField.lock1_at + 2 * k], row[LegField.lock1_at + 2 * k + 1] = at, to
    if not (LS[:, LegField.added] == 0).any():
        raise ValueError(f"{cfg.name}: every leg is `added`; a position needs a leg opened at entry")
    return LS


class _Conds:
    """The named [S] conditions the kernel reads, in index order."""

    def __init__(self):
        self.rows: list[np.ndarray] = []

    def add(self, row: np.ndarray) -> int:
        self.rows.append(np.asarray(row, bool))
        return len(self.rows) - 1

    def matrix(self, S: int) -> np.ndarray:
        return np.array(self.rows, dtype=bool).reshape(len(self.rows), S) if self.rows else np.zeros((1, S), bool)


def rules_vector(cfg: StrategyConfig, capital: float | None = None) -> np.ndarray:
    """P[Param]: the execution models' fields, the entry rules and the position rules."""
    P = np.full(N_PARAMS, np.nan)
    r, pos = cfg.risk, cfg.position
    sizing = code_of(Sizing, r.sizing, f"{cfg.name}: risk.sizing")
    has_stop = pos.combined_stop is not None or pos.stop_pct_of_credit is not None
    first = cfg.leg_exits(cfg.legs[0])
    if sizing != Sizing.fixed:
        if pos.combined_stop is None and first.stop is None:
            raise ValueError(f"{cfg.name}: risk.sizing {r.sizing!r} needs a stop in rupees (position.combined_stop "
                             f"or the first leg's exits.stop)")
        if (r.risk_rupees if sizing == Sizing.risk else r.kelly_fraction) is None:
            raise ValueError(f"{cfg.name}: risk.sizing {r.sizing!r} needs risk.{'risk_rupees' if sizing == Sizing.risk else 'kelly_fraction'}")
    if r.daily_loss_r is not None and not has_stop and first.stop is None and first.stop_pct is None:
        raise ValueError(f"risk.daily_loss_r: {cfg.name} has no stop to measure R against (no combined stop and no "
                         f"first-leg stop); use risk.daily_loss_rupees")
    values = {**cfg.execution.kernel_fields(),
              "qty_lots": r.qty_lots, "max_open": r.max_open, "max_entries": r.max_entries,
              "one_per_contract": float(r.one_per_contract), "cooldown_exit_s": r.cooldown_after_exit_s,
              "cooldown_losers": r.cooldown_losers, "cooldown_s": r.cooldown_s, "daily_loss_r": r.daily_loss_r,
              "daily_loss_rupees": r.daily_loss_rupees, "sizing": sizing, "risk_rupees": r.risk_rupees,
              "kelly_fraction": r.kelly_fraction, "capital": r.capital if capital is None else capital,
              "min_credit": r.min_credit,
              "session_exit_s": hhmm(pos.session_exit), "combined_stop": pos.combined_stop,
              "stop_pct_credit": pos.stop_pct_of_credit, "combined_target": pos.combined_target,
              "credit_capture": None if pos.credit_capture_pct is None else pos.credit_capture_pct / 100.0,
              "leg_diff_exit": pos.leg_diff_exit, "leg_stop": pos.leg_stop, "max_hold_s": pos.max_hold_s,
              "close_at_end_of_data": float(pos.close_at_end_of_data),
              "legacy_contract_order": float(r.legacy_contract_order)}
    a, b = (pos.divergence_legs or [leg.name for leg in cfg.legs[:2]] + ["", ""])[:2]
    values["div_leg_a"] = cfg.leg_index(a, "position.divergence_legs") if pos.leg_diff_exit is not None else 0
    values["div_leg_b"] = cfg.leg_index(b, "position.divergence_legs") if pos.leg_diff_exit is not None else 1
    if pos.roll is not None:
        values.update(roll_after_s=pos.roll.after_s, roll_score_mult=pos.roll.score_mult, roll_min_pnl=pos.roll.min_pnl,
                      roll_penalty=pos.roll.penalty)
    for k, v in values.items():
        P[getattr(Param, k)] = _nan(v)
    return P


def windows_of(cfg: StrategyConfig) -> np.ndarray:
    w = np.array([[hhmm(a), hhmm(b)] for a, b in cfg.risk.entry_windows], dtype=np.float64).reshape(-1, 2)
    if not len(w):
        raise ValueError(f"{cfg.name}: risk.entry_windows is empty")
    return w


def kernel_inputs(cfg: StrategyConfig, day, plan: Plan, spot: dict, capital: float | None = None) -> KernelInputs:
    """Everything the engine reads for one config on one day."""
    S, C = day.Q.shape[:2]
    LS = leg_matrix(cfg)
    P = rules_vector(cfg, capital)
    pos = cfg.position

    def spot_values(name: str) -> np.ndarray:
        if name in plan.cond:
            return np.asarray(plan.cond[name], float)
        if name == "spot":
            return day.spot
        if name not in spot:
            raise KeyError(f"{cfg.name}: a position rule reads features_spot column {name!r}, which is not loaded")
        return spot[name]

    conds = _Conds()
    kills = np.zeros((len(pos.kills), 2), np.int64)
    for n, kill in enumerate(pos.kills):
        kills[n, 0] = conds.add(CD.evaluate(kill.when, spot_values, day.t_s, f"{cfg.name}: position.kills[{n}]"))
        kills[n, 1] = code_of(ExitReasonNames, kill.reason, f"{cfg.name}: position.kills[{n}].reason")
    if pos.check is not None:
        P[Param.check_cond] = conds.add(CD.schedule(day.t_s, pos.check.every_s, pos.check.start))
        P[Param.check_close_pnl] = pos.check.close_at_pnl
    ADJ = np.zeros((len(pos.adjustments), N_ADJ_FIELDS))
    for n, adj in enumerate(pos.adjustments):
        where = f"{cfg.name}: position.adjustments[{n}]"
        row = ADJ[n]
        row[AdjField.trigger] = code_of(Trigger, adj.trigger, f"{where}.trigger")
        row[AdjField.action] = code_of(Action, adj.action, f"{where}.action")
        row[AdjField.threshold], row[AdjField.sign], row[AdjField.once] = adj.threshold, adj.sign, float(adj.once)
        if row[AdjField.trigger] == Trigger.cond:
            if adj.cond is None:
                raise ValueError(f"{where}: trigger 'cond' needs a cond")
            row[AdjField.arg] = conds.add(CD.evaluate(adj.cond, spot_values, day.t_s, where))
        elif row[AdjField.trigger] in (Trigger.leg_change, Trigger.leg_closed):
            row[AdjField.arg] = cfg.leg_index(adj.leg, f"{where}.leg")
        if row[AdjField.action] in (Action.close_leg, Action.open_leg):
            row[AdjField.leg] = cfg.leg_index(adj.target, f"{where}.target")
            if row[AdjField.action] == Action.open_leg and not cfg.legs[int(row[AdjField.leg])].added:
                raise ValueError(f"{where}: open_leg {adj.target!r} is not an `added` leg")
    exit_sig = exit_signals(cfg, day, plan)
    score = np.zeros((1, 1))
    if pos.roll is not None:
        score = plan.score if plan.score is not None else np.nan_to_num(day.F[pos.roll.score])
    delta = day.F["delta"] if any(a.trigger == "net_delta" for a in pos.adjustments) else np.zeros((1, 1))
    picks = plan.leg_contract if plan.leg_contract is not None else leg_contracts(cfg, day)
    allowed = entry_allowed(cfg.filters, day.date, day.t_s, day.is_expiry_day)
    keep = allowed[plan.entry_i] if len(plan.entry_i) else np.zeros(0, bool)
    plan = plan.keep(keep)
    picks = plan.leg_contract if plan.leg_contract is not None else leg_contracts(cfg, day)
    if picks.shape != (len(cfg.legs), S):
        raise ValueError(f"{cfg.name}: the plan's leg_contract is {picks.shape}, not (legs, seconds) = {(len(cfg.legs), S)}")
    return KernelInputs(plan.entry_i, plan.entry_c, plan.entry_dir, plan.entry_type, plan.entry_px,
                        np.ascontiguousarray(picks, np.int64), conds.matrix(S), exit_sig, np.ascontiguousarray(score, np.float64),
                        np.ascontiguousarray(delta, np.float64), P, LS, windows_of(cfg), kills, ADJ)


class _ExitReasonNames:
    """ExitReason's names a kill-switch may give (code_of reads `_fields`)."""

    _fields = tuple(f for f in ExitReason._fields if f != "none")

    def __getattr__(self, name):
        return getattr(ExitReason, name)


ExitReasonNames = _ExitReasonNames()


def exit_signals(cfg: StrategyConfig, day, plan: Plan) -> np.ndarray:
    """[S, C] int8: the plan's exit signal, where it has none the exits' declared conditions
    (-1 closes longs, +1 closes shorts)."""
    S, C = day.Q.shape[:2]
    out = np.zeros((S, C), np.int8) if plan.exit_sig is None else np.array(plan.exit_sig, np.int8)
    ex = cfg.exits

    def values(name: str) -> np.ndarray:
        if name not in day.F:
            raise KeyError(f"{cfg.name}: an exit condition reads features_options column {name!r}, which is not loaded")
        return day.F[name]

    for cond, code in ((ex.close_long_when, -1), (ex.close_short_when, 1)):
        if cond is not None:
            hit = CD.evaluate(cond, values, day.t_s, f"{cfg.name}: exits")
            out[(out == 0) & hit] = code
    return out


def required_features(cfg: StrategyConfig) -> tuple[set[str], set[str]]:
    """(features_options, features_spot) columns the config's rules and selectors read."""
    from backtest.selectors import features_of

    opts: set[str] = set()
    spot: set[str] = set()
    for cond in (cfg.exits.close_long_when, cfg.exits.close_short_when):
        if cond is not None:
            opts |= CD.features_of(cond)
    for leg in cfg.legs:
        opts |= features_of(leg)
    pos = cfg.position
    for c in [k.when for k in pos.kills] + [a.cond for a in pos.adjustments if a.cond is not None]:
        spot |= CD.features_of(c)
    if pos.roll is not None:
        opts.add(pos.roll.score)
    if any(a.trigger == "net_delta" for a in pos.adjustments):
        opts.add("delta")
    spot.discard("spot")
    return opts, {n for n in spot if not n.startswith("plan.")}     # the plan's own conditions


