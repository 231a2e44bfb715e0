"""Fills against the book of their second: price_achievable, real_quote (SQL over the grid rows of
the fills' seconds), fill_rule and decision_quotes (every event against the book it names)."""
from __future__ import annotations

from transforms.expiry import UNDERLYINGS, tick_size

EPS = 1e-6
MIN_PRICE = min(tick_size(u) for u in UNDERLYINGS)    # the exchange's lowest price, from the contract specs


def _finding(r: dict, check: str, severity: str, detail: str) -> dict:
    return {"run_id": r["run_id"], "trade_id": r["trade_id"], "leg": int(r["leg"]), "check": check,
            "severity": severity, "detail": detail}


_QUOTES_SQL = """
select t.run_id, t.trade_id, t.leg, t.side, t.entry_px, t.exit_px, t.exit_reason,
       ge.is_pad as entry_pad, ge.price as entry_ltp, ge.bid_px0 as entry_bid, ge.ask_px0 as entry_ask,
       greatest(ge.ask_px0, ge.ask_px1, ge.ask_px2, ge.ask_px3, ge.ask_px4) as entry_ask_worst,
       least(ge.bid_px0, ge.bid_px1, ge.bid_px2, ge.bid_px3, ge.bid_px4) as entry_bid_worst,
       gx.is_pad as exit_pad, gx.price as exit_ltp, gx.bid_px0 as exit_bid, gx.ask_px0 as exit_ask,
       greatest(gx.ask_px0, gx.ask_px1, gx.ask_px2, gx.ask_px3, gx.ask_px4) as exit_ask_worst,
       least(gx.bid_px0, gx.bid_px1, gx.bid_px2, gx.bid_px3, gx.bid_px4) as exit_bid_worst,
       ge.ts is null as entry_missing, gx.ts is null as exit_missing,
       (select o.price from events o where o.trade_id = t.trade_id and o.leg = t.leg and o.event = 'order'
        order by o.ts, o.row_ limit 1) as limit_px
from legs t
left join grid ge on ge.symbol = t.symbol and ge.ts = t.entry_ts
left join grid gx on gx.symbol = t.symbol and gx.ts = t.exit_ts
order by t.trade_id, t.leg
"""


def check_quotes(con, slip: float, config: dict) -> list[dict]:
    """price_achievable and real_quote, from the grid row of the fill's own second (a roll's exits
    may also carry its penalty); in leg order (a join's own order follows the grid's rows)."""
    out = []
    penalty = ((config.get("position") or {}).get("roll") or {}).get("penalty") or 0.0
    for r in con.sql(_QUOTES_SQL).to_arrow_table().to_pylist():
        for when, px, taking in (("entry", r["entry_px"], r["side"]), ("exit", r["exit_px"], -r["side"])):
            tol = slip + (penalty if when == "exit" and r["exit_reason"] == "roll" else 0.0)
            if r[f"{when}_missing"] or r[f"{when}_pad"] or r[f"{when}_ltp"] in (None, 0):
                out.append(_finding(r, "real_quote", "error", f"{when} at a padded/absent/zero-price second"))
                continue
            if px is None or px < MIN_PRICE - EPS:       # slippage never pays a sale below the tick
                out.append(_finding(r, "price_achievable", "error", f"{when} {px} below the minimum price {MIN_PRICE}"))
                continue
            if when == "entry" and _resting_limit_fill(r, px, taking):
                continue
            lo, hi = (r[f"{when}_bid"], r[f"{when}_ask_worst"]) if taking > 0 else (r[f"{when}_bid_worst"], r[f"{when}_ask"])
            if lo is None or hi is None or not (lo - tol - EPS <= px <= hi + tol + EPS):
                out.append(_finding(r, "price_achievable", "error",
                                    f"{when} {px} outside [{lo}, {hi}] +- slippage {tol} (buying={taking > 0})"))
    return out


