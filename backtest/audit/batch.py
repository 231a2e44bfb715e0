"""Auditing many stored runs together (the I/O shell around audit_run, as `ticklake audit` and the
audit asset do it): the market of each (underlying, day) is read once and grouped once, then shared
by every run that traded that day; the runs' rows, legs and events are read in one query per chunk
of runs. Per run one query over the warehouse's views cost more than its whole audit (each view
lists and opens every file of its table), and the same day was read again for every run of it.

Each run gets the AuditInput inputs.load_run reads for it alone (the same rows; the grid's row order
aside, which no check reads: every check sorts or joins by key) and the Market its rows group into,
so the same findings, run by the same checks (tests/test_audit_batch.py holds the two paths equal).
"""
from __future__ import annotations

import datetime as dt
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from backtest.audit.inputs import FUTURES_SQL, GRID_COLUMNS, AuditInput, _conds, config_of, sample_trades
from backtest.audit.series import Market, Series, _group
from warehouse.catalog import sql_string

CHUNK = 200            # runs whose rows, legs and events one query reads
DAYS_KEPT = 8          # underlying-days of market data held at once (least recently used dropped)
QUOTE_COLUMNS = ["price", "bid_px0", "ask_px0", "vol_delta", "is_pad"]
Key = tuple[str, dt.date]


def _where(u: str, d: dt.date, alias: str = "") -> str:
    """The rows of one underlying-day, as literals (the hive partitions are pruned at planning)."""
    return f"{alias}underlying = {sql_string(u)} and {alias}date = DATE '{d.isoformat()}'"


@dataclass
class _Day:
    """One underlying-day's market as the runs of that day read it."""
    grid: pa.Table                      # options_grid rows (GRID_COLUMNS) of every contract of the day
    rows: dict[str, pa.Table]           # symbol -> its grid rows
    quotes: dict                        # (symbol, date) -> Series (Market's quotes)
    spot: pa.Table                      # features_spot rows: keys, ts and every column a run reads
    spot_series: dict                   # (underlying, date) -> Series
    features: pa.Table | None           # features_options rows: keys, ts and every column a run reads
    feature_series: dict                # (symbol, date) -> Series
    futures: dict = field(default_factory=dict)   # future symbols -> (grid-shaped rows, their Series)


class _Market:
    """The warehouse's market data by underlying-day, read on first use and kept for the next runs."""

    def __init__(self, con, spot_cols: list[str], feature_cols: list[str]):
        self.con, self.spot_cols, self.feature_cols = con, spot_cols, feature_cols
        self.days: OrderedDict[Key, _Day] = OrderedDict()
        self.grid_cols = ", ".join(f"g.{c}" for c in GRID_COLUMNS)
        self.empty_grid = con.sql(f"select {self.grid_cols} from options_grid g where false").to_arrow_table()

    def day(self, u: str, d: dt.date) -> _Day:
        if (u, d) in self.days:
            self.days.move_to_end((u, d))
            return self.days[(u, d)]
        grid = self.con.sql(f"select {self.grid_cols} from options_grid g where {_where(u, d, 'g.')}"
                            ).to_arrow_table()
        spot = self.con.sql(f"select underlying, date, ts, {', '.join(self.spot_cols)} from features_spot "
                            f"where {_where(u, d)}").to_arrow_table()
        features = self.con.sql(f"select underlying, date, symbol, ts, {', '.join(self.feature_cols)} from "
                                f"features_options where {_where(u, d)}").to_arrow_table() if self.feature_cols else None
        day = _Day(grid, _by_symbol(grid), _group(grid, ("symbol", "date"), QUOTE_COLUMNS), spot,
                   _group(spot, ("underlying", "date"), self.spot_cols), features,
                   _group(features, ("symbol", "date"), self.feature_cols))
        self.days[(u, d)] = day
        while len(self.days) > DAYS_KEPT:
            self.days.popitem(last=False)
        return day

    def futures(self, u: str, d: dt.date, symbols: tuple[str, ...]) -> tuple[pa.Table, dict]:
        """The future's grid rows of the day (inputs.FUTURES_SQL) for a run trading `symbols`."""
        day = self.day(u, d)
        if symbols not in day.futures:
            # the days and contracts as load_run names them, from a table: with both sides filtered by
            # literals instead, DuckDB's planner turned the as-of join into one that stops carrying the
            # last tick forward after a future's data ends (a partial day lost its afternoon)
            self.con.register("audit_futures", pa.table({
                "underlying": pa.array([u] * len(symbols), pa.string()),
                "date": pa.array([d] * len(symbols), pa.date32()), "symbol": pa.array(symbols, pa.string())}))
            fut = self.con.sql(FUTURES_SQL.format(
                secs="(underlying, date) in (select underlying, date from audit_futures)",
                ticks="(underlying, date, symbol) in (select underlying, date, symbol from audit_futures)")
            ).to_arrow_table().cast(self.empty_grid.schema)
            self.con.unregister("audit_futures")
            day.futures[symbols] = (fut, _group(fut, ("symbol", "date"), QUOTE_COLUMNS))
        return day.futures[symbols]


