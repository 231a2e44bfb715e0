"""Multi-leg strategies of the catalogue: theta-plus-flow S-2..S-10, the Directional Gamma Scalper,
theta plays T-1..T-6 and the retail-pond levers that are strategies (STRATEGIES.md sections 3, 4,
7, 8). Their cards give the cited lines and every approximation.

Directional combos (a long option in the move's direction plus a short on the other side) are
written for an up-move; on a down-move the plan mirrors every leg (CE <-> PE, strike offsets
negated) and hands the engine its own per-second picks (`Plan.leg_contract`).
"""
from __future__ import annotations

import dataclasses

import numpy as np

from backtest.entry_filters import blackout_rules
from backtest.enums import Quote
from backtest.selectors import leg_contracts
from backtest.strategies import derived as D
from backtest.strategies.base import (Adjustment, Check, Cond, Exits, Filters, Leg, Plan, PositionRules, Risk,
                                      StrategyConfig, Strike, hhmm)
from backtest.strategies.single_leg import ema_signals, vs_signals

EPS = 1e-9
DAY_S = 86400


def _leg(name, instrument, strike, side, lots=1.0, **kw) -> Leg:
    return Leg(name, instrument=instrument, strike=strike, side=side, lots=lots, **kw)


def _sod(day) -> np.ndarray:
    return day.t_s % DAY_S


def mirrored(cfg: StrategyConfig) -> StrategyConfig:
    """The config's legs for a down-move: CE <-> PE, strike offsets negated."""
    flip = {"CE": "PE", "PE": "CE"}
    legs = [dataclasses.replace(leg, instrument=flip.get(leg.instrument, leg.instrument),
                                strike=dataclasses.replace(leg.strike, steps=-leg.strike.steps,
                                                           points=-leg.strike.points)) for leg in cfg.legs]
    return dataclasses.replace(cfg, legs=legs)


def directional_plan(day, cfg: StrategyConfig, up: np.ndarray, down: np.ndarray, up_c=None, down_c=None,
                     exit_sig=None) -> Plan:
    """Entry candidates where `up` or `down` [S] holds (up wins a tie), every leg picked per second
    from the up-form or its mirror; `up_c` / `down_c` [S] (optional) the signal's own contract for leg 0."""
    picks_up, picks_down = leg_contracts(cfg, day), leg_contracts(mirrored(cfg), day)
    down = down & ~up
    picks = np.where(down[None, :], picks_down, picks_up)
    i = np.flatnonzero(up | down)
    c = np.full(len(i), -1, np.int64)
    if up_c is not None:
        c = np.where(up[i], up_c[i], down_c[i])
    return Plan(i, c, np.ones(len(i)), exit_sig=exit_sig, leg_contract=picks)


def first_contract(side: np.ndarray, kinds: np.ndarray, kind: str) -> np.ndarray:
    """[S] the first contract of type `kind` whose [S, C] order side is +1 (-1 none)."""
    hit = (side > 0) & (kinds == kind)[None, :]
    return np.where(hit.any(axis=1), np.argmax(hit, axis=1), -1)


def _scalp_fires(day, cfg, rule, params: dict, extra: dict | None = None) -> np.ndarray:
    """[S, C] +1 where a single-leg scalp rule (its own default params) buys on the selected contracts."""
    sub = StrategyConfig("sub", params=params)
    ok = day.selectable(2, ("CE", "PE")) & day.tradable
    F = {**day.F, "lot": np.broadcast_to(day.contracts.lot[None, :].astype(float), ok.shape), **(extra or {})}
    return rule(F, ok, sub).side


# S-2 retail-gamma bleed ---------------------------------------------------------------------------------
def retail_gamma_bleed() -> StrategyConfig:
    return StrategyConfig("retail_gamma_bleed", legs=[_leg("ce", "CE", Strike("points", points=1000.0), -1,
                                                          exits={"stop_pct": 100.0})],
                          risk=Risk(entry_windows=[("11:30:00", "13:00:00")]),
                          params={"max_rv_1m": 0.10, "min_spread": 0.25})