def _resting_limit_fill(r: dict, px: float, taking: int) -> bool:
    """A resting limit fills at its own price when the other side quotes at or through it or a trade
    prints at or through it: the price may then lie outside the second's book (issue #18)."""
    limit = r.get("limit_px")
    if limit is None or limit != limit or abs(px - limit) > EPS:
        return False
    other, ltp = (r["entry_ask"], r["entry_ltp"]) if taking > 0 else (r["entry_bid"], r["entry_ltp"])
    if taking > 0:
        return (other is not None and other <= px + EPS) or (ltp is not None and ltp <= px + EPS)
    return (other is not None and other >= px - EPS) or (ltp is not None and ltp >= px - EPS)


_EVENT_QUOTES_SQL = """
select e.trade_id, e.leg, e.event, e.ts, e.price, e.bid, e.ask, t.run_id, t.side, t.symbol, t.exit_reason,
       g.bid_px0, g.ask_px0,
       greatest(g.ask_px0, g.ask_px1, g.ask_px2, g.ask_px3, g.ask_px4) as ask_worst,
       least(g.bid_px0, g.bid_px1, g.bid_px2, g.bid_px3, g.bid_px4) as bid_worst,
       (select o.price from events o where o.trade_id = e.trade_id and o.leg = e.leg and o.event = 'order'
        order by o.ts, o.row_ limit 1) as limit_px
from events e join legs t on t.trade_id = e.trade_id and t.leg = e.leg
left join grid g on g.symbol = t.symbol and g.ts = e.ts
order by e.trade_id, e.leg, e.ts, e.row_
"""
DECISIONS = ("signal", "order", "exit_signal", "exit_order", "stop_move", "adjustment")


def _num(x) -> float | None:
    return None if x is None or x != x else float(x)


def _fill_ok(act: int, px: float, limit: float | None, r: dict, slip: float) -> bool:
    """Could an order of this type, buying (act +1) or selling (-1), fill at `px` in this book?
    The engine's raw price is px minus up to `slip` of adverse slippage."""
    bid, ask, bid_worst, ask_worst = (_num(r[k]) for k in ("bid_px0", "ask_px0", "bid_worst", "ask_worst"))
    if act > 0:
        if limit is None:
            return ask is not None and px >= ask - EPS and px - slip <= ask_worst + EPS
        return px - slip <= limit + EPS and px >= min(limit, ask if ask is not None else limit) - EPS
    if limit is None:
        return bid is not None and px <= bid + EPS and px + slip >= bid_worst - EPS
    return px + slip >= limit - EPS and px <= max(limit, bid if bid is not None else limit) + EPS


def check_events(con, slip: float, config: dict) -> list[dict]:
    """fill_rule on every fill event and decision_quotes on every decision event, in the order of the
    trade, leg and second, events of one second as logged (`row_`, their row in the run's events:
    a sort alone orders ties as the join happens to deliver them, which follows the grid's rows)."""
    out = []
    penalty = ((config.get("position") or {}).get("roll") or {}).get("penalty") or 0.0
    for r in con.sql(_EVENT_QUOTES_SQL).to_arrow_table().to_pylist():
        if r["event"] in DECISIONS:
            logged, stamped = (_num(r["bid"]), _num(r["ask"])), (_num(r["bid_px0"]), _num(r["ask_px0"]))
            if logged != stamped:
                out.append(_finding(r, "decision_quotes", "error", f"{r['event']} at {r['ts']} logged bid/ask "
                                                                   f"{logged}, the book at that second was {stamped}"))
        elif r["event"] in ("fill", "exit_fill") and _num(r["bid"]) is not None:
            act = r["side"] if r["event"] == "fill" else -r["side"]
            limit = _num(r["limit_px"]) if r["event"] == "fill" else None
            tol = slip + (penalty if r["event"] == "exit_fill" and r["exit_reason"] == "roll" else 0.0)
            if not _fill_ok(act, r["price"], limit, r, tol):
                out.append(_finding(r, "fill_rule", "error",
                                    f"{r['event']} at {r['price']} ({'market' if limit is None else f'limit {limit}'}, "
                                    f"{'buy' if act > 0 else 'sell'}) against bid {r['bid_px0']} / ask {r['ask_px0']}"))
    return out
