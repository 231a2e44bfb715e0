"""position_rules and adjustments: each trade's combined P&L replayed second by second from the grid
(its legs marked at the ask when short, the bid when long, carried over padded seconds; a closed
leg at its exit price), its rules re-read from the stored config and its own evaluator of the
conditions, so a rule that fired late, early, under the wrong name or not at all is a finding.

Within one second the rules are read in the engine's documented order: the legs' own exits, then
session exit, combined stop, leg divergence, kill-switches, credit capture, combined target,
maximum hold, the scheduled check, the roll, a short leg's hard stop, the adjustments. A leg whose
own exit fired at a second is no longer open for the position's rules of that second.
"""
from __future__ import annotations

import numpy as np

from backtest.audit.leg_exits import LEG_RULES
from backtest.audit.money import session_exit_of
from backtest.audit.quotes import _finding
from backtest.audit.series import DAY_S, EPS, IST_S, Market, cond_holds, hms, seconds

ORDER = ("session_exit", "combined_stop", "leg_divergence", "kill", "credit_captured", "combined_target", "max_hold",
         "scheduled_close")


def _specs(config: dict) -> dict:
    return {s["name"]: s for s in config.get("legs", [])}


def _has_rules(pos: dict) -> bool:
    return any(pos.get(k) is not None and pos.get(k) != [] for k in (
        "combined_stop", "stop_pct_of_credit", "combined_target", "credit_capture_pct", "leg_diff_exit", "leg_stop",
        "max_hold_s", "kills", "roll", "check", "adjustments"))


class _Replay:
    """One trade on its seconds: every leg's mark, the P&L per unit, which legs are open."""

    def __init__(self, m: Market, legs: list[dict], config: dict):
        self.m, self.legs, self.config = m, legs, config
        specs = _specs(config)
        self.ratio = [float(specs.get(r["leg_name"], {}).get("lots", 1.0)) for r in legs]
        self.added = [bool(specs.get(r["leg_name"], {}).get("added", False)) for r in legs]
        entries = [seconds(r["entry_ts"]) for r, a in zip(legs, self.added) if not a] or \
            [seconds(r["entry_ts"]) for r in legs]
        self.start = max(entries)                      # every entry leg filled: the rules run
        self.first_fill = min(seconds(r["entry_ts"]) for r in legs)
        self.signal = min(seconds(r["signal_ts"]) for r, a in zip(legs, self.added) if not a) if not all(self.added) \
            else self.first_fill
        self.end = max(seconds(r["exit_signal_ts"]) for r in legs)
        q0 = m.quote(legs[0]["symbol"], legs[0]["date"])
        self.t = q0.t[q0.span(self.start, self.end)] if q0 is not None else np.zeros(0, np.int64)
        n = len(self.t)
        self.mark = np.full((len(legs), n), np.nan)
        self.open = np.zeros((len(legs), n), bool)
        pnl = np.zeros(n)
        for j, r in enumerate(legs):
            q = m.quote(r["symbol"], r["date"])
            if q is None:
                continue
            marks = m.marks(q, r["side"])
            k = np.searchsorted(q.t, self.t)
            ok = (k < len(q.t)) & (q.t[np.minimum(k, len(q.t) - 1)] == self.t)
            self.mark[j, ok] = marks[k[ok]]
            e, d, x = seconds(r["entry_ts"]), seconds(r["exit_signal_ts"]), seconds(r["exit_ts"])
            # a leg whose own exit fired at d has left before the position's rules of d
            self.open[j] = (self.t >= e) & ((self.t < d) if r["exit_reason"] in LEG_RULES else (self.t <= d))
            ref = np.where(self.t >= x, r["exit_px"], self.mark[j])
            pnl += np.where(self.t >= e, r["side"] * (ref - r["entry_px"]) * self.ratio[j], 0.0)
        self.pnl = pnl
        self.credit = sum(-r["side"] * r["entry_px"] * w for r, w, a in zip(legs, self.ratio, self.added)
                          if not a and r["opt_type"] != "FUT")

    def any_open(self) -> np.ndarray:
        return self.open.any(axis=0)

    def spot_values(self, name: str) -> np.ndarray:
        s = self.m.spot.get((self.legs[0]["underlying"], self.legs[0]["date"]))
        out = np.full(len(self.t), np.nan)
        if s is None or name not in s.cols:
            return out
        k = np.searchsorted(s.t, self.t)
        ok = (k < len(s.t)) & (s.t[np.minimum(k, len(s.t) - 1)] == self.t)
        out[ok] = s.cols[name][k[ok]]
        return out

    def spot_cond(self, cond: dict) -> np.ndarray:
        s = self.m.spot.get((self.legs[0]["underlying"], self.legs[0]["date"]))
        if s is None:
            return np.zeros(len(self.t), bool)
        holds = cond_holds(cond, lambda name: s.cols[name], s.t)     # on the day's own seconds (windows)
        k = np.searchsorted(s.t, self.t)
        ok = (k < len(s.t)) & (s.t[np.minimum(k, len(s.t) - 1)] == self.t)
        return np.where(ok, holds[np.minimum(k, len(s.t) - 1)], False)

    def leg_named(self, name: str) -> int | None:
        for j, r in enumerate(self.legs):
            if r["leg_name"] == name:
                return j
        return None