def bleed_plan(day, spot, cfg) -> Plan:
    """Low vol (1-minute realised sigma < 0.10 %) and the 1,000-point OTM call's spread >= 0.25."""
    p = cfg.params
    pick = leg_contracts(cfg, day)[0]
    rows = np.arange(len(pick))
    spread = np.where(pick >= 0, day.F["spread"][rows, np.maximum(pick, 0)], np.nan)
    with np.errstate(invalid="ignore"):
        return Plan.every_second((spot["rv_1m"] < p["max_rv_1m"]) & (spread >= p["min_spread"] - EPS))


# S-3 momentum-hedge short leg ---------------------------------------------------------------------------
VS_PARAMS = {"spike_mult": 3.0, "higher_highs": 3, "max_spread": 0.40, "offset": 0.05}


def momentum_hedge_short() -> StrategyConfig:
    return StrategyConfig(
        "momentum_hedge_short",
        legs=[_leg("long", "CE", Strike("atm"), 1, 3.0, exits={"stop": 1.0, "trail_activate": 0.0, "trail_offset": 1.0,
                                                                "trail_on_ltp": True}),
              _leg("short", "PE", Strike("atm"), -1, 1.0)],
        position=PositionRules(adjustments=[Adjustment("leg_closed", "close_position", leg="long")]),
        risk=Risk(entry_windows=[("09:45:00", "11:00:00")]), params=dict(VS_PARAMS))


def momentum_hedge_plan(day, spot, cfg) -> Plan:
    """The volume-spike ladder buys a call (put): 3 lots of the ATM call (put) long, 1 ATM put (call) short."""
    fires = _scalp_fires(day, cfg, vs_signals, cfg.params)
    return directional_plan(day, cfg, (fires > 0)[:, day.contracts.opt_type == "CE"].any(axis=1),
                            (fires > 0)[:, day.contracts.opt_type == "PE"].any(axis=1))


# Directional Gamma Scalper (L5790-5890) -----------------------------------------------------------------
def directional_gamma_scalper() -> StrategyConfig:
    return StrategyConfig(
        "directional_gamma_scalper",
        legs=[_leg("runner", "CE", Strike("atm"), 1, 1.0, exits={"trail_activate": 2.0, "trail_offset": 1.0,
                                                                  "trail_on_ltp": True}),
              _leg("theta", "PE", Strike("points", points=-400.0), -1, 2.0)],
        position=PositionRules(session_exit="14:45:00", max_hold_s=1200.0,
                               adjustments=[Adjustment("spot_move", "close_leg", target="theta", threshold=0.25)]),
        risk=Risk(entry_windows=[("09:20:00", "10:15:00"), ("13:00:00", "14:30:00")], cooldown_losers=3,
                  cooldown_s=900.0),
        params={**VS_PARAMS, "min_roc_pct": 0.15, "min_slope": 0.02, "limit_if_spread_le": 0.25, "short": False})


def dgs_plan(day, spot, cfg) -> Plan:
    """The ladder or the micro-EMA flip buys a call (put) while the index's 60-s ROC is >= +0.15 %
    (<= -0.15 %): long the ATM call (put), short 2x the put (call) 400 points OTM."""
    p = cfg.params
    fires = (_scalp_fires(day, cfg, vs_signals, p) > 0) | (_scalp_fires(day, cfg, ema_signals, p) > 0)
    ce, pe = day.contracts.opt_type == "CE", day.contracts.opt_type == "PE"
    with np.errstate(invalid="ignore"):
        up = fires[:, ce].any(axis=1) & (spot["roc_60s"] >= p["min_roc_pct"] - EPS)
        down = fires[:, pe].any(axis=1) & (spot["roc_60s"] <= -p["min_roc_pct"] + EPS)
    return directional_plan(day, cfg, up, down)


# S-4 intraday iron snap ----------------------------------------------------------------------------------
def _iron(name: str, wing: float, **position) -> StrategyConfig:
    return StrategyConfig(name, legs=[_leg("ce", "CE", Strike("atm"), -1), _leg("pe", "PE", Strike("atm"), -1),
                                      _leg("ce_wing", "CE", Strike("points", points=wing), 1),
                                      _leg("pe_wing", "PE", Strike("points", points=-wing), 1)],
                          position=PositionRules(**position))


