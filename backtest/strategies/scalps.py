"""The rest of the "+Rs 2 / -Rs 1.5" scalps (#3, #5-#8, #11-#15, #17-#20; STRATEGIES.md section 1)
and the upgraded specs C-1..C-18 that run on this data (section 2). Their cards
(backtest/strategies/cards/*.toml) give the cited lines, the proxies and what is left out.

Each is `default()` and a per-contract rule `rule(day, spot, F, ok, cfg) -> OrderBook` (F: the
day's feature matrices plus "lot", "price" and "vol" from the quote matrix; ok: the tradable,
selected contracts); `per_contract(rule)` makes it the catalogue's `signals(day, spot, cfg)`.
Unless a card says otherwise: one leg whose contract and side the signal picks, an entry limit
cancelled when the market does not take it on arrival (the 300-ms rule of L889 at 1-second
resolution), TP +2 / SL -1.5 (L835-840: every scalp of the spec pack).
"""
from __future__ import annotations

import numpy as np

from backtest.enums import OrderType, Quote
from backtest.strategies import derived as D
from backtest.strategies.base import Cond, Exits, Filters, Leg, Order, OrderBook, Plan, Risk, Selection, StrategyConfig, Strike
from backtest.strategies.single_leg import orb_signals, scalp_leg
from backtest.strategies.theta_flow import ROUND_COLUMNS, round_dist

EPS = 1e-9
FIXED = dict(target=2.0, stop=1.5)


def per_contract(rule):
    """signals(day, spot, cfg) of rule(day, spot, F, ok, cfg) -> OrderBook; an OrderBook's
    `exit_side` and a rule's extra `cond` ride along."""
    def signals(day, spot: dict, cfg: StrategyConfig) -> Plan:
        leg = cfg.legs[0]
        ok = day.selectable(cfg.selection.strikes, cfg.selection.opt_types, leg.expiry, leg.on_expiry_day) & day.tradable
        F = {**day.F, "lot": np.broadcast_to(day.contracts.lot[None, :].astype(float), ok.shape),
             "ltp": day.Q[:, :, Quote.ltp], "vol": day.Q[:, :, Quote.vol],
             "bid": day.Q[:, :, Quote.bid], "ask": day.Q[:, :, Quote.ask]}
        return rule(day, spot, F, ok, cfg).plan()
    signals.__name__ = signals.__qualname__ = rule.__name__
    signals.__doc__ = rule.__doc__
    return signals


def _order(o: OrderBook, mask: np.ndarray, side: int, typ: int, px: np.ndarray | None = None) -> None:
    free = mask & (o.side == 0)
    o.side[free], o.type[free] = side, typ
    if px is not None:
        o.price[free] = np.round(np.broadcast_to(px, mask.shape)[free] / 0.05) * 0.05


