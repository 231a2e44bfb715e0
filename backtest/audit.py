"""Trade-log audit by independent replay: it shares no fill, exit or fee code with the engine.

Every check re-derives a fact about a trade leg from the warehouse's market data (the padded grid),
the leg's own log and the data tables both sides read (the fee schedule in backtest/data, the lot
sizes in transforms/data), in DuckDB SQL or plain Python, and records a finding when they disagree:

  price_achievable   entry/exit price within the touch (+ slippage) of that second, or walkable depth
  fill_rule          each fill obeys its order type: a market buy pays at least the ask (a sell gets at
                     most the bid), walking no further than the book; a limit never fills beyond its limit
  decision_quotes    the quotes logged with every decision are the quotes stamped at that second
                     (an engine that peeked at the next second logs the next second's book)
  real_quote         no fill on a padded second or a null/zero price
  no_lookahead       fills strictly after their decision, by at least the configured latency
  exit_timing        a price exit fired at the FIRST second its (logged) level was reached
  stop_never_loosens logged stop moves only ever tighten
  pnl                gross = side x (exit - entry) x qty, net = gross - fees, hold = exit - entry
  fees               recomputed here from the fee schedule's rows by trade date (decimal arithmetic,
                     FEES.md's rounding), not by the engine's fee model
  lot_size           lot of the contract on the trade date; qty = lots x lot
  flat_at_close      every leg closed, before the session exit; end-of-data exits flagged
"""
from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)

from transforms.expiry import lot_size
from warehouse.schema import AUDIT_FINDINGS

EPS = 1e-6


@dataclass
class AuditInput:
    legs: pa.Table          # the run's trade_legs rows
    events: pa.Table        # the run's trade_events rows
    grid: pa.Table          # options_grid rows of the traded contracts and days
    config: dict            # the run's config (StrategyConfig.to_dict())


def _finding(r: dict, check: str, severity: str, detail: str) -> dict:
    return {"run_id": r["run_id"], "trade_id": r["trade_id"], "leg": int(r["leg"]), "check": check,
            "severity": severity, "detail": detail}


_QUOTES_SQL = """
select t.run_id, t.trade_id, t.leg, t.side, t.entry_px, t.exit_px,
       ge.is_pad as entry_pad, ge.price as entry_ltp, ge.bid_px0 as entry_bid, ge.ask_px0 as entry_ask,
       greatest(ge.ask_px0, ge.ask_px1, ge.ask_px2, ge.ask_px3, ge.ask_px4) as entry_ask_worst,
       least(ge.bid_px0, ge.bid_px1, ge.bid_px2, ge.bid_px3, ge.bid_px4) as entry_bid_worst,
       gx.is_pad as exit_pad, gx.price as exit_ltp, gx.bid_px0 as exit_bid, gx.ask_px0 as exit_ask,
       greatest(gx.ask_px0, gx.ask_px1, gx.ask_px2, gx.ask_px3, gx.ask_px4) as exit_ask_worst,
       least(gx.bid_px0, gx.bid_px1, gx.bid_px2, gx.bid_px3, gx.bid_px4) as exit_bid_worst,
       ge.ts is null as entry_missing, gx.ts is null as exit_missing
from legs t
left join grid ge on ge.symbol = t.symbol and ge.ts = t.entry_ts
left join grid gx on gx.symbol = t.symbol and gx.ts = t.exit_ts
"""


def check_quotes(con, slip: float) -> list[dict]:
    """price_achievable and real_quote, from the grid row of the fill's own second."""
    out = []
    for r in con.sql(_QUOTES_SQL).to_arrow_table().to_pylist():
        for when, px, taking in (("entry", r["entry_px"], r["side"]), ("exit", r["exit_px"], -r["side"])):
            if r[f"{when}_missing"] or r[f"{when}_pad"] or r[f"{when}_ltp"] in (None, 0):
                out.append(_finding(r, "real_quote", "error", f"{when} at a padded/absent/zero-price second"))
                continue
            lo, hi = (r[f"{when}_bid"], r[f"{when}_ask_worst"]) if taking > 0 else (r[f"{when}_bid_worst"], r[f"{when}_ask"])
            if lo is None or hi is None or not (lo - slip - EPS <= px <= hi + slip + EPS):
                out.append(_finding(r, "price_achievable", "error",
                                    f"{when} {px} outside [{lo}, {hi}] +- slippage {slip} (buying={taking > 0})"))
    return out