def iron_snap() -> StrategyConfig:
    cfg = _iron("iron_snap", 150.0, adjustments=[Adjustment("spot_move", "close_position", threshold=0.30)])
    cfg.risk = Risk(entry_windows=[("09:30:00", "14:30:00")])
    cfg.params = {"min_spread": 1.0, "vwap_band": 0.50}
    return cfg


def iron_snap_plan(day, spot, cfg) -> Plan:
    """The ATM call's spread >= 1 while its LTP is within 0.50 of its VWAP."""
    p = cfg.params
    pick = leg_contracts(cfg, day)[0]
    rows, c = np.arange(len(pick)), np.maximum(pick, 0)
    with np.errstate(invalid="ignore"):
        ok = (pick >= 0) & (day.F["spread"][rows, c] >= p["min_spread"] - EPS) & \
             (np.abs(day.Q[rows, c, Quote.ltp] - day.F["vwap"][rows, c]) <= p["vwap_band"] + EPS)
    return Plan.every_second(ok)


# S-5 post-news condor fade -------------------------------------------------------------------------------
def post_news_condor() -> StrategyConfig:
    cfg = StrategyConfig("post_news_condor",
                         legs=[_leg("ce", "CE", Strike("points", points=300.0), -1),
                               _leg("pe", "PE", Strike("points", points=-300.0), -1),
                               _leg("ce_wing", "CE", Strike("points", points=600.0), 1),
                               _leg("pe_wing", "PE", Strike("points", points=-600.0), 1)],
                         risk=Risk(entry_windows=[("10:00:00", "14:30:00")], max_entries=1),
                         params={"iv_rise": 6.0, "iv_window_s": 600})
    return cfg


def condor_plan(day, spot, cfg) -> Plan:
    """On an RBI policy day (backtest/data/entry_blackouts.csv): ATM IV up >= 6 points over 10 min."""
    p = cfg.params
    rbi = any(r["rule"] == "rbi_policy" and r["date"] == day.date for r in blackout_rules())
    iv = spot["atm_iv"]
    with np.errstate(invalid="ignore"):
        ok = (iv - D.lag(iv, p["iv_window_s"]) >= p["iv_rise"] - EPS) & rbi
    return Plan.every_second(ok)


# S-6 Friday theta dunk ----------------------------------------------------------------------------------
def friday_theta_dunk() -> StrategyConfig:
    return StrategyConfig(
        "friday_theta_dunk",
        legs=[_leg("ce", "CE", Strike("atm"), -1), _leg("pe", "PE", Strike("atm"), -1),
              _leg("fut", "FUT", Strike("future"), 1, 1.0, expiry="monthly", added=True, side_from_trigger=True)],
        position=PositionRules(session_exit="15:15:00", combined_stop=3.0,
                               adjustments=[Adjustment("net_delta", "open_leg", target="fut", threshold=0.5)]),
        risk=Risk(entry_windows=[("14:00:00", "14:05:00")], max_entries=1),
        filters=Filters(weekdays=("FRI",)), params={"min_atm_iv": 16.0})


def iv_at_least(day, spot, cfg) -> Plan:
    """ATM IV >= min_atm_iv."""
    with np.errstate(invalid="ignore"):
        return Plan.every_second(spot["atm_iv"] >= cfg.params["min_atm_iv"] - EPS)


# S-7 100-point magnet short -------------------------------------------------------------------------------
def magnet_short() -> StrategyConfig:
    return StrategyConfig(
        "magnet_short",
        legs=[_leg("ce", "CE", Strike("points", points=100.0), -1), _leg("pe", "PE", Strike("points", points=-100.0), -1),
              _leg("fut", "FUT", Strike("future"), 1, 1.0, expiry="monthly", added=True, side_from_trigger=True)],
        position=PositionRules(adjustments=[Adjustment("spot_move", "open_leg", target="fut", threshold=0.25)]),
        risk=Risk(entry_windows=[("09:30:00", "14:30:00")], max_entries=1),
        params={"magnet_step": 1000.0, "within_pts": 40.0})


