"""Trade-log audit by independent replay: it shares no fill, exit, rule or fee code with the engine.

Every check re-derives a fact about a trade leg or a whole trade (a position) from the warehouse's
market data (the padded options grid, the future's ticks, features_spot and features_options rows),
the trade's own log, the run's stored config and the data tables both sides read (the fee
schedule in backtest/data, the lot sizes in transforms/data), in DuckDB SQL or plain Python, and
records a finding when they disagree. It never imports backtest.kernels, backtest.simulate,
backtest.compile, backtest.conditions or backtest.selectors.

  price_achievable   entry/exit price within the touch (+ slippage, + a roll's penalty) of that
                     second, or walkable depth; a resting limit's entry at its own price once
                     the other side quotes or a trade prints at or through it       (quotes)
  fill_rule          each fill obeys its order type: a market buy pays at least the ask (a sell gets
                     at most the bid), walking no further than the book; a limit never fills
                     beyond its limit                                                 (quotes)
  decision_quotes    the quotes logged with every decision are the quotes stamped at that second
                     (an engine that peeked at the next second logs the next second's book)
  real_quote         no fill on a padded second or a null/zero price
  no_lookahead       fills strictly after their decision, by at least the configured latency
                     (an end_of_data exit is decided and filled at the data's last second)
  exit_timing        every leg exit fired at the FIRST second its rule was met: stop, target and
                     trailing stop (the logged stop path), time stop, session exit, the declared
                     exit signal, end of data (the contract's last real second)      (leg_exits)
  stop_never_loosens logged stop moves only ever tighten
  position_rules     the position's combined P&L replayed per second from the grid: each position
                     rule (session exit, combined stop, divergence, kill-switches, credit capture,
                     combined target, maximum hold, scheduled check, a short leg's hard stop) fired
                     at the first second it held and none was missed; a roll only after its wait,
                     with the P&L at least its minimum and the new legs scoring its multiple
  adjustments        each adjustment's legs opened or closed at the first second its trigger held,
                     on the side the trigger says; a stack reduced when a new position opened
                                                                                     (positions)
  pnl                gross = side x (exit - entry) x qty, net = gross - fees, hold = exit - entry
  fees               recomputed here from the fee schedule's rows by trade date and instrument
                     (decimal arithmetic, FEES.md's rounding), not by the engine's fee model
  lot_size           lot of the contract on the trade date; qty = lots x lot
  flat_at_close      every leg closed, before the session exit; end-of-data exits flagged (money)
  queue_fill         each resting LIMIT entry's fills, replayed through the run's queue model from
                     the grid's 5 levels, LTP and volume: the units of every fill      (queue)
"""
from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)

from backtest.audit.inputs import AuditInput, audit_stored_run_io, config_of, load_run, sample_trades
from backtest.audit.leg_exits import check_leg_exits
from backtest.audit.money import check_arithmetic, expected_fees
from backtest.audit.positions import check_positions
from backtest.audit.queue import check_queue, grid_rows, queued_legs
from backtest.audit.quotes import check_events, check_quotes
from backtest.audit.series import Market
from warehouse.schema import AUDIT_FINDINGS

__all__ = ["AuditInput", "audit_run", "audit_stored_run", "config_of", "expected_fees", "load_run", "sample_trades",
           "summary"]


def _slippage(config: dict) -> float:
    slip = config["execution"]["slippage"]
    return max(slip.get("atm", 0.15), slip.get("otm", 0.30))


def audit_run(inp: AuditInput, market: Market | None = None) -> pa.Table:
    """All findings of one run (an empty table when the run is clean); `market` the Market of
    inp's grid, spot and features when already grouped (backtest.audit.batch shares days)."""
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Kolkata'")
    con.register("legs", inp.legs)
    con.register("grid", _at_logged_seconds(inp))
    con.register("events", inp.events.append_column("row_", pa.array(range(inp.events.num_rows), pa.int64())))
    slip = _slippage(inp.config)
    legs = inp.legs.to_pylist()
    events = inp.events.to_pylist()
    market = market or Market(inp.grid, inp.spot, inp.features)
    findings = check_quotes(con, slip, inp.config) + check_arithmetic(legs, inp.config) + \
        check_positions(market, legs, inp.config)
    if events or not legs:
        findings += check_events(con, slip, inp.config) + check_leg_exits(market, legs, events, inp.config) + \
            _queue(inp, legs, events)
    else:       # stored with --no-events: the stop paths, decisions and fills the replay needs were not logged
        findings.append(events_not_logged(legs[0]["run_id"], len(legs)))
    con.close()
    return pa.Table.from_pylist(findings, schema=AUDIT_FINDINGS)


def _at_logged_seconds(inp: AuditInput) -> pa.Table:
    """The grid rows of the seconds the run's legs and events name: all the SQL checks join (on
    symbol and second), a few hundred of a run's hundred thousand rows."""
    ts = inp.grid["ts"]
    logged = [inp.legs[c] for c in ("entry_ts", "exit_ts")] + [inp.events["ts"]]
    seconds = pa.chunked_array([c for col in logged for c in col.cast(ts.type).chunks], ts.type)
    return inp.grid.filter(pa.compute.is_in(ts, value_set=seconds.combine_chunks()))


def events_not_logged(run_id: str, n_legs: int) -> dict:
    """The one finding of a run stored without trade events (a warning: the run is not fully
    auditable, which is not an error of its trades)."""
    return {"run_id": run_id, "trade_id": None, "leg": None, "check": "events_not_logged", "severity": "warning",
            "detail": f"the run was stored without trade events (backtest --no-events): decision_quotes, fill_rule, "
                      f"exit_timing, stop_never_loosens and queue_fill are not checked for its {n_legs} legs; "
                      f"run it again with events for a full audit"}


def _queue(inp: AuditInput, legs: list[dict], events: list[dict]) -> list[dict]:
    """queue_fill over the grid rows of the contracts that rested a limit order."""
    queued = queued_legs(legs, events, inp.config)
    if not queued:
        return []
    symbols = sorted({r["symbol"] for r, _ in queued})
    grid = inp.grid.filter(pa.compute.is_in(inp.grid["symbol"], pa.array(symbols, pa.string())))
    return check_queue(grid_rows(grid), legs, events, inp.config)


def summary(findings: pa.Table) -> list[tuple[str, str, int]]:
    rows: dict = {}
    for f in findings.to_pylist():
        rows[(f["check"], f["severity"])] = rows.get((f["check"], f["severity"]), 0) + 1
    return sorted((c, s, n) for (c, s), n in rows.items())


def audit_stored_run(root, run_id: str, sample_per_day: int | None = None, con=None) -> tuple[dict, AuditInput, pa.Table]:
    """Load a stored run and audit it (every trade, or a seeded sample per day) against its own
    stored config (latency, slippage, brokerage, rules); `con` an open warehouse connection to reuse."""
    row, inp = audit_stored_run_io(root, run_id, sample_per_day, con)
    return row, inp, audit_run(inp)
