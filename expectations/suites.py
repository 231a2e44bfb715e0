"""Every expectation suite, declared once: which table it reads, how its frame is built, its checks.

Each expectation carries `meta.check`, a short stable name the asset checks, the CLI and the tests
use ("bid_le_ask", "price_on_tick_grid", ...). Suites are built fresh on every call because a Great
Expectations suite binds its expectations to one data context.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import great_expectations as gx
import great_expectations.expectations as gxe

from backtest.enums import EXIT_REASONS
from expectations import frames
from warehouse import schema as S

DEFAULT_COVERAGE_FLOOR = 0.8   # a regular generated or recorded day covers > 0.88; a partial day ~0.7


@dataclass(frozen=True)
class Suite:
    name: str
    table: str                       # warehouse table (warehouse.layout.TABLES)
    frame: Callable                  # (arrow table, date) -> pandas frame with derived columns
    examples: tuple[str, ...]        # columns that identify a failing row in the examples
    checks: Callable[[dict], list]   # (params) -> [expectation with meta.check]


def _x(check: str, expectation, why: str):
    expectation.meta = {"check": check}
    expectation.description = why
    return expectation


def _not_null(cols):
    return [_x(f"{c}_not_null", gxe.ExpectColumnValuesToNotBeNull(column=c), f"key `{c}` is never null") for c in cols]


def _positive(cols):
    return [_x(f"{c}_positive", gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, strict_min=True),
               f"`{c}` is > 0 where present (a zero price is stored as null)") for c in cols]


def _schema(table_schema, extra=()):
    return _x("schema", gxe.ExpectTableColumnsToMatchSet(column_set=[*table_schema.names, *extra], exact_match=True),
              "the columns are exactly the warehouse schema")


def _on_grid(cols):
    return [_x(c, gxe.ExpectColumnValuesToBeInSet(column=c, value_set=[True]),
               f"`{c.split('_')[0]}` is a whole number of 0.05 ticks") for c in cols]


def _increasing(per: str):
    return _x("ts_strictly_increasing", gxe.ExpectColumnValuesToBeBetween(column="ts_step_s", min_value=0, strict_min=True),
              f"ts strictly increases {per} (no duplicate or out-of-order second)")


def _in_session():
    return _x("ts_in_session", gxe.ExpectColumnValuesToBeInSet(column="in_session", value_set=[True]),
              "every stamp lies inside the day's trading session (calendar table)")


def _bid_le_ask():
    return _x("bid_le_ask", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="ask_px0", column_B="bid_px0", or_equal=True, ignore_row_if="either_value_is_missing"),
        "best bid <= best ask when both are quoted")


def _expiry_not_before_date():
    return _x("expiry_not_before_date", gxe.ExpectColumnPairValuesAToBeGreaterThanB(
        column_A="expiry", column_B="date", or_equal=True, ignore_row_if="either_value_is_missing"),
        "no contract trades after its expiry")


_QUOTE_FRAME_COLUMNS = ("price_on_tick_grid", "bid_on_tick_grid", "ask_on_tick_grid", "ts_step_s", "in_session")


def _option_checks(p: dict) -> list:
    return [_schema(S.OPTION_TICKS, _QUOTE_FRAME_COLUMNS),
            *_not_null(("underlying", "expiry", "opt_type", "strike", "symbol", "ts", "date")),
            _x("opt_type_ce_pe", gxe.ExpectColumnValuesToBeInSet(column="opt_type", value_set=["CE", "PE"]),
               "option type is CE or PE"),
            *_positive(("strike", "price", "bid_px0", "ask_px0")),
            *_on_grid(("price_on_tick_grid", "bid_on_tick_grid", "ask_on_tick_grid")),
            _bid_le_ask(), _increasing("per contract"), _in_session(), _expiry_not_before_date(),
            _x("vol_delta_not_negative", gxe.ExpectColumnValuesToBeBetween(column="vol_delta", min_value=0),
               "per-row traded quantity is never negative (reset-aware)")]


def _futures_checks(p: dict) -> list:
    return [_schema(S.FUTURES_TICKS, _QUOTE_FRAME_COLUMNS),
            *_not_null(("underlying", "expiry", "symbol", "ts", "date")),
            *_positive(("price", "bid_px0", "ask_px0")),
            *_on_grid(("price_on_tick_grid", "bid_on_tick_grid", "ask_on_tick_grid")),
            _bid_le_ask(), _increasing("per contract"), _in_session(), _expiry_not_before_date()]


def _spot_checks(p: dict) -> list:
    return [_schema(S.SPOT_TICKS, ("ts_step_s", "in_session")), *_not_null(("underlying", "ts", "date")),
            *_positive(("price",)), _increasing("per index"), _in_session()]


def _crypto_checks(p: dict) -> list:
    return [_schema(S.CRYPTO_TRADES, ("ts_step_s",)), *_not_null(("symbol", "ts", "trade_id")),
            *_positive(("price", "qty")),
            _x("trade_id_unique", gxe.ExpectCompoundColumnsToBeUnique(column_list=["market", "layout", "trade_id"]),
               "each trade id appears once (per market and layout: spot/futures, trades/aggTrades ids are separate)"),
            _x("ts_not_decreasing", gxe.ExpectColumnValuesToBeBetween(column="ts_step_s", min_value=0),
               "trades are in time order")]


def _coverage_checks(p: dict) -> list:
    floor = p.get("coverage_floor", DEFAULT_COVERAGE_FLOOR)
    return [*_not_null(("symbol", "coverage")),
            # thin coverage is a warning everywhere (asset checks, `ticklake quality`, Data Docs): the rows are real
            _x("coverage_above_floor", gxe.ExpectColumnValuesToBeBetween(column="coverage", min_value=floor, max_value=1.0,
                                                                         severity="warning"),
               f"each contract has real rows for at least {floor:.0%} of the session seconds")]


def _ingest_checks(p: dict) -> list:
    return [_schema(S.INGEST_RUNS, ("accounted",)), *_not_null(("run_id", "source", "partition")),
            _x("reconciles", gxe.ExpectColumnPairValuesToBeEqual(column_A="source_rows", column_B="accounted"),
               "source rows = written + deduped + quarantined for every source and partition")]


def _feature_checks(p: dict) -> list:
    documented = S.FEATURES_OPTIONS.names
    return [_x("documented_columns", gxe.ExpectTableColumnsToMatchSet(column_set=documented, exact_match=False),
               "every documented feature column is stored"),
            *_not_null(("symbol", "ts", "is_pad", "pad_age_s")),
            _increasing("per contract"), _in_session(),
            _x("pad_age_not_negative", gxe.ExpectColumnValuesToBeBetween(column="pad_age_s", min_value=0),
               "pad age counts seconds since the last real row"),
            _x("delta_in_range", gxe.ExpectColumnValuesToBeBetween(column="delta", min_value=-1.0, max_value=1.0),
               "delta lies in [-1, 1]"),
            _x("gamma_not_negative", gxe.ExpectColumnValuesToBeBetween(column="gamma", min_value=0), "gamma >= 0"),
            *_positive(("iv", "mid"))]


def _trade_checks(p: dict) -> list:
    return [_schema(S.TRADE_LEGS, ("net_residual", "exit_after_entry_s")),
            *_not_null(("run_id", "trade_id", "symbol", "entry_ts", "exit_ts", "exit_reason")),
            *_positive(("entry_px", "exit_px", "lots", "lot_size")),
            _x("exit_after_entry", gxe.ExpectColumnValuesToBeBetween(column="exit_after_entry_s", min_value=0),
               "a position exits at or after its entry"),
            _x("net_is_gross_minus_fees", gxe.ExpectColumnValuesToBeBetween(column="net_residual", max_value=0.01),
               "net P&L = gross P&L - fees"),
            _x("fees_not_negative", gxe.ExpectColumnValuesToBeBetween(column="fees", min_value=0), "fees are >= 0"),
            _x("known_exit_reason", gxe.ExpectColumnValuesToBeInSet(column="exit_reason", value_set=[r for r in EXIT_REASONS if r]),
               "the exit reason is one the engine defines")]


SUITES: dict[str, Suite] = {s.name: s for s in (
    Suite("options_ticks", "options", lambda t, d: frames.quote_frame(t, d, "symbol"), ("symbol", "ts"), _option_checks),
    Suite("futures_ticks", "futures", lambda t, d: frames.quote_frame(t, d, "symbol"), ("symbol", "ts"), _futures_checks),
    Suite("spot_ticks", "spot", frames.spot_frame, ("underlying", "ts"), _spot_checks),
    Suite("crypto_trades", "crypto", frames.crypto_frame, ("symbol", "trade_id"), _crypto_checks),
    Suite("coverage", "coverage", frames.plain_frame, ("symbol",), _coverage_checks),
    Suite("features_options", "features_options", frames.features_frame, ("symbol", "ts"), _feature_checks),
    Suite("trade_legs", "trade_legs", frames.trades_frame, ("strategy", "trade_id", "leg"), _trade_checks),
    Suite("ingest_runs", "ingest_runs", frames.ingest_runs_frame, ("source", "partition"), _ingest_checks),
)}


def build_suite(name: str, params: dict | None = None) -> gx.ExpectationSuite:
    """A fresh Great Expectations suite for `name` (params: coverage_floor)."""
    suite = gx.ExpectationSuite(name=name)
    for expectation in SUITES[name].checks(params or {}):
        suite.add_expectation(expectation)
    return suite