def round_dist(spot: dict, step: float, who: str) -> np.ndarray:
    """The registry's distance of the index from the nearest multiple of `step` (features_spot
    round_dist_<step>; the registry holds the steps of features.chain.ROUND_STEPS)."""
    name = f"round_dist_{step:g}"
    if name not in spot:
        raise ValueError(f"{who}: no features_spot column {name}; the registry has "
                         f"{', '.join(n for n in ROUND_COLUMNS)}")
    return spot[name]


ROUND_COLUMNS = ("round_dist_100", "round_dist_1000")


def magnet_plan(day, spot, cfg) -> Plan:
    """The index within 40 points of a round level (multiples of `magnet_step`)."""
    p = cfg.params
    with np.errstate(invalid="ignore"):
        return Plan.every_second(np.abs(round_dist(spot, p["magnet_step"], cfg.name)) <= p["within_pts"] + EPS)


# S-8 put-bid retail panic -----------------------------------------------------------------------------------
def put_bid_panic() -> StrategyConfig:
    return StrategyConfig(
        "put_bid_panic",
        legs=[_leg("pe", "PE", Strike("points", points=-200.0), -1, exits={"target_pct": 50.0}),
              _leg("ce", "CE", Strike("points", points=300.0), 1,
                   exits={"stop": 1.0, "trail_activate": 0.0, "trail_offset": 1.0, "trail_on_ltp": True})],
        risk=Risk(entry_windows=[("09:30:00", "15:00:00")], max_entries=1), params={"red_candles": 3})


def panic_plan(day, spot, cfg) -> Plan:
    """Three red 5-minute index candles in a row (the 'WhatsApp buzz' is not recorded: dropped)."""
    return Plan.every_second(spot["candle_streak_5m"] <= -cfg.params["red_candles"])


# S-10 gamma-pin wick seller ----------------------------------------------------------------------------------
def pin_wick_seller() -> StrategyConfig:
    return StrategyConfig(
        "pin_wick_seller",
        legs=[_leg("ce", "CE", Strike("max_oi", within=5), -1), _leg("pe", "PE", Strike("same_as", leg="ce"), -1),
              _leg("ce_wing", "CE", Strike("points", points=100.0), 1),
              _leg("pe_wing", "PE", Strike("points", points=-100.0), 1)],
        position=PositionRules(adjustments=[Adjustment("spot_move", "close_position", threshold=0.14)]),
        risk=Risk(entry_windows=[("12:30:00", "12:35:00")], max_entries=1),
        filters=Filters(expiry_day="only"))


def always(day, spot, cfg) -> Plan:
    """A candidate every second (the entry windows, filters and caps decide)."""
    return Plan.every_second(np.ones(len(day.t_s), bool))


# T-1 theta-density ladder -----------------------------------------------------------------------------------
def theta_density_ladder() -> StrategyConfig:
    return StrategyConfig(
        "theta_density_ladder",
        legs=[_leg("ce", "CE", Strike("feature", feature="theta_score", within=5, otm_only=True), -1),
              _leg("pe", "PE", Strike("feature", feature="theta_score", within=5, otm_only=True), -1)],
        position=PositionRules(combined_stop=2.0, adjustments=[
            Adjustment("spot_move", "close_leg", target="ce", threshold=0.2, sign=1),
            Adjustment("spot_move", "close_leg", target="pe", threshold=0.2, sign=-1)]),
        risk=Risk(entry_windows=[("09:30:00", "14:30:00")]), params={"max_rv_1m": 0.12, "min_atm_iv": 10.0})


def quiet_plan(day, spot, cfg) -> Plan:
    """1-minute realised sigma < max_rv_1m and ATM IV > min_atm_iv."""
    p = cfg.params
    with np.errstate(invalid="ignore"):
        return Plan.every_second((spot["rv_1m"] < p["max_rv_1m"]) & (spot["atm_iv"] > p["min_atm_iv"]))


