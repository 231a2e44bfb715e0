"""Real Dagster materialisations of the asset groups on a small generated archive."""
import datetime as dt
import os

import dagster as dg



def instance_of(root) -> dg.DagsterInstance:
    from orchestration.instance import dagster_home

    return dg.DagsterInstance.from_config(str(dagster_home(root)))


def test_every_group_materialises_and_checks_pass(landed):
    from warehouse.catalog import connect

    src, root, summary = landed
    assert "ingest: 2 partitions" in summary and "backtests: 2 partitions" in summary
    instance = instance_of(root)
    for key in ("options_ticks", "gaps", "options_grid", "features_options", "features_spot", "backtest_summary"):
        assert instance.get_latest_materialization_event(dg.AssetKey(key)) is not None, key
    checks = instance.get_latest_materialization_event(dg.AssetKey("options_ticks"))
    con = connect(root)
    assert con.sql("select count(*) from ingest_runs where source_rows != written + deduped + quarantined").fetchall()[0][0] == 0
    cols = [c[0] for c in con.sql("describe features_options").fetchall()]
    for c in ("mid", "spread", "microprice", "imb_l1", "depth_ratio5", "quote_changes", "vol_10s", "vol_5m", "vwap",
              "ema6", "ema18", "ema6_slope", "roc_60s", "sigma_15m", "atr_1m", "or2_high", "tte_years", "spot", "iv",
              "iv_ltp", "delta", "gamma", "theta", "vega", "moneyness", "oi_chg_60s", "is_pad", "pad_age_s"):
        assert c in cols, c
    from backtest.strategies import CATALOGUE      # every strategy of the catalogue has its backtest asset
    assert {r[0] for r in con.sql("select distinct strategy from backtest_runs").fetchall()} == set(CATALOGUE)
    assert checks is not None


def test_landing_sensor_requests_a_run_for_new_files_only(landed):
    from orchestration.definitions import defs
    from orchestration.resources import WarehouseResource

    src, root, _ = landed
    sensor = defs.get_sensor_def("landing_folder_sensor")
    ctx = dg.build_sensor_context(resources={"warehouse": WarehouseResource(root=str(root), landing_dir=str(src))})
    result = sensor(ctx)
    assert isinstance(result, dg.SkipReason)          # the fixture's run already took every file
    (src / "das_nse_mod.sql.gz").touch()              # a file that changed lands again
    os.utime(src / "das_nse_mod.sql.gz", (1, 2_000_000_000))
    req = sensor(dg.build_sensor_context(resources={"warehouse": WarehouseResource(root=str(root), landing_dir=str(src))}))
    assert isinstance(req, dg.RunRequest)
    assert req.run_config["ops"]["landed_sources"]["config"]["sources"] == [str(src / "das_nse_mod.sql.gz")]


def test_definitions_load_with_schedule_and_partitions():
    from orchestration.definitions import defs

    assert defs.get_schedule_def("nightly_mariadb").cron_schedule == "30 18 * * 1-5"
    assert {k.to_user_string() for k in defs.resolve_all_asset_keys()} >= {
        "landed_sources", "options_ticks", "futures_ticks", "spot_ticks", "gaps", "options_grid", "spot_grid",
        "features_options", "features_spot", "backtest_summary", "tick_quality", "backtest_audit"}


def test_every_backtest_run_of_the_materialised_archive_audits_clean(landed):
    """The audits group ran the replay on every run: findings stored, no error, the asset check passed."""
    from warehouse.catalog import connect

    _, root, _ = landed
    con = connect(root)
    runs = con.sql("select count(*) from backtest_runs").fetchall()[0][0]
    assert runs >= 6
    assert con.sql("select count(*) from trades").fetchall()[0][0] > 0
    assert con.sql("select count(*) from audit_findings where severity = 'error'").fetchall()[0][0] == 0
    instance = instance_of(root)
    event = instance.get_latest_materialization_event(dg.AssetKey("backtest_audit"))
    assert event.asset_materialization.metadata["runs"].value == runs
    check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
        [dg.AssetCheckKey(dg.AssetKey("backtest_audit"), "audit_clean")])
    assert check[dg.AssetCheckKey(dg.AssetKey("backtest_audit"), "audit_clean")].status.value == "SUCCEEDED"


def test_quality_checks_ran_on_every_partition_and_pass(landed):
    """A one-day archive has holes but no partial day: every suite passes on both partitions (the
    partial-day coverage failure is proved in test_expectations)."""
    instance = instance_of(landed[1])
    outcomes = {}
    for record in instance.fetch_materializations(dg.AssetKey("tick_quality"), limit=50).records:
        m = record.asset_materialization
        outcomes[m.partition] = m.metadata["failed"].value
    assert len(outcomes) == 2
    assert all(set(o) == {"options_ticks", "futures_ticks", "spot_ticks", "coverage"} for o in outcomes.values())
    assert all(v == [] for o in outcomes.values() for v in o.values()), outcomes


def test_the_audit_catches_tampered_trades(landed):
    """Mutations of a clean run: a fill before its decision, a fee left out, a wrong P&L, a wrong lot."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from backtest.audit import audit_run, load_run
    from warehouse.catalog import connect

    _, root, _ = landed
    run_id, strategy = connect(root).sql(
        "select run_id, strategy from trades group by all having count(*) > 3 order by 1 limit 1").fetchall()[0]
    _, inp = load_run(root, run_id)

    def checks_after(column, fn):
        t = inp.legs
        col = t[column]
        mutated = t.set_column(t.column_names.index(column), column, fn(col))
        inp2 = type(inp)(mutated, inp.events, inp.grid, inp.config)
        return {f["check"] for f in audit_run(inp2).to_pylist() if f["severity"] == "error"}

    assert "no_lookahead" in checks_after("entry_ts", lambda c: pa.array([v - dt.timedelta(seconds=1) for v in c.to_pylist()], c.type))
    assert "fees" in checks_after("fees", lambda c: pc.multiply(c, 0.0))
    assert "pnl" in checks_after("gross_pnl", lambda c: pc.add(c, 1.0))
    assert "lot_size" in checks_after("lot_size", lambda c: pc.add(c, 5))
