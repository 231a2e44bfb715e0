"""The two catalogue strategies that read earlier days (backtest.history supplies the values from
the warehouse, previous trading days by the calendar): S-1 Skew-Flip Strangle (the open's gap over
the previous close) and C-19 Time-Slice Momentum (each 30-minute slice's historical bias). Their
cards (cards/theta.toml S-1, cards/specs.toml C-19) give the cited lines and every reading.
"""
from __future__ import annotations

import numpy as np

from backtest.history import slice_of
from backtest.strategies.base import Adjustment, Exits, Leg, Plan, PositionRules, Risk, StrategyConfig, Strike

EPS = 1e-9


# S-1 skew-flip strangle (L5748-5752) ------------------------------------------------------------------------------
def skew_flip_strangle() -> StrategyConfig:
    hedge = {"stop": 2.0, "trail_activate": 0.0, "trail_offset": 2.0, "trail_on_ltp": True}
    return StrategyConfig(
        "skew_flip_strangle",
        legs=[Leg("ce", instrument="CE", strike=Strike("points", points=400.0), side=-1),
              Leg("pe", instrument="PE", strike=Strike("points", points=-400.0), side=-1),
              Leg("hedge_ce", instrument="CE", strike=Strike("atm"), side=1, lots=3.0, added=True, exits=hedge),
              Leg("hedge_pe", instrument="PE", strike=Strike("atm"), side=1, lots=3.0, added=True, exits=hedge)],
        position=PositionRules(adjustments=[
            Adjustment("spot_move", "open_leg", target="hedge_ce", threshold=0.25, sign=1),
            Adjustment("spot_move", "open_leg", target="hedge_pe", threshold=0.25, sign=-1)]),
        risk=Risk(entry_windows=[("09:15:00", "09:30:00")], max_entries=1),
        params={"gap_pct": 0.40, "min_wing_premium": 0.0})


def skew_flip_plan(day, spot, cfg) -> Plan:
    """The open (the day's first index level) is >= 0.40 % from the previous session's close and the
    OTM wing on the gap's side is rich: up, the 25-delta call's IV over the ATM IV by more than
    `min_wing_premium` points; down, the 25-delta put's. A candidate every second that holds."""
    p = cfg.params
    known = np.flatnonzero(~np.isnan(day.spot))
    S = len(day.t_s)
    if not len(known):
        return Plan.every_second(np.zeros(S, bool))
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = (day.spot[known[0]] / spot["prev_close"] - 1.0) * 100.0
        up = (gap >= p["gap_pct"] - EPS) & (spot["iv_25d_call"] - spot["atm_iv"] > p["min_wing_premium"] + EPS)
        down = (gap <= -p["gap_pct"] + EPS) & (spot["iv_25d_put"] - spot["atm_iv"] > p["min_wing_premium"] + EPS)
    return Plan.every_second(up | down)


# C-19 time-slice momentum (L1688) ---------------------------------------------------------------------------------
def time_slice_momentum() -> StrategyConfig:
    return StrategyConfig(
        "time_slice_momentum",
        legs=[Leg("long", instrument="option", strike=Strike("signal"), side=1)],
        exits=Exits(target=2.0, stop=1.5),
        risk=Risk(entry_windows=[("09:15:00", "15:00:00")]),
        params={"bias": 0.60, "roc_pct": 0.05, "min_days": 10})


def time_slice_plan(day, spot, cfg) -> Plan:
    """Within each 30-minute slice: when the slice rose on > 60 % of the earlier days (fell on
    > 60 %) and the index is up (down) > 0.05 % since the slice's first second, buy the ATM call
    (put), once per slice; every long closes at the slice's last second (or at +2 / -1.5)."""
    p = cfg.params
    s = slice_of(day.t_s)
    starts = np.r_[0, np.flatnonzero(np.diff(s)) + 1]
    first = np.repeat(day.spot[starts], np.diff(np.r_[starts, len(s)]))       # the slice's first index level
    with np.errstate(invalid="ignore", divide="ignore"):
        roc = (day.spot / first - 1.0) * 100.0
        enough = spot["slice_bias_days"] >= p["min_days"]
        up = enough & (spot["slice_bias_30m"] > p["bias"] + EPS) & (roc > p["roc_pct"] + EPS)
        down = enough & (1.0 - spot["slice_bias_30m"] > p["bias"] + EPS) & (roc < -p["roc_pct"] - EPS)
    kinds = day.contracts.opt_type
    atm = (day.strikes_from_atm < 0.5) & day.contract_mask("option", "weekly")[None, :]
    up_c, down_c = (np.where(atm[:, kinds == k].any(axis=1), np.argmax(atm & (kinds == k)[None, :], axis=1), -1)
                    for k in ("CE", "PE"))
    fire = _first_in_slice((up & (up_c >= 0)) | (down & (down_c >= 0)), s)
    i = np.flatnonzero(fire)
    c = np.where(up[i] & (up_c[i] >= 0), up_c[i], down_c[i])
    exit_sig = np.zeros((len(s), len(kinds)), np.int8)
    exit_sig[np.r_[starts[1:] - 1, len(s) - 1]] = -1                            # each slice's last second
    return Plan(i, c, np.ones(len(i)), exit_sig=exit_sig)


def _first_in_slice(mask: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Only the first second of each slice where mask holds."""
    out = np.zeros_like(mask)
    for k in np.unique(s[mask]):
        out[np.flatnonzero(mask & (s == k))[0]] = True
    return out


# the catalogue entries: (name, default, signals, features_options read, features_spot read)
ENTRIES = [
    ("skew_flip_strangle", skew_flip_strangle, skew_flip_plan, (), ("prev_close", "iv_25d_call", "iv_25d_put", "atm_iv")),
    ("time_slice_momentum", time_slice_momentum, time_slice_plan, (), ("slice_bias_30m", "slice_bias_days")),
]