# T-2 rolling time-spread ---------------------------------------------------------------------------------------
def rolling_time_spread() -> StrategyConfig:
    return StrategyConfig(
        "rolling_time_spread",
        legs=[_leg("near", "CE", Strike("atm"), -1), _leg("far", "CE", Strike("same_as", leg="near"), 1,
                                                          expiry="next_weekly")],
        position=PositionRules(check=Check(every_s=1800.0, close_at_pnl=-1e9)),
        risk=Risk(entry_windows=[("09:30:00", "14:45:00")]), params={"min_iv_spread": 1.0})


def time_spread_plan(day, spot, cfg) -> Plan:
    """The near ATM call's IV over the next week's same strike by >= min_iv_spread points."""
    picks = leg_contracts(cfg, day)
    rows = np.arange(picks.shape[1])
    have = (picks >= 0).all(axis=0)
    iv = day.F["iv"]
    with np.errstate(invalid="ignore"):
        spread = np.where(have, iv[rows, np.maximum(picks[0], 0)] - iv[rows, np.maximum(picks[1], 0)], np.nan)
        return Plan.every_second(spread >= cfg.params["min_iv_spread"] - EPS)


# T-3 gamma-clip scalper ---------------------------------------------------------------------------------------
def gamma_clip_scalper() -> StrategyConfig:
    return StrategyConfig(
        "gamma_clip_scalper",
        legs=[_leg("long", "option", Strike("signal"), 1),
              _leg("short", "PE", Strike("delta", value=0.25, within=10, otm_only=True), -1,
                   exits={"target_pct": 50.0, "signal": False})],
        exits=Exits(stop=1.5, locks=[(1.5, -0.30)], trail_activate=1.5, trail_offset=1.0, trail_on_ltp=True,
                    close_long_when=Cond("ema6", "cross_below", "ema18")),
        position=PositionRules(adjustments=[Adjustment("spot_move", "close_leg", target="short", threshold=0.3)]),
        risk=Risk(entry_windows=[("09:20:00", "14:30:00")]),
        params={"min_slope": 0.02, "limit_if_spread_le": 0.25, "offset": 0.05, "short": False})


def gamma_clip_plan(day, spot, cfg) -> Plan:
    """The micro-EMA flip buys a call (put): long it, short the 25-delta OTM put (call)."""
    side = _scalp_fires(day, cfg, ema_signals, cfg.params)
    kinds = day.contracts.opt_type
    up_c, down_c = first_contract(side, kinds, "CE"), first_contract(side, kinds, "PE")
    return directional_plan(day, cfg, up_c >= 0, down_c >= 0, up_c, down_c)


# T-4 lunch-hour iron net ----------------------------------------------------------------------------------------
def lunch_iron_net() -> StrategyConfig:
    cfg = _iron("lunch_iron_net", 150.0, session_exit="13:15:00",
                adjustments=[Adjustment("spot_move", "close_position", threshold=0.2)])
    cfg.risk = Risk(entry_windows=[("11:45:00", "13:15:00")], max_entries=1)
    cfg.params = {"min_atm_iv": 12.0}
    return cfg


# T-5 retail-fade short side ---------------------------------------------------------------------------------------
def retail_fade_short() -> StrategyConfig:
    return StrategyConfig(
        "retail_fade_short",
        legs=[_leg("short", "CE", Strike("points", points=200.0), -1, 2.0, exits={"stop_pct": 100.0}),
              _leg("wing", "CE", Strike("points", points=300.0), 1, 1.0)],
        position=PositionRules(max_hold_s=1200.0),
        risk=Risk(entry_windows=[("09:45:00", "14:45:00")]), params={"candles": 3})


def retail_fade_plan(day, spot, cfg) -> Plan:
    """3 green 5-minute candles: sell 2 lots of the call 200 points OTM, buy 1 lot 300 OTM; 3 red: the puts."""
    streak = spot["candle_streak_5m"]
    n = cfg.params["candles"]
    return directional_plan(day, cfg, streak >= n, streak <= -n)