def _rule_masks(p: _Replay, config: dict) -> list[tuple[str, np.ndarray]]:
    """(reason, the seconds its rule holds) in the engine's order."""
    pos = config.get("position") or {}
    t, pnl, credit = p.t, p.pnl, p.credit
    out = []
    if len(config.get("legs", [])) > 1:               # a one-leg strategy's session exit: leg_exits
        out.append(("session_exit", (t + IST_S) % DAY_S >= hms(session_exit_of(config))))
    stop = np.zeros(len(t), bool)
    if pos.get("combined_stop") is not None:
        stop |= pnl <= -pos["combined_stop"] + EPS
    if pos.get("stop_pct_of_credit") is not None:
        stop |= pnl <= -pos["stop_pct_of_credit"] / 100.0 * credit + EPS
    out.append(("combined_stop", stop))
    if pos.get("leg_diff_exit") is not None:
        names = pos.get("divergence_legs") or [s["name"] for s in config["legs"][:2]]
        a, b = p.leg_named(names[0]), p.leg_named(names[1])
        if a is not None and b is not None:
            ra, rb = p.legs[a], p.legs[b]
            div = np.abs((p.mark[a] - ra["entry_px"]) - (p.mark[b] - rb["entry_px"])) >= pos["leg_diff_exit"] - EPS
            out.append(("leg_divergence", div & p.open[a] & p.open[b]))
    for kill in pos.get("kills", []):
        out.append((kill["reason"], p.spot_cond(kill["when"])))
    if pos.get("credit_capture_pct") is not None:
        out.append(("credit_captured", pnl >= pos["credit_capture_pct"] / 100.0 * credit - EPS))
    if pos.get("combined_target") is not None:
        out.append(("combined_target", pnl >= pos["combined_target"] - EPS))
    if pos.get("max_hold_s") is not None:
        out.append(("max_hold", t - p.first_fill >= pos["max_hold_s"]))
    if pos.get("check"):
        out.append(("scheduled_close", _bucket_ends(t, pos["check"]) & (pnl >= pos["check"]["close_at_pnl"] - EPS)))
    return out


def _bucket_ends(t: np.ndarray, check: dict) -> np.ndarray:
    """The first second at or after each end of a bucket (every_s from start, IST)."""
    out = np.zeros(len(t), bool)
    if not len(t):
        return out
    day0 = t[0] - (t[0] + IST_S) % DAY_S
    ends = np.arange(day0 + hms(check["start"]) + check["every_s"], t[-1] + 1, check["every_s"])
    ends = ends[ends >= t[0]]              # earlier ends fell before this trade's seconds
    k = np.searchsorted(t, ends)
    out[k[k < len(t)]] = True
    return out


def _check_trade(m: Market, legs: list[dict], config: dict, all_trades: dict) -> list[dict]:
    pos = config.get("position") or {}
    p = _Replay(m, legs, config)
    if not len(p.t):
        return []
    out = []
    live = p.any_open()
    first = None
    for reason, mask in _rule_masks(p, config):
        k = np.flatnonzero(mask & live)
        if len(k) and (first is None or k[0] < first[0]):
            first = (int(k[0]), reason)
    rule_reasons = {r for r, _ in _rule_masks(p, config)}
    decided = [(seconds(r["exit_signal_ts"]), r["exit_reason"], r) for r in legs if r["exit_reason"] in rule_reasons]
    if decided:
        d, reason, r = min(decided, key=lambda x: x[0])
        if first is None or int(p.t[first[0]]) != d or first[1] != reason:
            got = None if first is None else (str(p.t[first[0]]), first[1])
            out.append(_finding(r, "position_rules", "error", f"{reason} decided at {r['exit_signal_ts']}; the "
                                                             f"position's rules first held (second, rule): {got}"))
    elif first is not None:                 # a rule held while a leg was open, and no leg left by it
        out.append(_finding(legs[0], "position_rules", "error", f"{first[1]} held at second {int(p.t[first[0]])} "
                                                               f"while a leg was open; the legs left by "
                                                               f"{[x['exit_reason'] for x in legs]}"))
    out += _leg_stops(p, pos)
    out += _rolls(p, pos, legs, all_trades)
    out += _adjustments(p, pos, legs, all_trades)
    return out