_EVENT_QUOTES_SQL = """
select e.trade_id, e.leg, e.event, e.ts, e.price, e.bid, e.ask, t.run_id, t.side, t.symbol,
       g.bid_px0, g.ask_px0,
       greatest(g.ask_px0, g.ask_px1, g.ask_px2, g.ask_px3, g.ask_px4) as ask_worst,
       least(g.bid_px0, g.bid_px1, g.bid_px2, g.bid_px3, g.bid_px4) as bid_worst,
       (select o.price from events o where o.trade_id = e.trade_id and o.leg = e.leg and o.event = 'order'
        order by o.ts limit 1) as limit_px
from events e join legs t on t.trade_id = e.trade_id and t.leg = e.leg
left join grid g on g.symbol = t.symbol and g.ts = e.ts
order by e.trade_id, e.leg, e.ts
"""
DECISIONS = ("signal", "order", "exit_signal", "exit_order", "stop_move")


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


def check_events(con, slip: float) -> list[dict]:
    """fill_rule on every fill event and decision_quotes on every decision event."""
    out = []
    for r in con.sql(_EVENT_QUOTES_SQL).to_arrow_table().to_pylist():
        if r["event"] in DECISIONS:
            logged, stamped = (_num(r["bid"]), _num(r["ask"])), (_num(r["bid_px0"]), _num(r["ask_px0"]))
            if logged != stamped:
                out.append(_finding(r, "decision_quotes", "error", f"{r['event']} at {r['ts']} logged bid/ask "
                                                                   f"{logged}, the book at that second was {stamped}"))
        elif r["event"] in ("fill", "exit_fill") and _num(r["bid"]) is not None:
            act = r["side"] if r["event"] == "fill" else -r["side"]
            limit = _num(r["limit_px"]) if r["event"] == "fill" else None
            if not _fill_ok(act, r["price"], limit, r, slip):
                out.append(_finding(r, "fill_rule", "error",
                                    f"{r['event']} at {r['price']} ({'market' if limit is None else f'limit {limit}'}, "
                                    f"{'buy' if act > 0 else 'sell'}) against bid {r['bid_px0']} / ask {r['ask_px0']}"))
    return out


@lru_cache(maxsize=1)
def _fee_schedule() -> tuple[dict, ...]:
    """The rows of backtest/data/fee_schedule.csv, rates as exact decimals (read here, not through
    backtest.fees: a bug there must not pass the audit)."""
    text = resources.files("backtest").joinpath("data", "fee_schedule.csv").read_text()
    rows = []
    for r in csv.DictReader(text.splitlines()):
        rows.append({"instrument": r["instrument"], "from": dt.date.fromisoformat(r["effective_from"]),
                     "to": dt.date.fromisoformat(r["effective_to"]) if r["effective_to"] else dt.date.max,
                     **{k: Decimal(r[k]) for k in ("stt_sell_pct", "txn_pct", "ipft_pct", "ipft_per_crore",
                                                    "sebi_per_crore", "stamp_buy_pct", "gst_pct")}})
    return tuple(rows)


_RUPEE, _PAISA, _CRORE = Decimal("1"), Decimal("0.01"), Decimal(10) ** 7


def expected_fees(day: dt.date, side: int, entry_px: float, exit_px: float, qty: int,
                  brokerage_per_order: float) -> Decimal:
    """Charges of one option leg's round trip as a broker's calculator rounds them (FEES.md): STT on
    the sell side to the rupee, the rest to the paisa, half up; GST on brokerage + transaction
    charge (with IPFT) + SEBI fee. Prices enter as the decimals they print as."""
    rates = [r for r in _fee_schedule() if r["instrument"] == "option" and r["from"] <= day <= r["to"]]
    if not rates:
        raise LookupError(f"fee schedule: no option rates for {day}")
    r = rates[0]
    entry, exit_ = Decimal(repr(float(entry_px))) * qty, Decimal(repr(float(exit_px))) * qty
    buy, sell = (entry, exit_) if side > 0 else (exit_, entry)
    turnover = buy + sell
    brokerage = Decimal(repr(float(brokerage_per_order))) * 2
    stt = (sell * r["stt_sell_pct"] / 100).quantize(_RUPEE, ROUND_HALF_UP)
    txn = (turnover * (r["txn_pct"] + r["ipft_pct"]) / 100 + turnover * r["ipft_per_crore"] / _CRORE
           ).quantize(_PAISA, ROUND_HALF_UP)
    sebi = (turnover * r["sebi_per_crore"] / _CRORE).quantize(_PAISA, ROUND_HALF_UP)
    stamp = (buy * r["stamp_buy_pct"] / 100).quantize(_PAISA, ROUND_HALF_UP)
    gst = ((brokerage + txn + sebi) * r["gst_pct"] / 100).quantize(_PAISA, ROUND_HALF_UP)
    return brokerage + stt + txn + sebi + stamp + gst