# T-6 theta waterfall -------------------------------------------------------------------------------------------------
def theta_waterfall() -> StrategyConfig:
    return StrategyConfig(
        "theta_waterfall", legs=[_leg("ce", "CE", Strike("atm"), -1), _leg("pe", "PE", Strike("atm"), -1)],
        position=PositionRules(session_exit="14:45:00", adjustments=[Adjustment("new_position", "close_oldest")]),
        risk=Risk(entry_windows=[("10:00:00", "10:01:00"), ("11:00:00", "11:01:00"), ("12:00:00", "12:01:00")],
                  max_open=3, max_entries=3, one_per_contract=False), params={"max_spread": 0.25})


def waterfall_plan(day, spot, cfg) -> Plan:
    """The first second of each round-hour window where both ATM spreads are <= 0.25."""
    picks = leg_contracts(cfg, day)
    rows = np.arange(picks.shape[1])
    have = (picks >= 0).all(axis=0)
    sp = day.F["spread"]
    with np.errstate(invalid="ignore"):
        tight = have & (np.nan_to_num(sp[rows, np.maximum(picks[0], 0)], nan=9) <= cfg.params["max_spread"] + EPS) & \
            (np.nan_to_num(sp[rows, np.maximum(picks[1], 0)], nan=9) <= cfg.params["max_spread"] + EPS)
    sod = _sod(day)
    ok = np.zeros(len(sod), bool)
    for a, b in cfg.risk.entry_windows:
        inside = np.flatnonzero(tight & (sod >= hhmm(a)) & (sod <= hhmm(b)))
        if len(inside):
            ok[inside[0]] = True
    return Plan.every_second(ok)


# pond lever 2: post-lunch retail gamma panic ---------------------------------------------------------------------------
def post_lunch_gamma_panic() -> StrategyConfig:
    cfg = StrategyConfig("post_lunch_gamma_panic",
                         legs=[_leg("long", "option", Strike("signal"), 1)],
                         exits=Exits(stop=1.5, trail_activate=1.5, trail_offset=0.8, trail_on_ltp=True),
                         risk=Risk(entry_windows=[("13:15:00", "14:00:00")], max_entries=2),
                         params={"roc_pct": 0.25, "roc_s": 300, "iv_mean_s": 300})
    return cfg


def gamma_panic_plan(day, spot, cfg) -> Plan:
    """The index's 5-minute ROC > 0.25 %: buy the ATM call (put on a fall); out when the contract's
    IV falls back under its 5-minute mean (the IV mean reversion) or by the trail."""
    p = cfg.params
    roc = D.move_pct(day.spot, p["roc_s"])
    kinds = day.contracts.opt_type
    atm = (day.strikes_from_atm < 0.5) & day.tradable
    S = len(day.t_s)
    up_c = np.where(atm[:, kinds == "CE"].any(axis=1), np.argmax(atm & (kinds == "CE")[None, :], axis=1), -1)
    down_c = np.where(atm[:, kinds == "PE"].any(axis=1), np.argmax(atm & (kinds == "PE")[None, :], axis=1), -1)
    with np.errstate(invalid="ignore"):
        up, down = (roc > p["roc_pct"] + EPS) & (up_c >= 0), (roc < -p["roc_pct"] - EPS) & (down_c >= 0)
        iv = day.F["iv"]
        exit_sig = np.where(iv < D.rolling_mean(iv, p["iv_mean_s"]) - EPS, -1, 0).astype(np.int8)
    i = np.flatnonzero(up | (down & ~up))
    c = np.where(up[i], up_c[i], down_c[i])
    plan = Plan(i, c, np.ones(len(i)), exit_sig=exit_sig)
    assert plan.exit_sig.shape[0] == S
    return plan


# pond lever 3: Friday theta donuts ----------------------------------------------------------------------------------------
def friday_theta_donuts() -> StrategyConfig:
    return StrategyConfig("friday_theta_donuts",
                          legs=[_leg("long", "option", Strike("signal"), 1,
                                     order=dataclasses.replace(Leg().order, type="limit", price="signal",
                                                               timeout_s=5.0))],
                          exits=Exits(target=0.10, time_stop_s=30.0),
                          risk=Risk(entry_windows=[("14:30:00", "15:15:00")]),
                          filters=Filters(weekdays=("FRI",)), params={"max_premium": 5.0, "offset": 0.05})