def _leg_stops(p: _Replay, pos: dict) -> list[dict]:
    """A short leg's hard stop: closed alone at the first second its mark reached entry + x."""
    if pos.get("leg_stop") is None:
        return []
    out = []
    for j, r in enumerate(p.legs):
        if r["side"] > 0 or r["opt_type"] == "FUT":     # a short option leg's hard stop
            continue
        hit = np.flatnonzero(p.open[j] & (p.mark[j] - r["entry_px"] >= pos["leg_stop"] - EPS) & (p.t >= p.start))
        d = seconds(r["exit_signal_ts"])
        first = int(p.t[hit[0]]) if len(hit) else None
        if r["exit_reason"] == "leg_stop" and first != d:
            out.append(_finding(r, "position_rules", "error", f"leg_stop at {r['exit_signal_ts']}, its mark first "
                                                             f"reached entry + {pos['leg_stop']} at second {first}"))
        elif r["exit_reason"] != "leg_stop" and first is not None and first < d:
            out.append(_finding(r, "position_rules", "error", f"{r['exit_reason']} at {r['exit_signal_ts']}, but its "
                                                             f"mark reached entry + {pos['leg_stop']} at second {first}"))
    return out


def _rolls(p: _Replay, pos: dict, legs: list[dict], trades: dict) -> list[dict]:
    """A roll: after its wait, with the P&L at least its minimum, to legs scoring its multiple
    (or, from a scheduled check, at a bucket end with the P&L under the check's close)."""
    rolled = [r for r in legs if r["exit_reason"] == "roll"]
    if not rolled:
        return []
    r = rolled[0]
    d = seconds(r["exit_signal_ts"])
    k = int(np.searchsorted(p.t, d))
    pnl = float(p.pnl[k]) if k < len(p.t) and p.t[k] == d else np.nan
    roll, check = pos.get("roll"), pos.get("check")
    from_check = bool(check) and bool(_bucket_ends(p.t, check)[k]) if k < len(p.t) else False
    out = []
    if from_check and not pnl < check["close_at_pnl"] - EPS:
        out.append(_finding(r, "position_rules", "error", f"rolled at a bucket end with P&L {pnl:.4f} >= "
                                                         f"{check['close_at_pnl']} (should close)"))
    if not from_check:
        if roll is None:
            return [_finding(r, "position_rules", "error", "a roll without a roll rule or a scheduled check")]
        if d - p.signal < roll["after_s"]:
            out.append(_finding(r, "position_rules", "error", f"rolled {d - p.signal}s after entry (< {roll['after_s']})"))
        if not pnl >= roll.get("min_pnl", 0.0) - EPS:
            out.append(_finding(r, "position_rules", "error", f"rolled with P&L {pnl:.4f} per unit < "
                                                             f"{roll.get('min_pnl', 0.0)}"))
        new = [x for x in trades.get((r["underlying"], r["date"]), []) if seconds(x["signal_ts"]) == d
               and x["trade_id"] != r["trade_id"]]
        score = roll.get("score", "theta_score")
        old_s = sum(_feature_at(p.m, x, score, d) for x, a in zip(legs, p.added) if x["exit_reason"] == "roll" and not a)
        new_s = sum(_feature_at(p.m, x, score, d) for x in new)
        if not new or not (old_s > 0 and new_s / old_s >= roll["score_mult"] - EPS):
            out.append(_finding(r, "position_rules", "error", f"rolled to {[x['symbol'] for x in new]} scoring "
                                                             f"{new_s:.4f} vs {old_s:.4f} (needs x{roll['score_mult']})"))
    return out


def _feature_at(m: Market, leg: dict, name: str, t: int) -> float:
    f = m.features.get((leg["symbol"], leg["date"]))
    if f is None or name not in f.cols:
        return np.nan
    k = f.at(t)
    return 0.0 if k < 0 or np.isnan(f.cols[name][k]) else float(f.cols[name][k])


