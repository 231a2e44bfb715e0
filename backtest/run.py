"""Backtest runs: the I/O around backtest.simulate (the imperative shell).

`run_backtest()` / `run_each()` read each day's partitions once, simulate every config on it and
write `trade_legs` and `trade_events` per (run, underlying, day) and one `backtest_runs` row per run.
run_id = hash of config + the data partitions' versions + code version, so the same inputs give the
same run id and the same rows.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from backtest.compile import required_features
from backtest.data import (DEPTH_COLUMNS, FUTURE_COLUMNS, QUOTE_COLUMNS, DayData, dense_spot, listed_expiries, load_day,
                           nearest_future, resolve_expiry)
from backtest.models import FeeModel
from backtest.padded import padded_trades
from backtest.simulate import DayResult, make_run_id, simulate_day, summarize_run
from backtest.strategies import Strategy
from backtest.strategies.base import StrategyConfig
from warehouse import schema as S
from warehouse.readahead import map_ahead
from warehouse.version import code_version


@dataclass
class RunResult:
    run_id: str
    strategy: str
    legs: pa.Table                 # trade_legs rows
    events: pa.Table               # trade_events rows
    metrics: dict
    days: list[dt.date]
    stored: bool                   # written to the warehouse (a sweep without --write is not)
    engine_s: float = 0.0          # time in signals + engine kernels (the rest is reading and writing)
    contract_seconds: int = 0      # grid cells of the days the engine ran on (seconds x contracts loaded)


def partition_version(root, table: str, keys: dict) -> str:
    from warehouse.layout import partition_dir
    from warehouse.writer import read_manifest

    m = read_manifest(partition_dir(root, table, keys)) or {}
    return f"{table}:{m.get('run_id', '')}:{m.get('code_version', '')}"


def available_days(root, underlying: str, start: dt.date | None, end: dt.date | None) -> list[dt.date]:
    from warehouse.layout import table_dir

    base = table_dir(root, "features_options") / f"underlying={underlying}"
    days = sorted(dt.date.fromisoformat(p.name.split("=", 1)[1]) for p in base.glob("date=*")) if base.exists() else []
    return [d for d in days if (start is None or d >= start) and (end is None or d <= end)]


@dataclass(frozen=True)
class Needs:
    """What the strategies run on a day read: features_options and features_spot columns, the legs'
    expiry slots (slot, on_expiry_day) and whether a leg trades the index future."""

    features: tuple[str, ...] = ()
    spot_features: tuple[str, ...] = ()
    expiries: tuple[tuple[str, str], ...] = (("weekly", "trade"),)
    future: tuple[str, ...] = ()            # the futures' on_expiry_day ("trade"/"roll"); empty: none

    @classmethod
    def of(cls, jobs: list[tuple[Strategy, StrategyConfig]]) -> "Needs":
        names, spot, expiries, future = {"price"}, set(), set(), set()
        for strategy, cfg in jobs:
            opts, spot_cols = required_features(cfg)
            names |= set(strategy.features) | opts
            spot |= set(strategy.spot_features) | spot_cols
            for leg in cfg.legs:
                if leg.instrument == "FUT" or leg.strike.by == "future":
                    future.add(leg.on_expiry_day)
                else:
                    expiries.add((leg.expiry, leg.on_expiry_day))
        return cls(tuple(sorted(names)), tuple(sorted(spot)), tuple(sorted(expiries)) or cls.expiries,
                   tuple(sorted(future)))


def load_inputs(root, underlying: str, day: dt.date, names: list[str] | Needs,
                spot_names: tuple[str, ...] = ()) -> tuple[DayData, dict] | None:
    """One day's dense engine inputs (the expiries and the future the strategies' legs name, only
    the named features) and the named features_spot columns per second, or None when the day has
    no option features."""
    from warehouse.writer import read_partition, read_partition_rows

    needs = names if isinstance(names, Needs) else Needs(tuple(names), tuple(spot_names))
    keys = {"underlying": underlying, "date": day}
    recorded = read_partition(root, "features_options", keys, columns=["expiry"])
    listed = listed_expiries(recorded["expiry"] if recorded is not None else None, day)
    if not listed:
        return None
    wanted = sorted({e for slot, roll in needs.expiries
                     if (e := resolve_expiry(underlying, day, listed, slot, roll)) is not None} or {listed[0]})
    columns = list(dict.fromkeys(QUOTE_COLUMNS + list(needs.features)))
    parts = [read_partition_rows(root, "features_options", keys, columns, "expiry", e, dictionary=("symbol", "opt_type"))
             for e in wanted]
    feats = parts[0] if len(parts) == 1 else pa.concat_tables([p.cast(parts[0].schema) for p in parts])

    def depth():
        rows = [read_partition_rows(root, "options_grid", keys, DEPTH_COLUMNS, "expiry", e) for e in wanted]
        rows = [r for r in rows if r is not None]
        return None if not rows else rows[0] if len(rows) == 1 else pa.concat_tables(rows)

    future = None
    if needs.future:
        # a day without future ticks loads without it: legs on the future find no contract that day
        future = nearest_future(read_partition(root, "futures", keys, columns=FUTURE_COLUMNS), day, needs.future[0])
    data = load_day(underlying, day, feats, read_partition(root, "spot_grid", keys), list(needs.features), depth,
                    expiries=wanted, future=future, listed=listed)
    data.tradable, data.strikes_from_atm, data.last_real    # noqa: B018 - the masks every strategy reads, built here
    spot = read_partition(root, "features_spot", keys) if needs.spot_features else None
    return data, dense_spot(data.t_s, spot, needs.spot_features)


@dataclass
class _Job:
    strategy: Strategy
    cfg: StrategyConfig
    fees: FeeModel
    run_id: str
    legs: list
    events: list
    engine_s: float = 0.0
    cells: int = 0
    capital: float | None = None      # the Kelly sizing's tracked capital (the config's, then moved by each day)


def _write_day(root, run_id: str, keys: dict, res: DayResult) -> None:
    from warehouse.writer import PartitionManifest, write_partition

    for table, rows, schema in (("trade_legs", res.legs, S.TRADE_LEGS), ("trade_events", res.events, S.TRADE_EVENTS)):
        write_partition(root, table, {"run_id": run_id, **keys}, rows, schema,
                        PartitionManifest(table, {"run_id": run_id, **{k: str(v) for k, v in keys.items()}},
                                          0, run_id, code_version("backtest")))


def _finish(root, j: _Job, underlying: str, days: list[dt.date], versions: list[str], write: bool) -> RunResult:
    from transforms.calendar import session_seconds
    from warehouse.writer import PartitionManifest, write_partition

    legs = pa.concat_tables(j.legs) if j.legs else S.TRADE_LEGS.empty_table()
    events = pa.concat_tables(j.events) if j.events else S.TRADE_EVENTS.empty_table()
    session_s = float(np.mean([session_seconds(d) for d in days])) if days else 0.0
    fo = {(underlying, d): partition_version(root, "features_options", {"underlying": underlying, "date": d})
          for d in days}
    metrics = summarize_run(legs, days, session_s, padded_trades=padded_trades(root, legs, fo))
    if write:
        row = {"run_id": j.run_id, "strategy": j.cfg.name, "underlying": underlying,
               "start": min(days) if days else None, "end": max(days) if days else None, "days": len(days),
               "config": json.dumps(j.cfg.to_dict(), default=str), "code_version": code_version("backtest"),
               "data_version": hashlib.sha256("|".join(versions).encode()).hexdigest()[:12],
               "created_at": dt.datetime.now(dt.timezone.utc), **metrics}
        write_partition(root, "backtest_runs", {"run_id": j.run_id},
                        pa.Table.from_pylist([row], schema=S.BACKTEST_RUNS), S.BACKTEST_RUNS,
                        PartitionManifest("backtest_runs", {"run_id": j.run_id}, 0, j.run_id, code_version("backtest")))
    return RunResult(j.run_id, j.cfg.name, legs, events, metrics, days, write, j.engine_s, j.cells)


def run_many(root, jobs: list[tuple[Strategy, StrategyConfig]], underlying: str, days: list[dt.date],
             log_events: bool = True, fees: FeeModel | None = None, write: bool = True,
             progress=None) -> list[RunResult]:
    """Several strategy configs over the same days of one underlying (see run_each)."""
    return run_each(root, jobs, {underlying: days}, log_events, fees, write, progress)[underlying]


def run_each(root, jobs: list[tuple[Strategy, StrategyConfig]], days_of: dict[str, list[dt.date]],
             log_events: bool = True, fees: FeeModel | None = None, write: bool = True,
             progress=None) -> dict[str, list[RunResult]]:
    """Several strategy configs over days of several underlyings, one run per (config, underlying):
    each day is read once and every config runs on it (the same engine call as a single run, so
    sharing changes no trade). Sweeps and the six demo strategies use this; `run_backtest` is the
    one-config case. `fees` replaces every config's fee model."""
    versions = {u: [partition_version(root, t, {"underlying": u, "date": d}) for d in days
                    for t in ("options_grid", "features_options")] for u, days in days_of.items()}
    states = {u: [_Job(s, c, fees or c.execution.fees, make_run_id(c, u, days, versions[u]), [], [])
                  for s, c in jobs] for u, days in days_of.items()}
    needs = Needs.of(jobs)
    # the next days are read and made dense by two threads while this one is simulated: Parquet
    # decoding, Arrow conversions and the scatter kernels release the GIL, so the cores stay busy;
    # one pipeline for all underlyings, so the threads do not drain at each underlying's last day
    work = [(u, d) for u, days in days_of.items() for d in days]
    for i, ((underlying, day), loaded) in enumerate(map_ahead(lambda w: (w, load_inputs(root, *w, needs)),
                                                              work, workers=2)):
        if progress:   # the progress protocol (orchestration.progress): days done, the day's grid cells
            cells = 0 if loaded is None else loaded[0].Q.shape[0] * loaded[0].Q.shape[1]
            progress({"files_done": i, "files_total": len(work), "source": f"{underlying} {day}", "rows": cells})
        if loaded is None:
            continue
        data, spot = loaded
        for j in states[underlying]:
            t0 = time.perf_counter()
            res = simulate_day(j.strategy, j.cfg, data, j.run_id, log_events, spot, j.fees, j.capital)
            j.capital = (j.cfg.risk.capital if j.capital is None else j.capital) + res.gross
            j.engine_s += time.perf_counter() - t0
            j.cells += data.Q.shape[0] * data.Q.shape[1]
            j.legs.append(res.legs)
            j.events.append(res.events)
            if write:
                _write_day(root, j.run_id, {"underlying": underlying, "date": day}, res)
    return {u: [_finish(root, j, u, days, versions[u], write) for j in states[u]] for u, days in days_of.items()}


def run_backtest(root, strategy: Strategy, cfg: StrategyConfig, underlying: str, days: list[dt.date],
                 log_events: bool = True, fees: FeeModel | None = None, write: bool = True,
                 progress=None) -> RunResult:
    """Run one strategy config over days of one underlying; write its partitions."""
    return run_many(root, [(strategy, cfg)], underlying, days, log_events, fees, write, progress)[0]
