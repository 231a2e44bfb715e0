"""Run metrics from trades and daily P&L (pure)."""
from __future__ import annotations

import math

import numpy as np

TRADING_DAYS = 252


def _ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def daily_pnl(dates: list, net: np.ndarray, all_days: list) -> np.ndarray:
    """Net P&L per trading day of the run (days without trades count as 0)."""
    by = {d: 0.0 for d in all_days}
    for d, x in zip(dates, net):
        by[d] = by.get(d, 0.0) + float(x)
    return np.array([by[d] for d in sorted(by)], dtype=np.float64)


def max_drawdown(equity: np.ndarray, capital: float) -> tuple[float, float]:
    """Largest peak-to-trough fall of cumulative P&L, in rupees and in % of capital + peak."""
    if not len(equity):
        return 0.0, 0.0
    peak = np.maximum.accumulate(np.r_[0.0, equity])[1:]
    dd = peak - equity
    k = int(np.argmax(dd))
    return float(dd[k]), float(100.0 * dd[k] / (capital + peak[k])) if capital + peak[k] > 0 else float("nan")


def summarize(net: np.ndarray, gross: np.ndarray, fees: np.ndarray, hold_s: np.ndarray, days: np.ndarray,
              session_s: float, capital: float) -> dict:
    """Headline metrics of the trade legs (`net` etc. per leg; win rate, expectancy and profit
    factor are per trade: trade_metrics); `days` is the daily net P&L over every day of the run."""
    n = len(net)
    mean, sd = (float(days.mean()), float(days.std(ddof=1))) if len(days) > 1 else (float(days.sum()), float("nan"))
    downside = days[days < 0]
    dsd = float(np.sqrt(np.mean(np.minimum(days, 0.0) ** 2))) if len(days) else float("nan")
    dd_rs, dd_pct = max_drawdown(np.cumsum(days), capital)
    gross_total = float(gross.sum())
    return {
        "trades": n, "net_pnl": float(net.sum()), "gross_pnl": gross_total, "fees": float(fees.sum()),
        "sharpe": mean / sd * math.sqrt(TRADING_DAYS) if sd and not math.isnan(sd) else float("nan"),
        "sortino": mean / dsd * math.sqrt(TRADING_DAYS) if dsd and len(downside) else float("nan"),
        "max_drawdown": dd_rs, "max_drawdown_pct": dd_pct,
        "trades_per_day": _ratio(n, len(days)), "time_in_market": _ratio(float(hold_s.sum()), session_s * len(days)),
        "fee_share_of_gross": _ratio(float(fees.sum()), gross_total) if gross_total > 0 else float("nan"),
    }


def trade_metrics(net: np.ndarray, qty: np.ndarray, mfe_rs: np.ndarray, mae_rs: np.ndarray, tick: float) -> dict:
    """Per-trade metrics (a trade = its legs together: net P&L summed, quantity summed; a straddle
    is one trade): win rate (trades with net P&L > 0), expectancy (mean net P&L a trade), profit
    factor (net of the winning trades over that of the losing ones; inf without a losing one);
    breakeven: |net| <= 1 tick x the trade's quantity (the legs' quantities added up), counted apart
    from wins and losses; the per-trade Sharpe is mean / sd of the trades' net P&L (not annualised:
    trades are not evenly spaced in time); MFE / MAE in rupees per trade (see summarize_run)."""
    n = len(net)
    even = np.abs(net) <= tick * qty + 1e-9
    sd = float(net.std(ddof=1)) if n > 1 else float("nan")
    wins, losses = net[net > 0], net[net < 0]
    return {"win_rate": _ratio(len(wins), n), "expectancy": float(net.mean()) if n else float("nan"),
            "profit_factor": _ratio(float(wins.sum()), -float(losses.sum())) if len(losses) else
            float("inf") if len(wins) else float("nan"),
            "trade_count": n, "trade_wins": int(((net > 0) & ~even).sum()), "trade_losses": int(((net < 0) & ~even).sum()),
            "trade_breakevens": int(even.sum()),
            "sharpe_per_trade": float(net.mean()) / sd if sd and not math.isnan(sd) else float("nan"),
            "avg_mfe": float(mfe_rs.mean()) if n else float("nan"), "avg_mae": float(mae_rs.mean()) if n else float("nan")}
