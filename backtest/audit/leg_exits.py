"""exit_timing and stop_never_loosens for every leg's own exits, replayed second by second from the
grid: a leg exit must fire at the FIRST second its rule was met, and no leg may outlive a rule of
its own that was met before it left by another reason.

The order a leg's rules are read in within one second (and so which one names a second where
several are met): the price rules (stop before target), the exit signal, the time stop; the
position's rules come after them (backtest.audit.positions), the end of data last. An exit signal
the strategy's plan computes itself (no declared condition) cannot be replayed here: its second is
taken as logged, with an info finding, and the other rules are still checked against it.
"""
from __future__ import annotations

import numpy as np

from backtest.audit.money import session_exit_of
from backtest.audit.quotes import _finding
from backtest.audit.series import DAY_S, EPS, IST_S, Market, cond_holds, hms, seconds

PRICE = ("stop", "trailing_stop", "target")
LEG_RULES = (*PRICE, "signal_exit", "time_stop")


def _leg_exits(config: dict, leg: dict) -> dict:
    """The leg's own exits: the strategy's, with the leg's overrides (by its name)."""
    base = dict(config["exits"])
    for spec in config.get("legs", []):
        if spec["name"] == leg.get("leg_name"):
            base.update(spec.get("exits") or {})
    return base


def _first(mask: np.ndarray, t: np.ndarray) -> int | None:
    k = np.flatnonzero(mask)
    return int(t[k[0]]) if len(k) else None


def _price_hits(m: Market, q, r: dict, evs: list[dict], a: int, b: int) -> int | None:
    """First second in [a, b] a stop (the logged path) or the target was reached on a real second."""
    s = q.span(a, b)
    t = q.t[s]
    real = m.real(q)[s]
    bid, ask, ltp, vol = (q.cols[c][s] for c in ("bid_px0", "ask_px0", "price", "vol_delta"))
    px = bid if r["side"] > 0 else ask
    entry = seconds(r["entry_ts"])
    traded = np.where((vol > 0) & (t > entry), ltp, np.nan)
    stop = np.full(len(t), np.nan if r["initial_stop"] is None else r["initial_stop"], float)
    for e in evs:
        if e["event"] == "stop_move":
            stop[t >= seconds(e["ts"])] = e["stop"]
    fill = next((e for e in evs if e["event"] == "fill"), None)
    target = np.nan if fill is None or fill["target"] is None else fill["target"]
    with np.errstate(invalid="ignore"):
        hit = ((px - stop) * r["side"] <= EPS) | ((px - target) * r["side"] >= -EPS) | \
            ((traded - target) * r["side"] >= -EPS)
    return _first(real & hit, t)


def _signal_hits(m: Market, q, r: dict, exits: dict, a: int, b: int) -> int | None:
    """First real second in [a, b] the declared exit condition for the leg's side held."""
    cond = exits.get("close_long_when") if r["side"] > 0 else exits.get("close_short_when")
    if not cond or not exits.get("signal", True):
        return None
    f = m.features.get((r["symbol"], r["date"]))
    if f is None:
        return None
    holds = cond_holds(cond, lambda name: f.cols[name], f.t)
    s = f.span(a, b)
    real = np.isin(f.t[s], q.t[m.real(q)])
    return _first(holds[s] & real, f.t[s])


def _plan_signal(exits: dict, side: int) -> bool:
    """The leg takes exit signals and none is declared for its side: only the plan can send one."""
    return exits.get("signal", True) and not exits.get("close_long_when" if side > 0 else "close_short_when")


def check_leg_exits(m: Market, legs: list[dict], events: list[dict], config: dict) -> list[dict]:
    out = []
    by_leg: dict[tuple, list] = {}
    for e in events:
        by_leg.setdefault((e["trade_id"], e["leg"]), []).append(e)
    session = hms(session_exit_of(config))
    eod_rule = (config.get("position") or {}).get("close_at_end_of_data", True)
    for r in legs:
        evs = sorted(by_leg.get((r["trade_id"], r["leg"]), []), key=lambda e: e["ts"])
        stops = [e["stop"] for e in evs if e["event"] == "stop_move"]
        if any((b - a) * r["side"] < -EPS for a, b in zip(stops, stops[1:])) or \
                (stops and r["initial_stop"] is not None and (stops[0] - r["initial_stop"]) * r["side"] < -EPS):
            out.append(_finding(r, "stop_never_loosens", "error", f"stop path {stops[:8]}"))
        q = m.quote(r["symbol"], r["date"])
        if q is None or r["exit_signal_ts"] is None:
            continue
        entry, d, reason = seconds(r["entry_ts"]), seconds(r["exit_signal_ts"]), r["exit_reason"]
        exits = _leg_exits(config, r)
        expected: list[tuple[int, str]] = []      # (second, the leg rule met there), in rule order
        hit = _price_hits(m, q, r, evs, entry, d)
        if hit is not None:
            expected.append((hit, "price"))
        sig = _signal_hits(m, q, r, exits, entry, d)
        if sig is not None:
            expected.append((sig, "signal_exit"))
        elif reason == "signal_exit" and _plan_signal(exits, r["side"]):
            # the plan's own exit signal (computed by the strategy, e.g. from IV; no declared condition):
            # not replayable without the strategy's code, so its second is taken as logged (said so);
            # every rule the audit can replay must still not have been due before it
            expected.append((d, "signal_exit"))
            out.append(_finding(r, "signal_not_replayed", "info", f"the plan's exit signal at {r['exit_signal_ts']} "
                                                                 "is the strategy's own; its timing is not replayed"))
        if exits.get("time_stop_s") is not None:
            late = q.t[(q.t >= entry) & (q.t - entry >= exits["time_stop_s"])]
            if len(late):
                expected.append((int(late[0]), "time_stop"))
        first = min(expected, key=lambda x: (x[0], ["price", "signal_exit", "time_stop"].index(x[1])), default=None)
        if reason in LEG_RULES:
            want = "price" if reason in PRICE else reason
            if first is None or first[0] != d or first[1] != want:
                out.append(_finding(r, "exit_timing", "error", f"{reason} logged at {r['exit_signal_ts']}, "
                                                              f"the leg's rules first met: {first}"))
        elif first is not None and first[0] <= d:
            out.append(_finding(r, "exit_timing", "error", f"{reason} at {r['exit_signal_ts']}, but the leg's "
                                                          f"{first[1]} rule was met at second {first[0]}"))
        if reason == "session_exit":
            after = q.t[(q.t >= entry) & ((q.t + IST_S) % DAY_S >= session)]
            if not len(after) or after[0] != d:
                out.append(_finding(r, "exit_timing", "error", f"session_exit logged at {r['exit_signal_ts']}, the "
                                                              f"first second at/after {session_exit_of(config)} is "
                                                              f"{after[0] if len(after) else None}"))
        if reason == "end_of_data" and eod_rule:
            real_t = q.t[m.real(q)]
            last = int(real_t[-1]) if len(real_t) else None
            if not (d == seconds(r["exit_ts"]) == last):
                out.append(_finding(r, "exit_timing", "error", f"end_of_data decided {r['exit_signal_ts']}, filled "
                                                              f"{r['exit_ts']}; the contract's last real second is {last}"))
    return out