def _by_symbol(grid: pa.Table) -> dict[str, pa.Table]:
    """Each contract's rows of a day's grid: slices where they are contiguous (the file is stored
    sorted by contract), else taken."""
    if not grid.num_rows:
        return {}
    enc = grid["symbol"].combine_chunks().dictionary_encode()
    codes = enc.indices.to_numpy(zero_copy_only=False)
    out = {}
    for k, symbol in enumerate(enc.dictionary.to_pylist()):
        idx = np.flatnonzero(codes == k)
        contiguous = idx[-1] - idx[0] + 1 == len(idx)
        out[symbol] = grid.slice(int(idx[0]), len(idx)) if contiguous else grid.take(pa.array(idx))
    return out


def _traded(legs: pa.Table) -> dict[Key, tuple[set[str], set[str]]]:
    """(underlying, date) -> (symbols traded that day, of them the futures)."""
    out: dict = {}
    cols = [legs[c].to_pylist() for c in ("underlying", "date", "symbol", "opt_type")]
    for u, d, s, kind in zip(*cols):
        syms, futs = out.setdefault((u, d), (set(), set()))
        syms.add(s)
        if kind == "FUT":
            futs.add(s)
    return out


def _restrict(series: dict, keys, cols: list[str]) -> dict:
    """Series of `keys` with only `cols` (a run's own selection of the day's columns)."""
    return {k: Series(series[k].t, {c: series[k].cols[c] for c in cols}) for k in keys if k in series}


def _inputs(m: _Market, legs: pa.Table, events: pa.Table, config: dict, spot_have: set, opt_have: set
            ) -> tuple[AuditInput, Market]:
    """A run's AuditInput (as inputs.load_run reads it) and its Market, from the shared days."""
    traded = _traded(legs)
    opts, spot_cols = _conds(config)
    spot_want = sorted((spot_cols | {"spot"}) & spot_have)
    feat_want = sorted(opts & opt_have) if opts else []
    grids, futs, spots, feats = [], [], [], []
    quotes, spot_series, feature_series = {}, {}, {}
    for (u, d) in sorted(traded):
        symbols, fut_symbols = traded[(u, d)]
        day = m.day(u, d)
        grids += [day.rows[s] for s in sorted(symbols) if s in day.rows]
        quotes.update((k, day.quotes[k]) for k in ((s, d) for s in symbols) if k in day.quotes)
        if fut_symbols:
            fut, series = m.futures(u, d, tuple(sorted(fut_symbols)))
            futs.append(fut)
            quotes.update((k, v) for k, v in series.items() if k[0] in fut_symbols)
        spots.append(day.spot.select(["underlying", "date", "ts", *spot_want]))
        spot_series.update(_restrict(day.spot_series, [(u, d)], spot_want))
        if feat_want:
            f = day.features
            feats.append(f.filter(pc.is_in(f["symbol"], pa.array(sorted(symbols), pa.string())))
                         .select(["underlying", "date", "symbol", "ts", *feat_want]))
            feature_series.update(_restrict(day.feature_series, [(s, d) for s in symbols], feat_want))
    grid = pa.concat_tables([m.empty_grid, *grids, *futs])
    spot = pa.concat_tables(spots) if spots else m.con.sql(
        f"select underlying, date, ts, {', '.join(spot_want)} from features_spot where false").to_arrow_table()
    features = None
    if feat_want:
        features = pa.concat_tables(feats) if feats else m.con.sql(
            f"select underlying, date, symbol, ts, {', '.join(feat_want)} from features_options where false"
        ).to_arrow_table()
    inp = AuditInput(legs, events, grid, config, spot, features)
    return inp, Market.of(quotes, spot_series, feature_series)


