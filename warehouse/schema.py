"""Arrow schemas of every warehouse table: the one source of truth for column names and types.

Prices are float64 rupees on the 0.05 grid; quantities int64; a zero price or an empty depth level is
null, never 0. Timestamps are microsecond, tz-aware: IST for NSE data, UTC for crypto.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib import resources

import pyarrow as pa

from warehouse.clock import IST_TS

UTC_TS = pa.timestamp("us", tz="UTC")
F64, I64, I32, STR, DATE, BOOL = pa.float64(), pa.int64(), pa.int32(), pa.string(), pa.date32(), pa.bool_()

# Quote values shared by options and futures, in the recorder's order (renamed to trader words).
QUOTE_FIELDS = [
    ("price", F64), ("last_qty", I64), ("avg_price", F64), ("volume", I64), ("vol_delta", I64),
    ("buy_qty", I64), ("sell_qty", I64), ("day_open", F64), ("day_high", F64), ("day_low", F64),
    ("prev_close", F64), ("change_pct", F64), ("last_trade_ts", IST_TS), ("oi", I64), ("oi_high", I64),
    ("oi_low", I64),
    *[(f"bid_{f}{k}", t) for f, t in (("px", F64), ("qty", I64), ("orders", I64)) for k in range(5)],
    *[(f"ask_{f}{k}", t) for f, t in (("px", F64), ("qty", I64), ("orders", I64)) for k in range(5)],
]
# Recorder column -> canonical column (depth columns follow bq{k}/bp{k}/bo{k}, sq{k}/sp{k}/so{k}).
RECORDER_TO_CANONICAL = {
    "price": "price", "qty": "last_qty", "avgPrice": "avg_price", "volume": "volume", "bQty": "buy_qty",
    "sQty": "sell_qty", "open": "day_open", "high": "day_high", "low": "day_low", "close": "prev_close",
    "changeper": "change_pct", "lastTradeTime": "last_trade_ts", "oi": "oi", "oiHigh": "oi_high",
    "oiLow": "oi_low",
    **{f"{s}{x}{k}": f"{side}_{f}{k}" for s, side in (("b", "bid"), ("s", "ask"))
       for x, f in (("q", "qty"), ("p", "px"), ("o", "orders")) for k in range(5)},
}
PRICE_COLUMNS = ("price", "avg_price", "day_open", "day_high", "day_low", "prev_close",
                 *(f"{side}_px{k}" for side in ("bid", "ask") for k in range(5)))

# `symbol` is the canonical upper-case instrument name (`where symbol = 'BANKNIFTY25NOV54400CE'`);
# `source_table` the recorder table the row came from (older tables were named in lower case).
# `session`: the session segment of the row's second (regular / pre_open / post_close / break):
# index, futures and stock prices before 09:15 and after 15:30 are real (pre-open, post-close) and
# kept; option rows outside the session are quarantined. `ts_repaired`: the recorder stamped the
# row 1970-01-01 05:30 and ts is its lastTradeTime.
SESSION_FIELD = ("session", STR)
OPTION_TICKS = pa.schema([
    ("underlying", STR), ("expiry", DATE), ("opt_type", STR), ("strike", I32), ("symbol", STR),
    ("source_table", STR), ("ts", IST_TS), ("date", DATE), *QUOTE_FIELDS, ("ts_repaired", BOOL),
])
FUTURES_TICKS = pa.schema([
    ("underlying", STR), ("expiry", DATE), ("symbol", STR), ("source_table", STR), ("ts", IST_TS), ("date", DATE),
    SESSION_FIELD, *QUOTE_FIELDS, ("ts_repaired", BOOL),
])
SPOT_TICKS = pa.schema([("underlying", STR), ("source_table", STR), ("ts", IST_TS), ("date", DATE), SESSION_FIELD,
                        ("price", F64)])
# Stocks (the recorder's Nifty-500 tables in its nse database): the option book columns; the
# partition's `underlying` is the stock itself.
EQUITY_TICKS = pa.schema([
    ("underlying", STR), ("symbol", STR), ("source_table", STR), ("ts", IST_TS), ("date", DATE), SESSION_FIELD,
    *QUOTE_FIELDS, ("ts_repaired", BOOL),
])
# market: spot / usdm_futures; layout: trades / aggTrades (their ids are different sequences)
CRYPTO_MARKETS = ("spot", "usdm_futures")
CRYPTO_TRADES = pa.schema([
    ("symbol", STR), ("market", STR), ("layout", STR), ("ts", UTC_TS), ("date", DATE), ("trade_id", I64),
    ("price", F64), ("qty", F64), ("is_buyer_maker", BOOL),
])
INGEST_RUNS = pa.schema([
    ("run_id", STR), ("source", STR), ("target", STR), ("partition", STR), ("source_rows", I64), ("written", I64),
    ("deduped", I64), ("quarantined", I64), ("repaired", I64), ("started_at", UTC_TS),
    ("finished_at", UTC_TS), ("code_version", STR),
])
QUARANTINE = pa.schema([
    ("run_id", STR), ("source", STR), ("position", STR), ("reason", STR), ("raw", STR),
])
# Tables a run did not read because they hold no instrument data (the recorder's working tables,
# tables without its columns, unsafe names, unsupported underlyings): one row per table per run.
INGEST_SKIPPED = pa.schema([
    ("run_id", STR), ("source", STR), ("table_name", STR), ("reason", STR), ("rows", I64),
])

# Sort order inside a partition, per table.
SORT_KEYS = {
    "options": ["expiry", "opt_type", "strike", "ts"],
    "futures": ["expiry", "ts"],
    "spot": ["ts"],
    "equity": ["ts"],
    "crypto": ["ts", "trade_id"],
}

# --- gaps, padded grid, coverage (transforms.gaps / transforms.pad) ---------------------------
GAP_KINDS = ("late_start", "intraday", "early_end", "missing_day", "partial_day")
GAPS = pa.schema([
    ("underlying", STR), ("date", DATE), ("symbol", STR), ("instrument", STR),  # instrument: option/futures/spot
    ("expiry", DATE), ("opt_type", STR), ("strike", I32),
    ("gap_start", IST_TS), ("gap_end", IST_TS), ("seconds", I64), ("kind", STR),
])
# One row per contract per session second; values forward-filled from the last real row.
GRID_VALUE_FIELDS = [(n, t) for n, t in QUOTE_FIELDS if n not in ("last_trade_ts",)]
OPTION_GRID = pa.schema([
    ("underlying", STR), ("expiry", DATE), ("opt_type", STR), ("strike", I32), ("symbol", STR),
    ("ts", IST_TS), ("date", DATE), *GRID_VALUE_FIELDS, ("is_pad", BOOL), ("pad_age_s", I32),
])
SPOT_GRID = pa.schema([("underlying", STR), ("ts", IST_TS), ("date", DATE), ("price", F64), ("is_pad", BOOL),
                       ("pad_age_s", I32)])
COVERAGE = pa.schema([
    ("underlying", STR), ("date", DATE), ("symbol", STR), ("instrument", STR), ("real_rows", I64),
    ("session_seconds", I64), ("coverage", F64), ("first_ts", IST_TS), ("last_ts", IST_TS),
])

# --- backtests (backtest.run) ---------------------------------------------------------------
# one row per leg of a trade: a trade (trade_id, unique across runs) is one position of the position
# engine, its legs those opened together plus those adjustments added; the `trades` view
# (warehouse.catalog) has one row per trade
TRADE_LEGS = pa.schema([
    ("run_id", STR), ("strategy", STR), ("trade_id", STR), ("leg", I32), ("underlying", STR), ("date", DATE),
    ("symbol", STR), ("expiry", DATE), ("opt_type", STR), ("strike", I32), ("side", I32), ("lots", I32),
    ("lot_size", I32), ("qty", I64), ("signal_ts", IST_TS), ("entry_ts", IST_TS), ("entry_px", F64),
    ("exit_signal_ts", IST_TS), ("exit_ts", IST_TS), ("exit_px", F64), ("exit_reason", STR),
    ("initial_stop", F64), ("gross_pnl", F64), ("fees", F64), ("net_pnl", F64), ("mfe", F64), ("mae", F64),
    ("hold_s", I64), ("stop_and_target_same_second", BOOL), ("partial_fill", BOOL),
    ("leg_name", STR),   # the strategy's name for the leg (ce, pe, hedge, fut, ...)
])
TRADE_EVENTS = pa.schema([
    ("run_id", STR), ("trade_id", STR), ("leg", I32), ("date", DATE), ("ts", IST_TS), ("event", STR),
    ("price", F64), ("stop", F64), ("target", F64), ("bid", F64), ("ask", F64),
])
BACKTEST_RUNS = pa.schema([   # `trades`, `win_rate`, ... count trade legs (backtest.metrics)
    ("run_id", STR), ("strategy", STR), ("underlying", STR), ("start", DATE), ("end", DATE), ("days", I32),
    ("config", STR), ("code_version", STR), ("data_version", STR), ("created_at", UTC_TS),
    ("trades", I64), ("win_rate", F64), ("expectancy", F64), ("profit_factor", F64), ("net_pnl", F64),
    ("gross_pnl", F64), ("fees", F64), ("sharpe", F64), ("sortino", F64), ("max_drawdown", F64),
    ("max_drawdown_pct", F64), ("trades_per_day", F64), ("time_in_market", F64), ("fee_share_of_gross", F64),
    ("end_of_data_exits", I64),   # legs closed at their contract's last real second (the data ended)
    # per trade (legs together; backtest.metrics.trade_metrics): breakevens apart from wins and losses
    ("trade_count", I64), ("trade_wins", I64), ("trade_losses", I64), ("trade_breakevens", I64),
    ("sharpe_per_trade", F64), ("avg_mfe", F64), ("avg_mae", F64),
    ("padded_share", F64),        # share of trades touching a padded second (backtest.padded)
])
# --- audit (backtest.audit): one row per finding of the independent replay --------------------
AUDIT_FINDINGS = pa.schema([("run_id", STR), ("trade_id", STR), ("leg", I32), ("check", STR), ("severity", STR),
                            ("detail", STR)])

# --- features (features.registry computes them; their columns are declared here, as data) --------
@dataclass(frozen=True)
class FeatureColumn:
    """One stored feature column, a row of `warehouse/data/features.csv`."""

    table: str             # features_options / features_spot
    name: str
    family: str            # the kernel group that computes it (quote / flow / trend / options / state ...)
    inputs: tuple[str, ...]
    window_s: int | None   # the look-back window the kernels use, where there is one
    dtype: pa.DataType
    version: int
    description: str


_DTYPES = {"double": F64, "float": pa.float32(), "int32": I32, "int64": I64, "bool": BOOL, "date32[day]": DATE}
_INPUT_GROUPS = {"@touch": ("bid_px0", "ask_px0", "bid_qty0", "ask_qty0"),
                 "@depth5": tuple(f"{s}_{f}{k}" for s in ("bid", "ask") for f in ("px", "qty", "orders") for k in range(5))}


def _feature_columns() -> tuple[FeatureColumn, ...]:
    text = resources.files("warehouse").joinpath("data/features.csv").read_text()
    out = []
    for r in csv.DictReader(text.splitlines()):
        inputs = tuple(x for tok in r["inputs"].split() for x in _INPUT_GROUPS.get(tok, (tok,)))
        out.append(FeatureColumn(r["table"], r["name"], r["family"], inputs,
                                 int(r["window_s"]) if r["window_s"] else None, _DTYPES[r["dtype"]],
                                 int(r["version"]), r["description"]))
    return tuple(out)


FEATURE_COLUMNS = _feature_columns()
# columns every features_options row carries (keys + the grid's own values)
FEATURES_OPTIONS_BASE = [("underlying", STR), ("date", DATE), ("symbol", STR), ("expiry", DATE), ("opt_type", STR),
                         ("strike", I32), ("ts", IST_TS), ("price", F64), ("bid_px0", F64), ("ask_px0", F64),
                         ("bid_qty0", I64), ("ask_qty0", I64), ("vol_delta", I64), ("oi", I64), ("is_pad", BOOL),
                         ("pad_age_s", I32)]


def described(name: str, dtype: pa.DataType, description: str) -> pa.Field:
    """A field carrying its description (Parquet keeps it; the catalog turns it into a column comment)."""
    return pa.field(name, dtype, metadata={"description": description})


def features_options_schema(columns: list[FeatureColumn] | None = None) -> pa.Schema:
    """features_options with the given feature columns (default: every one), in declaration order."""
    cols = [c for c in FEATURE_COLUMNS if c.table == "features_options"] if columns is None else columns
    return pa.schema(FEATURES_OPTIONS_BASE + [described(c.name, c.dtype, c.description) for c in cols])


FEATURES_OPTIONS = features_options_schema()
FEATURES_SPOT = pa.schema([("underlying", STR), ("date", DATE), ("ts", IST_TS)] +
                          [described(c.name, c.dtype, c.description) for c in FEATURE_COLUMNS if c.table == "features_spot"])