def _brokerage_per_order(config: dict) -> float:
    fees = config["execution"]["fees"]
    if fees.get("model", "nse") != "nse":
        raise ValueError(f"the audit knows the NSE fee schedule only, not fee model {fees['model']!r}")
    return float(fees["brokerage_per_order"])


def _money_findings(r: dict, brokerage: float) -> list[dict]:
    """gross = side x (exit - entry) x qty, net = gross - fees, fees = the schedule's charges."""
    out = []
    gross = r["side"] * (r["exit_px"] - r["entry_px"]) * r["qty"]
    if abs(gross - r["gross_pnl"]) > 1e-6 * max(1.0, abs(gross)):
        out.append(_finding(r, "pnl", "error", f"gross {r['gross_pnl']} != {gross}"))
    if abs(r["gross_pnl"] - r["fees"] - r["net_pnl"]) > 1e-6:
        out.append(_finding(r, "pnl", "error", "net != gross - fees"))
    fees = expected_fees(r["date"], r["side"], r["entry_px"], r["exit_px"], r["qty"], brokerage)
    if abs(fees - Decimal(repr(r["fees"]))) > Decimal("0.005"):
        out.append(_finding(r, "fees", "error", f"fees {r['fees']} != schedule {fees}"))
    return out


def check_arithmetic(legs: list[dict], config: dict) -> list[dict]:
    """pnl, hold time, fees, lot size, latency, flat at close: row by row, plain Python."""
    out = []
    latency = config["execution"]["latency"]["seconds"]
    session_exit = config["exits"]["session_exit"]
    brokerage = _brokerage_per_order(config)
    for r in legs:
        numbers = (r["entry_px"], r["exit_px"], r["gross_pnl"], r["fees"], r["net_pnl"])
        if all(x is not None and np.isfinite(x) for x in numbers):
            out += _money_findings(r, brokerage)
        else:
            out.append(_finding(r, "pnl", "error", f"a price or P&L is not a number: entry {r['entry_px']}, "
                                                   f"exit {r['exit_px']}, gross {r['gross_pnl']}, fees {r['fees']}"))
        hold = (r["exit_ts"] - r["entry_ts"]).total_seconds()
        if hold != r["hold_s"] or hold < 0:
            out.append(_finding(r, "pnl", "error", f"hold_s {r['hold_s']} != {hold}"))
        lot = lot_size(r["underlying"], r["expiry"], r["date"])
        if lot != r["lot_size"] or r["qty"] != r["lots"] * lot and not r["partial_fill"]:
            out.append(_finding(r, "lot_size", "error", f"lot {r['lot_size']} (expected {lot}), qty {r['qty']}"))
        if (r["entry_ts"] - r["signal_ts"]).total_seconds() < latency or \
                (r["exit_ts"] - r["exit_signal_ts"]).total_seconds() < latency:
            out.append(_finding(r, "no_lookahead", "error", f"fill less than {latency}s after its decision"))
        if r["exit_reason"] == "end_of_data":
            out.append(_finding(r, "flat_at_close", "warning", "closed at the end of the data, not by a rule"))
        elif r["exit_signal_ts"].time().isoformat() > session_exit and r["exit_reason"] != "session_exit":
            out.append(_finding(r, "flat_at_close", "error", "exit decided after the session exit"))
    return out


def check_exit_timing(con, legs: list[dict], events: list[dict]) -> list[dict]:
    """A stop/target exit must fire at the first second the executable price reached the level in
    force (the logged stop path); a stop must never loosen."""
    out = []
    by_trade: dict[tuple, list] = {}
    for e in events:
        by_trade.setdefault((e["trade_id"], e["leg"]), []).append(e)
    for r in legs:
        evs = sorted(by_trade.get((r["trade_id"], r["leg"]), []), key=lambda e: e["ts"])
        stops = [e["stop"] for e in evs if e["event"] == "stop_move"]
        if any((b - a) * r["side"] < -EPS for a, b in zip(stops, stops[1:])) or \
                (stops and r["initial_stop"] is not None and (stops[0] - r["initial_stop"]) * r["side"] < -EPS):
            out.append(_finding(r, "stop_never_loosens", "error", f"stop path {stops[:8]}"))
        if r["exit_reason"] not in ("stop", "trailing_stop", "target") or r["leg"] != 0 or r["side"] == 0:
            continue
        fill = next((e for e in evs if e["event"] == "fill"), None)
        if fill is None:
            continue
        # the level in force at each second: the stop after the last move at or before it
        rows = con.execute("""select ts, bid_px0, ask_px0, price, is_pad, vol_delta from grid
                              where symbol = ? and ts >= ? and ts <= ? order by ts""",
                           [r["symbol"], r["entry_ts"], r["exit_signal_ts"]]).fetchall()
        moves = [(e["ts"], e["stop"]) for e in evs if e["event"] == "stop_move"]
        target = fill["target"]
        first = None
        for ts, bid, ask, ltp, pad, vol in rows:
            if pad or ltp is None:
                continue             # not executable: a padded second or a null/zero price (real_quote)
            if not vol or ts <= r["entry_ts"]:
                ltp = None           # only a trade printed after the entry second can reach a target
            stop = r["initial_stop"]
            for mts, mstop in moves:
                if mts <= ts:
                    stop = mstop
            px = bid if r["side"] > 0 else ask
            hit_stop = stop is not None and px is not None and (px - stop) * r["side"] <= EPS
            hit_tgt = target is not None and not np.isnan(target) and (
                (px is not None and (px - target) * r["side"] >= -EPS) or (ltp is not None and (ltp - target) * r["side"] >= -EPS))
            if hit_stop or hit_tgt:
                first = ts
                break
        if first != r["exit_signal_ts"]:
            out.append(_finding(r, "exit_timing", "error", f"{r['exit_reason']} logged at {r['exit_signal_ts']}, "
                                                          f"rule first met at {first}"))
    return out


