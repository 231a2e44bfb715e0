"""Backtest assets: one per strategy config, partitioned like the ticks, plus a summary asset."""
import datetime as dt
import json

import dagster as dg
import pyarrow as pa

from backtest.run import run_backtest
from backtest.strategies import CATALOGUE
from orchestration.partitions import parse_key, tick_partitions
from orchestration.resources import WarehouseResource
from warehouse.catalog import connect, write_catalog


def _backtest_asset(name: str):
    strategy = CATALOGUE[name]

    @dg.asset(name=f"backtest_{name}", group_name="backtests", partitions_def=tick_partitions,
              deps=["features_options", "features_spot", "options_grid"],
              description=f"{name}: one day of the strategy with its default config (trades, events, metrics).")
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        day, underlying = parse_key(context)
        res = run_backtest(warehouse.path, strategy, strategy.default(), underlying, [day])
        write_catalog(warehouse.path)
        m = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.metrics.items()}
        return dg.MaterializeResult(metadata={"run_id": res.run_id, **{k: v for k, v in m.items()
                                                                       if v == v and abs(v) != float("inf")}})
    return _asset


BACKTEST_ASSETS = [_backtest_asset(n) for n in CATALOGUE]


@dg.asset(group_name="backtests", deps=[a.key for a in BACKTEST_ASSETS],
          description="Every strategy's trades over every materialised day: metrics table and equity curve.")
def backtest_summary(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    con = connect(warehouse.path)
    rows = con.sql("""
        select strategy, count(distinct trade_id) trades, count(distinct date) n_days,
               round(avg(case when net_pnl > 0 then 1 else 0 end), 3) win_rate,
               round(sum(net_pnl), 2) net_pnl, round(sum(fees), 2) fees
        from trades group by all order by strategy""").fetchall()
    curve = con.sql("""select date, strategy, round(sum(day_net) over (partition by strategy order by date), 2)
                       from (select date, strategy, sum(net_pnl) day_net from trades group by date, strategy)
                       order by 2, 1""").fetchall()
    table = "\n".join(["| strategy | trades | days | win rate | net P&L | fees |", "|---|---|---|---|---|---|"] +
                      [f"| {r[0]} | {r[1]} | {r[2]} | {r[3]} | {r[4]} | {r[5]} |" for r in rows])
    eq = "\n".join(["| date | strategy | cumulative net |", "|---|---|---|"] + [f"| {d} | {s} | {v} |" for d, s, v in curve])
    return dg.MaterializeResult(metadata={"metrics": dg.MetadataValue.md(table), "equity_curve": dg.MetadataValue.md(eq)})