def _chunk_rows(con, run_ids: list[str]) -> tuple[dict, dict, dict]:
    """run id -> its backtest_runs row, its trade legs (load_run's columns and order), its events."""
    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")  # parameterised reads need it
    runs = {r["run_id"]: r for r in con.execute("select * from backtest_runs where list_contains(?, run_id)",
                                                 [run_ids]).to_arrow_table().to_pylist()}
    legs = con.execute("select * exclude (underlying, date), underlying, date from trade_legs "
                       "where list_contains(?, run_id) order by run_id, trade_id, leg", [run_ids]).to_arrow_table()
    events = con.execute("select * from trade_events where list_contains(?, run_id)", [run_ids]).to_arrow_table()
    return runs, _split(legs, run_ids, own_column=True), _split(events, run_ids)


def _split(t: pa.Table, run_ids: list[str], own_column: bool = False) -> dict[str, pa.Table]:
    """Each run's rows, in their order within `t` (a stable sort by run id)."""
    order = pc.sort_indices(t, [("run_id", "ascending")])       # stable
    t = t.take(order)
    ids = t["run_id"].to_numpy(zero_copy_only=False)
    out = {}
    for run_id in run_ids:
        a, b = int(np.searchsorted(ids, run_id, "left")), int(np.searchsorted(ids, run_id, "right"))
        part = t.slice(a, b - a)
        if own_column:      # as load_run: the run id last, a plain string column
            part = part.select([c for c in part.column_names if c != "run_id"]) \
                .append_column("run_id", pa.array([run_id] * part.num_rows, pa.string()))
        out[run_id] = part
    return out


def audit_many(con, run_ids: list[str], sample_per_day: int | None = None,
               audit: Callable | None = None) -> Iterator[tuple[dict, AuditInput, pa.Table]]:
    """(run row, input, findings) of each run, in `run_ids`' order; `con` an open warehouse
    connection; `audit(inp, market)` the audit of one run (backtest.audit.audit_run)."""
    from backtest.audit import audit_run

    audit = audit or audit_run
    spot_have = {r[0] for r in con.sql("describe features_spot").fetchall()}
    opt_have = {r[0] for r in con.sql("describe features_options").fetchall()}
    for start in range(0, len(run_ids), CHUNK):
        chunk = run_ids[start:start + CHUNK]
        runs, legs, events = _chunk_rows(con, chunk)
        missing = [r for r in chunk if r not in runs]
        if missing:
            raise LookupError(f"no backtest run {missing[0]!r} in the warehouse")
        configs = {r: config_of(runs[r]) for r in chunk}
        wanted = [_conds(c) for c in configs.values()]
        spot_cols = sorted(({"spot"} | set().union(*(s for _, s in wanted))) & spot_have)
        feature_cols = sorted(set().union(*(o for o, _ in wanted)) & opt_have)
        market = _Market(con, spot_cols, feature_cols)
        for run_id in chunk:
            inp, m = _inputs(market, legs[run_id], events[run_id], configs[run_id], spot_have, opt_have)
            if sample_per_day:
                inp = sample_trades(inp, sample_per_day)
            yield runs[run_id], inp, audit(inp, m)