def donuts_plan(day, spot, cfg) -> Plan:
    """Weekly options at <= Rs 5 ('worthless'): a bid one tick under the best bid, resting 5 s
    (an IOC under the bid cannot fill: the seed's 'IOC' is read as a short-lived limit)."""
    p = cfg.params
    ok = day.tradable & day.contract_mask("option", "weekly")[None, :]
    bid = day.Q[:, :, Quote.bid]
    with np.errstate(invalid="ignore"):
        hit = ok & (bid <= p["max_premium"] + EPS) & (bid > p["offset"] + EPS)
    prev = np.zeros_like(hit)
    prev[1:] = hit[:-1]
    i, c = np.nonzero(hit & ~prev)
    px = np.round((bid[i, c] - p["offset"]) / 0.05) * 0.05
    return Plan(i, c, np.ones(len(i)), np.full(len(i), 1), px)


# pond lever 12: T-pin recovery Monday open ---------------------------------------------------------------------------------
def tpin_monday_open() -> StrategyConfig:
    return StrategyConfig("tpin_monday_open", legs=[_leg("ce", "CE", Strike("atm"), -1), _leg("pe", "PE", Strike("atm"), -1)],
                          position=PositionRules(session_exit="09:25:00"),
                          risk=Risk(entry_windows=[("09:15:00", "09:18:00")], max_entries=1),
                          filters=Filters(weekdays=("MON",), blackouts=("rbi_policy", "budget")))


# the catalogue entries: (name, default, signals, features_options read, features_spot read)
ENTRIES = [
    ("retail_gamma_bleed", retail_gamma_bleed, bleed_plan, ("spread",), ("rv_1m",)),
    ("momentum_hedge_short", momentum_hedge_short, momentum_hedge_plan,
     ("vol_30s", "vol_5m", "vol_30s_ok", "vol_5m_ok", "higher_highs", "spread", "bid_px0"), ()),
    ("directional_gamma_scalper", directional_gamma_scalper, dgs_plan,
     ("vol_30s", "vol_5m", "vol_30s_ok", "vol_5m_ok", "higher_highs", "spread", "bid_px0", "ask_px0", "ema6", "ema18",
      "ema6_slope"), ("roc_60s",)),
    ("iron_snap", iron_snap, iron_snap_plan, ("spread", "vwap"), ()),
    ("post_news_condor", post_news_condor, condor_plan, (), ("atm_iv",)),
    ("friday_theta_dunk", friday_theta_dunk, iv_at_least, (), ("atm_iv",)),
    ("magnet_short", magnet_short, magnet_plan, (), ROUND_COLUMNS),
    ("put_bid_panic", put_bid_panic, panic_plan, (), ("candle_streak_5m",)),
    ("pin_wick_seller", pin_wick_seller, always, (), ()),
    ("theta_density_ladder", theta_density_ladder, quiet_plan, ("theta_score",), ("rv_1m", "atm_iv")),
    ("rolling_time_spread", rolling_time_spread, time_spread_plan, ("iv",), ()),
    ("gamma_clip_scalper", gamma_clip_scalper, gamma_clip_plan, ("ema6", "ema18", "ema6_slope", "spread", "bid_px0",
                                                                  "ask_px0"), ()),
    ("lunch_iron_net", lunch_iron_net, iv_at_least, (), ("atm_iv",)),
    ("retail_fade_short", retail_fade_short, retail_fade_plan, (), ("candle_streak_5m",)),
    ("theta_waterfall", theta_waterfall, waterfall_plan, ("spread",), ()),
    ("post_lunch_gamma_panic", post_lunch_gamma_panic, gamma_panic_plan, ("iv",), ()),
    ("friday_theta_donuts", friday_theta_donuts, donuts_plan, (), ()),
    ("tpin_monday_open", tpin_monday_open, always, (), ()),
]
