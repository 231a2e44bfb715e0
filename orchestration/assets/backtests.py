"""Backtest assets: one per daily strategy (backtest.strategies.DAILY), partitioned like the ticks, plus a
summary asset; the rest of the catalogue runs through `ticklake backtest --all`."""
import base64

import dagster as dg

from backtest.reports.charts import equity_png
from backtest.reports.html import equity_curve
from backtest.reports.load import load_report, write_report
from backtest.reports.tables import metrics_table
from backtest.run import run_backtest
from backtest.strategies import CATALOGUE, DAILY
from orchestration.partitions import parse_key, tick_partitions
from orchestration.resources import WarehouseResource
from warehouse.catalog import connect


def _finite(v) -> bool:
    return not isinstance(v, float) or (v == v and abs(v) != float("inf"))


def _backtest_asset(name: str):
    strategy = CATALOGUE[name]

    @dg.asset(name=f"backtest_{name}", group_name="backtests", partitions_def=tick_partitions,
              deps=["features_options", "features_spot", "options_grid"],
              description=f"`{name}` over one day with its default config: trade legs (`trade_legs`, one row per leg; `trades` sums them per trade), their events "
                          f"(`trade_events`) and the run's metrics (`backtest_runs`).")
    def _asset(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
        day, underlying = parse_key(context)
        res = run_backtest(warehouse.path, strategy, strategy.default(), underlying, [day])
        warehouse.wrote()
        m = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in res.metrics.items()}
        return dg.MaterializeResult(metadata={"run_id": res.run_id, "dagster/row_count": dg.MetadataValue.int(res.legs.num_rows),
                                              **{k: v for k, v in m.items() if _finite(v)}})
    return _asset


BACKTEST_ASSETS = [_backtest_asset(n) for n in DAILY]
GUARDED_FAMILY = ("guarded_straddle", "guarded_strangle_2a", "guarded_hedged_2b", "guarded_delta_flat_2c",
                  "guarded_ladder_2d")


@dg.asset(group_name="backtests", deps=[a.key for a in BACKTEST_ASSETS],
          description="Every strategy over every backtested day: the metrics table (net P&L, win rate, profit "
                      "factor, drawdown, fees ...), the equity curve with its drawdown, and the HTML report "
                      "(`<warehouse>/reports/backtest_summary.html`).")
def backtest_summary(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    root = warehouse.path
    strategies = [r[0] for r in connect(root).sql("select distinct strategy from backtest_runs order by 1").fetchall()]
    reports = [load_report(root, s) for s in strategies]
    table = metrics_table([(r.label, r.metrics) for r in reports], by_metric=True).text("github")
    curves = {r.label: equity_curve(r.legs) for r in reports if r.legs.num_rows}
    png = base64.b64encode(equity_png(curves)).decode() if curves else ""
    path = write_report(root, strategies, root / "reports" / "backtest_summary.html") if strategies else None
    family = [s for s in GUARDED_FAMILY if s in strategies]     # the guarded straddle and its variants
    if family:
        write_report(root, family, root / "reports" / "guarded_variants.html")
    return dg.MaterializeResult(metadata={
        "metrics": dg.MetadataValue.md(table),
        "equity_curve": dg.MetadataValue.md(f"![equity curve and drawdown](data:image/png;base64,{png})" if png else "no trades"),
        "strategies": len(strategies), "trade_legs": sum(r.legs.num_rows for r in reports),
        "report": dg.MetadataValue.path(str(path)) if path else "no runs"})