def _where_selectable(fn, x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """fn(x) on the contracts selectable at some second of the day, NaN on the others: a window
    over a contract the rule can never trade (hence never hold) decides nothing."""
    cols = ok.any(axis=0)
    if cols.all():
        return fn(x)
    out = np.full(x.shape, np.nan)
    if cols.any():
        out[:, cols] = fn(np.ascontiguousarray(x[:, cols]))
    return out


def _first(mask: np.ndarray) -> np.ndarray:
    """Only the first second of each run where mask holds (a condition fires once, not every second)."""
    prev = np.zeros_like(mask)
    prev[1:] = mask[:-1]
    return mask & ~prev


def _spot_col(day, x: np.ndarray) -> np.ndarray:
    return np.broadcast_to(np.asarray(x)[:, None], (len(day.t_s), len(day.contracts.strike)))


def _is(day, opt_type: str) -> np.ndarray:
    return np.broadcast_to((day.contracts.opt_type == opt_type)[None, :], (len(day.t_s), len(day.contracts.strike)))


def _scalp(name: str, exits: Exits, order: Order | None = None, windows=None, params=None, **kw) -> StrategyConfig:
    cfg = StrategyConfig(name, legs=scalp_leg(order or Order("limit", "signal", timeout_s=0)), exits=exits,
                         params=params or {}, **kw)
    if windows:
        cfg.risk = Risk(entry_windows=windows)
    return cfg


# #3 VWAP tag-and-go (L1001-1016) ------------------------------------------------------------------
def vwap_tag_and_go() -> StrategyConfig:
    return _scalp("vwap_tag_and_go", Exits(stop=1.5, locks=[(2.0, -0.30)], atr_mult=0.8),
                  windows=[("10:30:00", "13:00:00")], params={"band": 0.50, "index_band_pct": 0.20})


def vwap_tag_rule(day, spot, F, ok, cfg) -> OrderBook:
    """The LTP comes down into VWAP +- 0.50 (it was above the band the second before) while the
    index is within +-0.2 % of its open; a limit at that LTP. Out when the index leaves the band."""
    p, o = cfg.params, OrderBook(ok.shape)
    gap = F["ltp"] - F["vwap"]
    band_pct = np.abs(D.since_open_pct(day.spot))
    calm = _spot_col(day, band_pct <= p["index_band_pct"] + EPS)
    tag = ok & calm & (np.abs(gap) <= p["band"] + EPS) & (D.lag(gap, 1) > p["band"] + EPS)
    _order(o, tag, 1, OrderType.limit, F["ltp"])
    o.exit_side[_spot_col(day, band_pct > p["index_band_pct"] + EPS)] = -1
    return o


# #5 IV-spike fade (L611-613) -----------------------------------------------------------------------
def iv_spike_fade() -> StrategyConfig:
    return _scalp("iv_spike_fade", Exits(time_stop_s=30), Order("market", "signal", timeout_s=0),
                  params={"iv_jump": 5.0, "jump_s": 2, "max_index_move_pct": 0.15, "take_iv_drop": 3.0,
                          "stop_iv_rise": 2.0})


def iv_spike_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Sell the contract whose IV jumped > 5 vol points over 2 s while the index moved < 0.15 %;
    buy back when its IV is 3 points under the signal second's IV, or 2 over it (stop), or after
    30 s. The futures delta hedge is not modelled (the card)."""
    p, o = cfg.params, OrderBook(ok.shape)
    iv = F["iv"]
    quiet = _spot_col(day, np.abs(D.move_pct(day.spot, p["jump_s"])) < p["max_index_move_pct"])
    with np.errstate(invalid="ignore"):
        hit = _first(ok & quiet & (iv - D.lag(iv, p["jump_s"]) > p["iv_jump"] + EPS))
    _order(o, hit, -1, OrderType.market)
    anchor = np.where(hit, iv, np.nan)
    anchor = _ffill(anchor)
    with np.errstate(invalid="ignore"):
        out = (iv <= anchor - p["take_iv_drop"] + EPS) | (iv >= anchor + p["stop_iv_rise"] - EPS)
    o.exit_side[out] = 1
    return o


def _ffill(x: np.ndarray) -> np.ndarray:
    """Forward-fill NaN down each column."""
    idx = np.where(~np.isnan(x), np.arange(len(x))[:, None], 0)
    np.maximum.accumulate(idx, axis=0, out=idx)
    out = x[idx, np.arange(x.shape[1])[None, :]]
    return out


# #6 bid-ask snap-back (L686, L1018-1031) -----------------------------------------------------------
def spread_snap_back() -> StrategyConfig:
    return _scalp("spread_snap_back", Exits(**FIXED, close_long_when=Cond("spread", ">", 0.70)),
                  params={"wide": 1.0, "tight": 0.40, "quiet_s": 30, "within": 3, "offset": 0.05})


def snap_back_rule(day, spot, F, ok, cfg) -> OrderBook:
    """The spread was <= 0.40 for 30 s, widened to >= 1.00, and is back <= 0.40 within 3 seconds:
    buy at bid + 0.05; out at TP/SL or a spread over 0.70."""
    p, o = cfg.params, OrderBook(ok.shape)
    sp = F["spread"]
    with np.errstate(invalid="ignore"):
        blowout = (sp >= p["wide"] - EPS) & (D.lag(D.rolling_max(sp, p["quiet_s"]), 1) <= p["tight"] + EPS)
        recent = D.rolling_max(D.lag(blowout.astype(float), 1), p["within"]) > 0
        hit = ok & recent & (sp <= p["tight"] + EPS)
    _order(o, _first(hit), 1, OrderType.limit, F["bid"] + p["offset"])
    return o


# #7 gamma-pin wick (L689) -----------------------------------------------------------------------------
def gamma_pin_wick() -> StrategyConfig:
    cfg = _scalp("gamma_pin_wick", Exits(**FIXED, time_stop_s=45), Order("market", "signal", timeout_s=0),
                 windows=[("12:00:00", "13:45:00")],
                 params={"pin_pct": 0.05, "min_oi_lots": 3_000_000, "jump": 3.0, "jump_s": 10})
    cfg.filters = Filters(expiry_day="only")
    return cfg


def pin_wick_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Expiry day: the index within 0.05 % of the strike, its OI >= 3 M lots (the seed's number),
    the premium up >= 3 over 10 s and ticking back down: sell it (the fade)."""
    p, o = cfg.params, OrderBook(ok.shape)
    k = day.contracts.strike[None, :].astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        pinned = np.abs(day.spot[:, None] - k) / day.spot[:, None] * 100 <= p["pin_pct"] + EPS
        heavy = F["oi"] / F["lot"] >= p["min_oi_lots"] - EPS
        ltp = F["ltp"]
        jumped = ltp - D.rolling_min(ltp, p["jump_s"]) >= p["jump"] - EPS
        snap = ltp < D.lag(ltp, 1) - EPS
    _order(o, _first(ok & pinned & heavy & D.lag(jumped.astype(float), 1).astype(bool) & snap), -1, OrderType.market)
    return o


# #8 micro basis arb (L690) -----------------------------------------------------------------------------
def micro_basis_arb() -> StrategyConfig:
    return _scalp("micro_basis_arb", Exits(**FIXED), Order("market", "signal", timeout_s=0),
                  params={"gap_pct": 0.02, "closed_frac": 0.70, "within_s": 2, "option_still": 0.05})


def basis_rule(day, spot, F, ok, cfg) -> OrderBook:
    """The future's basis over spot was > 0.02 % and closed > 70 % within 2 s, by the future
    moving; the option has not moved (< 0.05 in those 2 s): buy the call if the future rose, the
    put if it fell. Out at TP/SL or when the basis re-widens past 0.02 %."""
    p, o, n = cfg.params, OrderBook(ok.shape), cfg.params["within_s"]
    with np.errstate(invalid="ignore", divide="ignore"):
        basis = spot["fut_basis"] / day.spot * 100.0
        was = D.lag(basis, n)
        closed = (np.abs(was) > p["gap_pct"] + EPS) & (np.abs(basis) <= (1 - p["closed_frac"]) * np.abs(was) + EPS)
        fut_move = spot["fut_price"] - D.lag(spot["fut_price"], n)
        still = np.abs(F["ltp"] - D.lag(F["ltp"], n)) < p["option_still"] - EPS
    base = ok & still & _spot_col(day, closed)
    _order(o, _first(base & _spot_col(day, fut_move > 0) & _is(day, "CE")), 1, OrderType.market)
    _order(o, _first(base & _spot_col(day, fut_move < 0) & _is(day, "PE")), 1, OrderType.market)
    o.exit_side[_spot_col(day, np.abs(basis) > p["gap_pct"] + EPS) & ~_spot_col(day, closed)] = -1
    return o


# #11 VWAP -0.5 sigma band tap (L693, L1068-1084) --------------------------------------------------------
def vwap_sigma_tap() -> StrategyConfig:
    return _scalp("vwap_sigma_tap", Exits(stop=1.5, atr_mult=1.0), windows=[("10:30:00", "14:30:00")],
                  params={"sigma_mult": 0.5, "sigma_s": 900, "stall_s": 5, "msg_s": 60})


def sigma_tap_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Mid-day drift (the 60-s mean of quote changes per second below its session mean: the
    message-rate proxy); the LTP touched VWAP - 0.5 sigma(15 min of LTP) 5 s ago and has made no
    lower LTP since: buy at the LTP. SL -1.5, no TP, the ATR(1 min) trail."""
    p, o, n = cfg.params, OrderBook(ok.shape), cfg.params["stall_s"]
    ltp = F["ltp"]
    qc = np.nan_to_num(F["quote_changes"])
    session_mean = np.cumsum(qc, axis=0) / np.arange(1, len(qc) + 1)[:, None]
    with np.errstate(invalid="ignore"):
        calm = _where_selectable(lambda x: D.rolling_mean(x, p["msg_s"]), qc, ok) < session_mean
        band = F["vwap"] - p["sigma_mult"] * _where_selectable(lambda x: D.rolling_std(x, p["sigma_s"]), ltp, ok)
        touched = D.lag(ltp, n) <= D.lag(band, n) + EPS
        stalled = D.rolling_min(ltp, n) >= D.lag(ltp, n) - EPS
    _order(o, _first(ok & calm & touched & stalled), 1, OrderType.limit, ltp)
    return o


# #12 skew-rebal kick (L1209-1239) ---------------------------------------------------------------------
def skew_rebal_kick() -> StrategyConfig:
    return _scalp("skew_rebal_kick", Exits(stop=1.5, trail_activate=1.5, trail_offset=0.8, trail_on_ltp=True,
                                           time_stop_s=90), Order("market", "signal", timeout_s=0),
                  selection=Selection(strikes=10),
                  params={"index_move_pct": 0.40, "move_s": 150, "skew_rise": 2.0, "skew_s": 3, "delta": 0.25})


def skew_kick_rule(day, spot, F, ok, cfg) -> OrderBook:
    """The index up >= 0.40 % from its 150-s low and the call skew (IV 25-delta call - ATM IV) up
    >= 2 points over 3 s: buy the call nearest delta 0.25; the mirror for puts on a fall."""
    p, o = cfg.params, OrderBook(ok.shape)
    rows = np.arange(ok.shape[0])
    for kind, move, wing in (("CE", D.up_move_pct(day.spot, p["move_s"]), "iv_25d_call"),
                             ("PE", -D.down_move_pct(day.spot, p["move_s"]), "iv_25d_put")):
        skew = spot[wing] - spot["atm_iv"]
        with np.errstate(invalid="ignore"):
            fire = _first((move >= p["index_move_pct"] - EPS) & (skew - D.lag(skew, p["skew_s"]) >= p["skew_rise"] - EPS))
        pick = D.pick_nearest_delta(F["delta"], ok & _is(day, kind), p["delta"])
        at = fire & (pick >= 0)
        m = np.zeros(ok.shape, bool)
        m[rows[at], pick[at]] = True
        _order(o, m, 1, OrderType.market)
    return o


# #13 iceberg reveal (L1241-1262), proxy ------------------------------------------------------------------
def iceberg_reveal() -> StrategyConfig:
    return _scalp("iceberg_reveal", Exits(stop=1.5, target=4.0, trail_activate=0.0, trail_offset=1.0, trail_on_ltp=True),
                  Order("ioc", "signal"), params={"seconds": 5, "min_lots": 100, "max_touch_lots": 50})


def iceberg_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Proxy for '>= 5 prints of >= 100 lots at one price': 5 seconds in a row trading >= 100 lots
    each at an unchanged LTP on the offer (LTP >= ask) while the offer shows < 50 lots: buy IOC at
    that price; on the bid: sell."""
    p, o = cfg.params, OrderBook(ok.shape)
    ltp, lot = F["ltp"], F["lot"]
    with np.errstate(invalid="ignore"):
        heavy = F["vol"] >= p["min_lots"] * lot - EPS
        steady = D.run_length(np.abs(ltp - D.lag(ltp, 1)) < EPS) >= p["seconds"] - 1    # one side or the other
        for side, at_touch, shown in ((1, ltp >= F["ask"] - EPS, F["ask_qty0"]), (-1, ltp <= F["bid"] + EPS, F["bid_qty0"])):
            run = D.run_length(heavy & at_touch & (shown < p["max_touch_lots"] * lot))
            hit = ok & (run >= p["seconds"]) & steady
            _order(o, _first(hit), side, OrderType.ioc, ltp)
    return o


# #14 cross-gamma flip (L1264-1288) -----------------------------------------------------------------------
def cross_gamma_flip() -> StrategyConfig:
    return _scalp("cross_gamma_flip", Exits(stop=1.5, locks=[(1.5, -0.30)], atr_mult=0.8),
                  Order("limit", "signal", timeout_s=120), selection=Selection(strikes=10),
                  params={"delta": 0.25, "oi_rise_lots": 50_000})


def gamma_flip_rule(day, spot, F, ok, cfg) -> OrderBook:
    """|delta| crosses 0.25 upward this second and OI rose >= 50 k lots in it: buy that strike at its
    bid (a resting limit, cancelled after 120 s)."""
    p, o = cfg.params, OrderBook(ok.shape)
    d = np.abs(F["delta"])
    with np.errstate(invalid="ignore"):
        flip = (D.lag(d, 1) < p["delta"] - EPS) & (d >= p["delta"] - EPS)
        oi_up = F["oi"] - D.lag(F["oi"], 1) >= p["oi_rise_lots"] * F["lot"] - EPS
    _order(o, ok & flip & oi_up, 1, OrderType.limit, F["bid"])
    return o


# #15 clock-timer liquidity drop (L1290-1316) ---------------------------------------------------------------
def clock_liquidity_drop() -> StrategyConfig:
    return _scalp("clock_liquidity_drop", Exits(**FIXED, time_stop_s=10), Order("ioc", "signal"),
                  windows=[("14:59:30", "15:00:30")], params={"shrink": 0.25, "mean_s": 5})


def liquidity_drop_rule(day, spot, F, ok, cfg) -> OrderBook:
    """From 14:59:30 (15:29:30 is after the 15:20 flat time): the 5-level depth shrinks >= 25 % under
    its 5-s mean; the next second's LTP tick gives the direction: IOC at that LTP, long or short."""
    p, o = cfg.params, OrderBook(ok.shape)
    depth = F["depth_bid5"] + F["depth_ask5"]
    with np.errstate(invalid="ignore"):
        shrunk = depth <= (1 - p["shrink"]) * D.lag(D.rolling_mean(depth, p["mean_s"]), 1) + EPS
        after = D.lag(shrunk.astype(float), 1) > 0
        tick = F["ltp"] - D.lag(F["ltp"], 1)
    _order(o, ok & after & (tick > EPS), 1, OrderType.ioc, F["ltp"])
    _order(o, ok & after & (tick < -EPS), -1, OrderType.ioc, F["ltp"])
    return o


# #17 tape-speed burst (L724, L1005-1017), proxy ------------------------------------------------------------
def tape_speed_burst() -> StrategyConfig:
    return _scalp("tape_speed_burst", Exits(stop=1.5, trail_activate=0.0, trail_offset=1.0, trail_on_ltp=True),
                  Order("market", "signal", timeout_s=0), params={"sigmas": 2.0, "mean_s": 300})


def tape_burst_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Message rate proxy = book fields changed per second (quote_changes): >= its 5-minute mean +
    2 sigma (the 400 ms is below our 1-s resolution) with the LTP up that second: market buy;
    out when the rate falls below the mean."""
    p, o = cfg.params, OrderBook(ok.shape)
    qc = F["quote_changes"]
    mean = D.lag(_where_selectable(lambda x: D.rolling_mean(x, p["mean_s"]), qc, ok), 1)
    sd = D.lag(_where_selectable(lambda x: D.rolling_std(x, p["mean_s"]), qc, ok), 1)
    with np.errstate(invalid="ignore"):
        burst = qc >= mean + p["sigmas"] * sd - EPS
        up = F["ltp"] > D.lag(F["ltp"], 1) + EPS
        o.exit_side[qc < mean - EPS] = -1
    _order(o, _first(ok & burst & up), 1, OrderType.market)
    return o


# #18 gamma-momentum push (L725, L1033-1050) ----------------------------------------------------------------
def gamma_momentum_push() -> StrategyConfig:
    return _scalp("gamma_momentum_push", Exits(stop=1.5, locks=[(1.5, -0.50)], trail_activate=1.5, trail_offset=0.8,
                                               trail_on_ltp=True), Order("limit", "signal", timeout_s=0),
                  selection=Selection(strikes=0),
                  params={"index_move_pct": 0.25, "move_s": 90, "premium_jump": 2.0, "pullback": 0.50})


def gamma_push_rule(day, spot, F, ok, cfg) -> OrderBook:
    """The index up >= 0.25 % from its 90-s low and the ATM call's LTP up >= 2 from its 90-s low;
    the first 0.50 pullback from the spike high: a limit at that price (puts on a fall)."""
    p, o, n = cfg.params, OrderBook(ok.shape), cfg.params["move_s"]
    ltp = F["ltp"]
    high = D.rolling_max(ltp, n)          # the same for calls and puts: computed once
    with np.errstate(invalid="ignore"):
        spike = ok & (high - D.rolling_min(ltp, n) >= p["premium_jump"] - EPS) & (ltp <= high - p["pullback"] + EPS)
    for kind, move in (("CE", D.up_move_pct(day.spot, n)), ("PE", -D.down_move_pct(day.spot, n))):
        with np.errstate(invalid="ignore"):
            hit = spike & _is(day, kind) & _spot_col(day, move >= p["index_move_pct"] - EPS)
        _order(o, _first(hit), 1, OrderType.limit, high - p["pullback"])
    return o


# #19 VWAP trend ride (L726, L1318-1335) ------------------------------------------------------------------
def vwap_trend_ride() -> StrategyConfig:
    return _scalp("vwap_trend_ride", Exits(stop=1.5, atr_mult=1.0),
                  params={"above": 2.0, "hold_s": 120, "slope_s": 60, "pullback": 0.50})


def trend_ride_rule(day, spot, F, ok, cfg) -> OrderBook:
    """LTP > VWAP + 2 for 120 s and VWAP rising over 60 s; the LTP 0 < pullback <= 0.50 under its
    120-s high: a limit at the LTP. SL -1.5, no TP, trail the ATR(1 min) behind the best bid."""
    p, o = cfg.params, OrderBook(ok.shape)
    ltp, vwap = F["ltp"], F["vwap"]
    with np.errstate(invalid="ignore"):
        above = D.rolling_min(ltp - vwap, p["hold_s"]) > p["above"] + EPS
        rising = vwap - D.lag(vwap, p["slope_s"]) > EPS
        dip = D.rolling_max(ltp, p["hold_s"]) - ltp
        hit = ok & above & rising & (dip > EPS) & (dip <= p["pullback"] + EPS)
    _order(o, _first(hit), 1, OrderType.limit, ltp)
    return o


# #20 IV pump-and-run (L730, L1337-1356) -----------------------------------------------------------------
def iv_pump_and_run() -> StrategyConfig:
    return _scalp("iv_pump_and_run", Exits(stop=1.5), Order("limit", "signal", timeout_s=0),
                  params={"iv_jump": 4.0, "falling_s": 3})


def iv_pump_rule(day, spot, F, ok, cfg) -> OrderBook:
    """IV[t-2] - IV[t-4] >= 4 points and IV rose on each of the 2 seconds since: buy at the mid;
    SL -1.5; out when IV has not risen for 3 seconds in a row. The IV-point stop ladder is not
    modelled (the card)."""
    p, o = cfg.params, OrderBook(ok.shape)
    iv = F["iv"]
    with np.errstate(invalid="ignore"):
        d1 = iv - D.lag(iv, 1)
        pump = (D.lag(iv, 2) - D.lag(iv, 4) >= p["iv_jump"] - EPS) & (d1 > EPS) & (D.lag(d1, 1) > EPS)
        o.exit_side[D.run_length(d1 <= EPS) >= p["falling_s"]] = -1
    _order(o, _first(ok & pump), 1, OrderType.limit, (F["bid"] + F["ask"]) / 2)
    return o


# C-1 opening range 5 min (L1652) ----------------------------------------------------------------------
def orb_5min() -> StrategyConfig:
    cfg = _scalp("orb_5min", Exits(**FIXED, time_stop_s=60), Order("ioc", "signal"),
                 windows=[("09:20:00", "09:30:00")], selection=Selection(strikes=1),
                 params={"break_above": 3.0, "volume_mult": 2.0, "break_down": True})
    cfg.risk.max_entries = 1
    return cfg


def orb5_rule(day, spot, F, ok, cfg) -> OrderBook:
    """#1's rule on the 09:15-09:20 range (or5_high / or5_low)."""
    return orb_signals({**F, "or2_high": F["or5_high"], "or2_low": F["or5_low"]}, ok, cfg)


# C-2 VWAP bounce -------------------------------------------------------------------------------------
def vwap_bounce() -> StrategyConfig:
    return _scalp("vwap_bounce", Exits(**FIXED), params={"offset": 0.05})


def vwap_bounce_rule(day, spot, F, ok, cfg) -> OrderBook:
    """P[t-1] < VWAP[t-1], P[t] >= VWAP[t] and the bid quantity grew this second: bid + 0.05."""
    p, o = cfg.params, OrderBook(ok.shape)
    ltp, vwap = F["ltp"], F["vwap"]
    with np.errstate(invalid="ignore"):
        hit = ok & (D.lag(ltp - vwap, 1) < -EPS) & (ltp >= vwap - EPS) & (F["bid_qty0"] > D.lag(F["bid_qty0"], 1))
    _order(o, hit, 1, OrderType.limit, F["bid"] + p["offset"])
    return o


# C-3 10-second ROC burst ------------------------------------------------------------------------------
def roc10_burst() -> StrategyConfig:
    return _scalp("roc10_burst", Exits(stop=1.5, trail_activate=1.5, trail_offset=0.8, trail_on_ltp=True),
                  Order("market", "signal", timeout_s=0), params={"roc_pct": 0.15, "volume_mult": 3.0})


def roc10_rule(day, spot, F, ok, cfg) -> OrderBook:
    """ROC(10 s) >= 0.15 % and the 10-s volume >= 3x the 1-minute average per 10 s: market buy."""
    p, o = cfg.params, OrderBook(ok.shape)
    with np.errstate(invalid="ignore"):
        hit = (ok & (F["roc_10s"] >= p["roc_pct"] - EPS) & (F["vol_10s"] >= p["volume_mult"] * F["vol_60s"] / 6.0 - EPS)
               & (F["vol_60s"] > 0))
    _order(o, _first(hit), 1, OrderType.market)
    return o


# C-4 tick imbalance -----------------------------------------------------------------------------------
def tick_imbalance() -> StrategyConfig:
    return _scalp("tick_imbalance", Exits(**FIXED), Order("ioc", "signal"), params={"ratio": 2.0, "ticks": 3, "offset": 0.05})


def tick_imbalance_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Touch bid quantity / ask quantity >= 2.0 for 3 seconds: IOC buy at bid + 0.05."""
    p, o = cfg.params, OrderBook(ok.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        heavy = F["bid_qty0"] >= p["ratio"] * F["ask_qty0"] - EPS
    _order(o, _first(ok & (D.run_length(heavy) >= p["ticks"])), 1, OrderType.ioc, F["bid"] + p["offset"])
    return o


# C-5 spread compression ------------------------------------------------------------------------------
def spread_compression() -> StrategyConfig:
    return _scalp("spread_compression", Exits(**FIXED, close_long_when=Cond("spread", ">", 0.5),
                                              close_short_when=Cond("spread", ">", 0.5)),
                  params={"was": 0.70, "now": 0.30, "offset": 0.05})


def compression_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Spread[t-1] > 0.70 and spread[t] <= 0.30: join the side with the larger touch quantity a tick
    inside (bid + 0.05 to buy, ask - 0.05 to sell); out when the spread widens past 0.50."""
    p, o = cfg.params, OrderBook(ok.shape)
    sp = F["spread"]
    with np.errstate(invalid="ignore"):
        hit = ok & (D.lag(sp, 1) > p["was"] + EPS) & (sp <= p["now"] + EPS)
        _order(o, hit & (F["bid_qty0"] > F["ask_qty0"]), 1, OrderType.limit, F["bid"] + p["offset"])
        _order(o, hit & (F["ask_qty0"] > F["bid_qty0"]), -1, OrderType.limit, F["ask"] - p["offset"])
    return o


# C-6 / C-8 depth domination and pressure ----------------------------------------------------------------
def l2_domination() -> StrategyConfig:
    return _scalp("l2_domination", Exits(stop=1.5, trail_activate=1.5, trail_offset=0.8, trail_on_ltp=True),
                  params={"ratio": 3.0, "seconds": 1, "offset": 0.05})


def ob_pressure() -> StrategyConfig:
    return _scalp("ob_pressure", Exits(**FIXED), params={"ratio": 2.5, "seconds": 1, "offset": 0.05})


def depth_ratio_rule(day, spot, F, ok, cfg) -> OrderBook:
    """5-level bid depth / ask depth >= ratio for `seconds` snapshots: limit at bid + 0.05."""
    p, o = cfg.params, OrderBook(ok.shape)
    with np.errstate(invalid="ignore"):
        run = D.run_length(F["depth_ratio5"] >= p["ratio"] - EPS)
    _order(o, ok & (run == p["seconds"]), 1, OrderType.limit, F["bid"] + p["offset"])
    return o


# C-7 large-lot follow, proxy ------------------------------------------------------------------------------
def large_lot_follow() -> StrategyConfig:
    return _scalp("large_lot_follow", Exits(**FIXED), Order("ioc", "signal"), params={"min_lots": 100})


def large_lot_rule(day, spot, F, ok, cfg) -> OrderBook:
    """Proxy for 'a trade >= 100 lots': a second trading >= 100 lots with the LTP at the ask (at the
    bid): hit the same side at the ask (bid) with an IOC."""
    p, o = cfg.params, OrderBook(ok.shape)
    with np.errstate(invalid="ignore"):
        big = ok & (F["vol"] >= p["min_lots"] * F["lot"] - EPS)
        _order(o, big & (F["ltp"] >= F["ask"] - EPS), 1, OrderType.ioc, F["ask"])
        _order(o, big & (F["ltp"] <= F["bid"] + EPS), -1, OrderType.ioc, F["bid"])
    return o


# C-15 cross-strike momentum ---------------------------------------------------------------------------------
def cross_strike_momentum() -> StrategyConfig:
    return _scalp("cross_strike_momentum", Exits(**FIXED), Order("ioc", "signal"), params={"roc_pct": 0.10})


def cross_strike_rule(day, spot, F, ok, cfg) -> OrderBook:
    """The contract with the highest 1-minute ROC among ATM +- 2 (both types), when > 0.1 %: IOC
    buy at its LTP, once per run of the condition."""
    p, o = cfg.params, OrderBook(ok.shape)
    roc = np.where(ok, F["roc_60s"], -np.inf)
    best = np.argmax(roc, axis=1)
    rows = np.arange(len(best))
    top = roc[rows, best] > p["roc_pct"] + EPS
    m = np.zeros(ok.shape, bool)
    m[rows[top], best[top]] = True
    _order(o, _first(m), 1, OrderType.ioc, F["ltp"])
    return o


# C-18 round-number reject ---------------------------------------------------------------------------------
def round_number_reject() -> StrategyConfig:
    return _scalp("round_number_reject", Exits(**FIXED), params={"step": 100.0, "touch_pts": 5.0, "adds": 2.0,
                                                                 "adds_s": 60})


def round_reject_rule(day, spot, F, ok, cfg) -> OrderBook:
    """The index within 5 points of a 100-point level; the option up >= 2 over 60 s and its LTP
    ticking down this second (the reject): fade it, a sell limit at the ask."""
    p, o = cfg.params, OrderBook(ok.shape)
    ltp = F["ltp"]
    with np.errstate(invalid="ignore"):
        near = np.abs(round_dist(spot, p["step"], cfg.name)) <= p["touch_pts"] + EPS
        added = ltp - D.rolling_min(ltp, p["adds_s"]) >= p["adds"] - EPS
        turn = ltp < D.lag(ltp, 1) - EPS
    _order(o, _first(ok & _spot_col(day, near) & D.lag(added.astype(float), 1).astype(bool) & turn), -1,
           OrderType.limit, F["ask"])
    return o


# C-16 term-structure scalp --------------------------------------------------------------------------------
def term_structure_scalp() -> StrategyConfig:
    cfg = _scalp("term_structure_scalp", Exits(**FIXED), Order("ioc", "signal"),
                 params={"iv_spread": 2.0, "trend_s": 60})
    # an `added` leg never opened: it makes the loader bring the monthly expiry the rule compares with
    cfg.legs.append(Leg("monthly_ref", instrument="CE", expiry="monthly", strike=Strike("atm"), added=True))
    return cfg


def term_structure_rule(day, spot, F, ok, cfg) -> OrderBook:
    """IV(weekly) - IV(monthly) of the same strike and type >= 2 points, its sign with the index's
    60-s trend (calls when rising, puts when falling): IOC buy of the weekly at its LTP."""
    p, o = cfg.params, OrderBook(ok.shape)
    c = day.contracts
    monthly = day.expiry_of("monthly")
    weekly = day.expiry_of(cfg.legs[0].expiry)
    if monthly is None or monthly == weekly:
        return o
    key = {(c.strike[k], c.opt_type[k]): k for k in range(len(c.strike)) if c.expiry[k] == monthly}
    trend = day.spot - D.lag(day.spot, p["trend_s"])
    for k in range(len(c.strike)):
        m = key.get((c.strike[k], c.opt_type[k]))
        if c.expiry[k] != weekly or m is None:
            continue
        with np.errstate(invalid="ignore"):
            wide = F["iv"][:, k] - F["iv"][:, m] >= p["iv_spread"] - EPS
            aligned = trend > EPS if c.opt_type[k] == "CE" else trend < -EPS
        col = np.zeros(ok.shape, bool)
        col[:, k] = ok[:, k] & wide & aligned
        _order(o, _first(col), 1, OrderType.ioc, F["ltp"])
    return o


# the catalogue entries: (name, default, rule, features_options read, features_spot read)
ENTRIES = [
    ("vwap_tag_and_go", vwap_tag_and_go, vwap_tag_rule, ("vwap",), ()),
    ("iv_spike_fade", iv_spike_fade, iv_spike_rule, ("iv",), ()),
    ("spread_snap_back", spread_snap_back, snap_back_rule, ("spread",), ()),
    ("gamma_pin_wick", gamma_pin_wick, pin_wick_rule, ("oi",), ()),
    ("micro_basis_arb", micro_basis_arb, basis_rule, (), ("fut_basis", "fut_price")),
    ("vwap_sigma_tap", vwap_sigma_tap, sigma_tap_rule, ("vwap", "quote_changes"), ()),
    ("skew_rebal_kick", skew_rebal_kick, skew_kick_rule, ("delta",), ("iv_25d_call", "iv_25d_put", "atm_iv")),
    ("iceberg_reveal", iceberg_reveal, iceberg_rule, ("bid_qty0", "ask_qty0"), ()),
    ("cross_gamma_flip", cross_gamma_flip, gamma_flip_rule, ("delta", "oi"), ()),
    ("clock_liquidity_drop", clock_liquidity_drop, liquidity_drop_rule, ("depth_bid5", "depth_ask5"), ()),
    ("tape_speed_burst", tape_speed_burst, tape_burst_rule, ("quote_changes",), ()),
    ("gamma_momentum_push", gamma_momentum_push, gamma_push_rule, (), ()),
    ("vwap_trend_ride", vwap_trend_ride, trend_ride_rule, ("vwap",), ()),
    ("iv_pump_and_run", iv_pump_and_run, iv_pump_rule, ("iv",), ()),
    ("orb_5min", orb_5min, orb5_rule, ("or5_high", "or5_low", "vol_10s", "vol_avg_2m", "vol_10s_ok", "price"), ()),
    ("vwap_bounce", vwap_bounce, vwap_bounce_rule, ("vwap", "bid_qty0"), ()),
    ("roc10_burst", roc10_burst, roc10_rule, ("roc_10s", "vol_10s", "vol_60s"), ()),
    ("tick_imbalance", tick_imbalance, tick_imbalance_rule, ("bid_qty0", "ask_qty0"), ()),
    ("spread_compression", spread_compression, compression_rule, ("spread", "bid_qty0", "ask_qty0"), ()),
    ("l2_domination", l2_domination, depth_ratio_rule, ("depth_ratio5",), ()),
    ("large_lot_follow", large_lot_follow, large_lot_rule, (), ()),
    ("ob_pressure", ob_pressure, depth_ratio_rule, ("depth_ratio5",), ()),
    ("cross_strike_momentum", cross_strike_momentum, cross_strike_rule, ("roc_60s",), ()),
    ("round_number_reject", round_number_reject, round_reject_rule, (), ROUND_COLUMNS),
    ("term_structure_scalp", term_structure_scalp, term_structure_rule, ("iv",), ()),
]
