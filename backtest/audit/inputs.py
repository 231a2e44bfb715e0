"""What the audit reads of a stored run (the I/O shell): its trade legs, events and config, the
market data of its traded contracts (the padded options grid, the future's ticks carried to every
session second as-of) and the feature rows its rules name."""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute  # noqa: F401 (pa.compute)

# the grid columns the checks read; the future's ticks are shaped to them
GRID_COLUMNS = ["underlying", "date", "symbol", "ts", "is_pad", "price", "vol_delta",
                *[f"{s}_{f}{k}" for s in ("bid", "ask") for f in ("px", "qty") for k in range(5)]]


# the future's ticks as grid rows: carried as-of to every second of the index's grid, padded where
# no tick of that second; {secs} and {ticks} select the days and contracts
_FCOLS = ", ".join("coalesce(f.vol_delta, 0) * (f.ts = s.ts)::int as vol_delta" if c == "vol_delta" else
                   "f.ts != s.ts as is_pad" if c == "is_pad" else f"s.{c}" if c in ("ts",) else f"f.{c}"
                   for c in GRID_COLUMNS)
FUTURES_SQL = f"""with secs as (select underlying, date, ts from spot_grid where {{secs}}),
                       f as (select * from futures_ticks where {{ticks}})
                  select {_FCOLS} from secs s asof join f
                    on s.underlying = f.underlying and s.date = f.date and f.ts <= s.ts"""


@dataclass
class AuditInput:
    legs: pa.Table                  # the run's trade_legs rows
    events: pa.Table                # the run's trade_events rows
    grid: pa.Table                  # options_grid rows of the traded contracts and days (+ the future's)
    config: dict                    # the run's config (StrategyConfig.to_dict())
    spot: pa.Table | None = None    # features_spot rows of the traded days (position rules' conditions)
    features: pa.Table | None = None  # features_options rows of the traded contracts (exit signals, roll scores)


def config_of(run_row: dict) -> dict:
    return json.loads(run_row["config"])


def _conds(config: dict) -> tuple[set[str], set[str]]:
    """(features_options, features_spot) columns the config's conditions and rolls read."""
    opts, spot = set(), set()

    def names(c):
        return {c["feature"]} | ({c["value"]} if isinstance(c.get("value"), str) else set())

    exits = config.get("exits", {})
    for key in ("close_long_when", "close_short_when"):
        if exits.get(key):
            opts |= names(exits[key])
    pos = config.get("position", {})
    for k in pos.get("kills", []):
        spot |= names(k["when"])
    for a in pos.get("adjustments", []):
        if a.get("cond"):
            spot |= names(a["cond"])
    if pos.get("roll"):
        opts.add(pos["roll"]["score"])
    if any(a.get("trigger") == "net_delta" for a in pos.get("adjustments", [])):
        opts.add("delta")
    return opts, spot


def load_run(root, run_id: str, con=None) -> tuple[dict, AuditInput]:
    """Read a run's trade legs, events, config and the market rows of its traded contracts (`con`:
    an open warehouse connection to reuse, as auditing many runs does; default a new one)."""
    import warnings

    from warehouse.catalog import connect

    warnings.filterwarnings("ignore", message="Arrow output on a DB-API result")  # parameterised reads need it
    own = con is None
    con = connect(root) if own else con
    runs = con.execute("select * from backtest_runs where run_id = ?", [run_id]).to_arrow_table().to_pylist()
    if not runs:
        raise LookupError(f"no backtest run {run_id!r} in the warehouse")
    config = config_of(runs[0])
    legs = con.execute("select * exclude (underlying, date), underlying, date from trade_legs where run_id = ? "
                       "order by trade_id, leg", [run_id]).to_arrow_table()
    legs = legs.select([c for c in legs.column_names if c not in ("run_id",)]) \
        .append_column("run_id", pa.array([run_id] * legs.num_rows, pa.string()))
    events = con.execute("select * from trade_events where run_id = ?", [run_id]).to_arrow_table()
    con.execute("create or replace temp table traded as select distinct underlying, date, symbol, opt_type = 'FUT' as fut "
                "from trade_legs where run_id = ?", [run_id])
    cols = ", ".join(f"g.{c}" for c in GRID_COLUMNS)
    grid = con.sql(f"""select {cols} from options_grid g
                       where (g.underlying, g.date, g.symbol) in (select underlying, date, symbol from traded)""").to_arrow_table()
    if con.sql("select count(*) from traded where fut").fetchall()[0][0]:
        fut = con.sql(FUTURES_SQL.format(
            secs="(underlying, date) in (select underlying, date from traded where fut)",
            ticks="(underlying, date, symbol) in (select underlying, date, symbol from traded where fut)")).to_arrow_table()
        grid = pa.concat_tables([grid, fut.cast(grid.schema)])
    opts, spot_cols = _conds(config)
    features = None
    have = {r[0] for r in con.sql("describe features_spot").fetchall()}
    want = ", ".join(sorted((spot_cols | {"spot"}) & have))
    spot = con.sql(f"""select underlying, date, ts, {want} from features_spot
                       where (underlying, date) in (select distinct underlying, date from traded)""").to_arrow_table()
    if opts:
        have = {r[0] for r in con.sql("describe features_options").fetchall()}
        want = ", ".join(sorted(opts & have))
        if want:
            features = con.sql(f"""select underlying, date, symbol, ts, {want} from features_options
                                   where (underlying, date, symbol) in (select underlying, date, symbol from traded)""").to_arrow_table()
    if own:
        con.close()
    return runs[0], AuditInput(legs, events, grid, config, spot, features)


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
                      inp.events.filter(pa.compute.is_in(inp.events["trade_id"], wanted)), inp.grid, inp.config,
                      inp.spot, inp.features)


def audit_stored_run_io(root, run_id: str, sample_per_day: int | None = None, con=None) -> tuple[dict, AuditInput]:
    row, inp = load_run(root, run_id, con)
    if sample_per_day:
        inp = sample_trades(inp, sample_per_day)
    return row, inp