def audit_run(inp: AuditInput) -> pa.Table:
    """All findings of one run (an empty table when the run is clean)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    con.register("legs", inp.legs)
    con.register("grid", inp.grid)
    con.register("events", inp.events)
    slip = max(inp.config["execution"]["slippage"]["atm"], inp.config["execution"]["slippage"]["otm"])
    legs = inp.legs.to_pylist()
    findings = check_quotes(con, slip) + check_events(con, slip) + check_arithmetic(legs, inp.config) + \
        check_exit_timing(con, legs, inp.events.to_pylist())
    con.close()
    return pa.Table.from_pylist(findings, schema=AUDIT_FINDINGS)


def summary(findings: pa.Table) -> list[tuple[str, str, int]]:
    rows = {}
    for f in findings.to_pylist():
        rows[(f["check"], f["severity"])] = rows.get((f["check"], f["severity"]), 0) + 1
    return sorted((c, s, n) for (c, s), n in rows.items())


def config_of(run_row: dict) -> dict:
    return json.loads(run_row["config"])


def load_run(root, run_id: str) -> tuple[dict, AuditInput]:
    """Read a run's trade legs, events, config and the grid rows of its traded contracts (I/O shell)."""
    import warnings

    from warehouse.catalog import connect

    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")  # parameterised reads need it
    con = connect(root)
    runs = con.execute("select * from backtest_runs where run_id = ?", [run_id]).to_arrow_table().to_pylist()
    if not runs:
        raise LookupError(f"no backtest run {run_id!r} in the warehouse")
    legs = con.execute("select * exclude (underlying, date), underlying, date from trade_legs where run_id = ? "
                       "order by trade_id, leg", [run_id]).to_arrow_table()
    legs = legs.select([c for c in legs.column_names if c not in ("run_id",)]) \
        .append_column("run_id", pa.array([run_id] * legs.num_rows, pa.string()))
    events = con.execute("select * from trade_events where run_id = ?", [run_id]).to_arrow_table()
    grid = con.execute("""select g.* from options_grid g
                          where (g.underlying, g.date, g.symbol) in
                                (select distinct underlying, date, symbol from trade_legs where run_id = ?)""",
                       [run_id]).to_arrow_table()
    con.close()
    return runs[0], AuditInput(legs, events, grid, config_of(runs[0]))


def sample_trades(inp: AuditInput, per_day: int, seed: int = 0) -> AuditInput:
    """Up to `per_day` random trades (all their legs and events) of each day: the audit of huge runs."""
    rng = np.random.default_rng(seed)
    by_day: dict = {}
    for tid, day in zip(inp.legs["trade_id"].to_pylist(), inp.legs["date"].to_pylist()):
        by_day.setdefault(day, set()).add(tid)
    keep = set()
    for day in sorted(by_day):
        ids = sorted(by_day[day])
        keep.update(ids if len(ids) <= per_day else rng.choice(ids, per_day, replace=False).tolist())
    wanted = pa.array(sorted(keep), pa.string())
    return AuditInput(inp.legs.filter(pa.compute.is_in(inp.legs["trade_id"], wanted)),
                      inp.events.filter(pa.compute.is_in(inp.events["trade_id"], wanted)), inp.grid, inp.config)


def audit_stored_run(root, run_id: str, sample_per_day: int | None = None) -> tuple[dict, AuditInput, pa.Table]:
    """Load a stored run and audit it (every trade, or a seeded sample per day) against its own
    stored config (latency, slippage, brokerage)."""
    row, inp = load_run(root, run_id)
    if sample_per_day:
        inp = sample_trades(inp, sample_per_day)
    return row, inp, audit_run(inp)