def _adjustments(p: _Replay, pos: dict, legs: list[dict], trades: dict) -> list[dict]:
    out = []
    live = p.any_open() & (p.t >= p.start)
    specs = _specs(p.config)
    for adj in pos.get("adjustments", []):
        trig, act, target = adj["trigger"], adj["action"], adj.get("target")
        if trig == "spot_move":
            spot = p.spot_values("spot")
            s0 = _spot_at(p, p.signal)
            move = (spot / s0 - 1.0) * 100.0
            thr, sign = adj["threshold"], adj.get("sign", 0)
            hit = (move >= thr - EPS) if sign > 0 else (move <= -thr + EPS) if sign < 0 else (np.abs(move) >= thr - EPS)
        elif trig == "cond":
            hit = p.spot_cond(adj["cond"])
            move = None
        elif trig == "leg_change":
            j = p.leg_named(adj["leg"])
            if j is None:
                continue
            move = p.mark[j] - p.legs[j]["entry_px"]
            thr, sign = adj["threshold"], adj.get("sign", 0)
            hit = (move >= thr - EPS) if sign > 0 else (move <= -thr + EPS) if sign < 0 else (np.abs(move) >= thr - EPS)
        else:
            continue                  # net_delta, leg_closed, new_position: checked by their effects below
        k = np.flatnonzero(hit & live)
        first = int(p.t[k[0]]) if len(k) else None
        if act == "open_leg":
            added = [x for x in legs if x["leg_name"] == target]
            when = seconds(added[0]["signal_ts"]) if added else None
            if added and when != first:
                out.append(_finding(added[0], "adjustments", "error", f"{target} opened at {when}, the {trig} trigger "
                                                                     f"first held at {first}"))
            elif not added and first is not None and first < max(seconds(x["exit_signal_ts"]) for x in legs):
                out.append(_finding(legs[0], "adjustments", "error", f"{trig} held at {first} and {target} was never "
                                                                    f"opened"))
            if added and move is not None and trig == "spot_move" and specs.get(target, {}).get("side_from_trigger"):
                k0 = int(np.searchsorted(p.t, when)) if when is not None else 0
                want = int(np.sign(move[k0])) * int(specs[target]["side"]) if k0 < len(move) else 0
                if want and added[0]["side"] != want:
                    out.append(_finding(added[0], "adjustments", "error", f"{target} side {added[0]['side']}, the index "
                                                                         f"moved {move[k0]:+.3f} %: side {want}"))
        elif act in ("close_leg", "close_position"):
            closed = [x for x in legs if x["exit_reason"] == "adjustment"   # a close_leg closes its target only
                      and (act != "close_leg" or x["leg_name"] == target)]
            when = min((seconds(x["exit_signal_ts"]) for x in closed), default=None)
            if closed and when != first:
                out.append(_finding(closed[0], "adjustments", "error", f"closed by an adjustment at {when}, the {trig} "
                                                                      f"trigger first held at {first}"))
    for r in legs:
        if r["exit_reason"] == "stack_reduced":
            d = seconds(r["exit_signal_ts"])
            if not any(seconds(x["signal_ts"]) == d and x["trade_id"] != r["trade_id"]
                       for x in trades.get((r["underlying"], r["date"]), [])):
                out.append(_finding(r, "adjustments", "error", f"stack_reduced at {r['exit_signal_ts']} without a "
                                                               f"position opening then"))
    return out


def _spot_at(p: _Replay, t: int) -> float:
    s = p.m.spot.get((p.legs[0]["underlying"], p.legs[0]["date"]))
    if s is None or "spot" not in s.cols:
        return np.nan
    k = s.at(t)
    return float(s.cols["spot"][k]) if k >= 0 else np.nan


def check_positions(m: Market, legs: list[dict], config: dict) -> list[dict]:
    pos = config.get("position") or {}
    if len(config.get("legs", [])) <= 1 and not _has_rules(pos):
        return []
    by_trade: dict[str, list] = {}
    by_day: dict[tuple, list] = {}
    for r in legs:
        by_trade.setdefault(r["trade_id"], []).append(r)
        by_day.setdefault((r["underlying"], r["date"]), []).append(r)
    out = []
    for trade in by_trade.values():
        out += _check_trade(m, sorted(trade, key=lambda r: r["leg"]), config, by_day)
    return out
