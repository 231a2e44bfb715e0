"""C-20 Correlation Divergence (L1593-1600, the C-table L1691): the index against its bank
heavyweights. Its card (cards/specs.toml C-20) gives every reading; in short:

- the basket: transforms/data/bank_basket.csv (HDFCBANK, ICICIBANK, SBIN, EQUAL weights: the seed
  says "top 3 banking stocks" and names none), from equity_ticks;
- the divergence "Spot_BN - beta x BankHeavy" is features_spot's basket_div_15m: the index's 15-min
  log return minus beta (rolling OLS of the index on the basket) x the basket's, percent;
- the index lags the stocks when the divergence is <= -0.3 % with the basket up (buy the ATM call)
  or >= +0.3 % with the basket down (buy the ATM put): "direction based on stock momentum";
- out at convergence (the divergence back through `close_pct`, default 0: closed; the plan's exit
  signal, `signal_exit`), at "divergence expansion beyond 0.3 %" read as |divergence| >= 2 x the
  entry threshold (a position kill-switch on basket_div_15m, `kill_switch`; the audit replays it),
  or at TP +2 / SL -1.5 ("TP convergence + 2, SL -1.5": whichever comes first).
"""
from __future__ import annotations

import numpy as np

from backtest.strategies.base import Cond, Exits, Kill, Leg, Plan, PositionRules, StrategyConfig, Strike

EPS = 1e-9
THRESHOLD_PCT = 0.3          # L1691: "> 0.3 %"
EXPAND_MULT = 2.0            # our reading of "divergence expansion beyond 0.3 %": twice the entry threshold


def correlation_divergence() -> StrategyConfig:
    return StrategyConfig(
        "correlation_divergence",
        legs=[Leg("long", instrument="option", strike=Strike("signal"), side=1)],
        exits=Exits(target=2.0, stop=1.5),
        position=PositionRules(kills=[Kill(Cond("basket_div_15m", ">=", EXPAND_MULT * THRESHOLD_PCT, abs=True),
                                           "kill_switch")]),
        params={"threshold_pct": THRESHOLD_PCT, "close_pct": 0.0})


def divergence_plan(day, spot, cfg) -> Plan:
    """Buy the ATM weekly call when basket_div_15m <= -0.3 % and the basket is up over the same 15
    minutes, the ATM put when >= +0.3 % and the basket is down; once per run of the condition. The
    call is closed when the divergence is back above -close_pct, the put when back under +close_pct."""
    p = cfg.params
    div, basket = spot["basket_div_15m"], spot["basket_ret_15m"]
    with np.errstate(invalid="ignore"):
        up = (div <= -p["threshold_pct"] + EPS) & (basket > 0)
        down = (div >= p["threshold_pct"] - EPS) & (basket < 0)
        calls_out = div >= -p["close_pct"] - EPS
        puts_out = div <= p["close_pct"] + EPS
    kinds = day.contracts.opt_type
    atm = (day.strikes_from_atm < 0.5) & day.contract_mask("option", "weekly")[None, :]
    up_c, down_c = (np.where(atm[:, kinds == k].any(axis=1), np.argmax(atm & (kinds == k)[None, :], axis=1), -1)
                    for k in ("CE", "PE"))
    fire_up, fire_down = _first(up & (up_c >= 0)), _first(down & (down_c >= 0))
    i = np.flatnonzero(fire_up | fire_down)
    c = np.where(fire_up[i], up_c[i], down_c[i])
    exit_sig = np.zeros((len(day.t_s), len(kinds)), np.int8)
    exit_sig[np.ix_(calls_out, kinds == "CE")] = -1
    exit_sig[np.ix_(puts_out, kinds == "PE")] = -1
    return Plan(i, c, np.ones(len(i)), exit_sig=exit_sig)


def _first(mask: np.ndarray) -> np.ndarray:
    """The first second of each run where mask holds."""
    return mask & ~np.r_[False, mask[:-1]]


# the catalogue entry: (name, default, signals, features_options read, features_spot read)
ENTRIES = [("correlation_divergence", correlation_divergence, divergence_plan, (), ("basket_div_15m", "basket_ret_15m"))]
