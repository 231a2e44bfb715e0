"""Real Dagster materialisations of the asset groups: every ingest route registers its partitions,
`materialize` builds them, runs are named jobs the UI lists, checks carry their partition."""
import datetime as dt
import os
import subprocess
import sys

import dagster as dg
import pyarrow.parquet as pq
import pytest

from warehouse import schema as S

PARTITION = "2025-11-03|NIFTY"


def instance_of(root) -> dg.DagsterInstance:
    from orchestration.instance import dagster_home

    return dg.DagsterInstance.from_config(str(dagster_home(root)))


def tl(*args, env=None):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def stored_rows(root, table: str, underlying="NIFTY", day="2025-11-03") -> int:
    from warehouse.layout import DATA_FILE, partition_dir

    path = partition_dir(root, table, {"underlying": underlying, "date": day}) / DATA_FILE
    return pq.read_metadata(path).num_rows if path.exists() else 0


def latest(instance, asset: str, partition: str):
    record = instance.fetch_materializations(dg.AssetRecordsFilter(dg.AssetKey(asset), asset_partitions=[partition]),
                                             limit=1).records
    return record[0].asset_materialization if record else None


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A one-day NIFTY archive (ATM only) in the recorder's dump format, never in a landing folder."""
    out = tmp_path_factory.mktemp("tiny")
    r = tl("-q", "generate", "--out", str(out), "--days", "1", "--strikes", "0", "--underlyings", "NIFTY", "--seed", "5")
    assert r.returncode == 0, r.stderr
    return out / "sqldump"


# --- the landing-folder route, every group (the session fixture `landed`) ------------------------

def test_every_group_materialises_and_checks_pass(landed):
    from warehouse.catalog import connect

    src, root, summary = landed
    assert "ingest: 2 partitions" in summary and "backtests: 2 partitions" in summary
    instance = instance_of(root)
    for key in ("options_ticks", "feed_gaps", "options_grid", "features_options", "features_spot", "backtest_summary"):
        assert instance.get_latest_materialization_event(dg.AssetKey(key)) is not None, key
    con = connect(root)
    assert con.sql("select count(*) from ingest_runs where source_rows != written + deduped + quarantined").fetchall()[0][0] == 0
    cols = [c[0] for c in con.sql("describe features_options").fetchall()]
    for c in ("mid", "spread", "microprice", "imb_l1", "depth_ratio5", "quote_changes", "vol_10s", "vol_5m", "vwap",
              "ema6", "ema18", "ema6_slope", "roc_60s", "sigma_15m", "atr_1m", "or2_high", "tte_years", "spot", "iv",
              "iv_ltp", "delta", "gamma", "theta", "vega", "moneyness", "oi_chg_60s", "is_pad", "pad_age_s"):
        assert c in cols, c
    from backtest.strategies import DAILY          # every daily strategy has its backtest asset
    assert {r[0] for r in con.sql("select distinct strategy from backtest_runs").fetchall()} == set(DAILY)


def test_runs_are_named_jobs_of_the_ui_code_location(landed):
    """No `__ephemeral_asset_job__`: each run is a job of the UI's code location, so the UI's timeline
    (which drops runs without a code location) and run pages show them."""
    instance = instance_of(landed[1])
    runs = instance.get_runs()
    assert {r.job_name for r in runs} == {"ingest", "gaps", "quality", "features", "backtests", "audits"}
    origins = {(r.remote_job_origin.location_name, r.remote_job_origin.repository_origin.repository_name)
               for r in runs if r.remote_job_origin}
    assert origins == {("orchestration.definitions", "__repository__")}
    assert all(r.remote_job_origin for r in runs)
    by_job = {}
    for r in runs:
        by_job.setdefault(r.job_name, []).append(r.tags.get("dagster/partition"))
    assert sorted(by_job["gaps"]) == ["2025-11-03|BANKNIFTY", "2025-11-03|NIFTY"]
    assert by_job["audits"] == [None]


def test_quality_checks_ran_on_every_partition_and_pass(landed):
    """A one-day archive has holes but no partial day: every suite passes on both partitions, and each
    check result names its partition (the check's page lists them)."""
    instance = instance_of(landed[1])
    outcomes = {}
    for record in instance.fetch_materializations(dg.AssetKey("tick_quality"), limit=50).records:
        m = record.asset_materialization
        outcomes[m.partition] = m.metadata["failed"].value
    assert len(outcomes) == 2
    assert all(set(o) == {"options_ticks", "futures_ticks", "spot_ticks", "coverage"} for o in outcomes.values())
    assert all(v == [] for o in outcomes.values() for v in o.values()), outcomes
    for check in ("options_ticks_expectations", "coverage_expectations"):
        key = dg.AssetCheckKey(dg.AssetKey("tick_quality"), check)
        records = instance.event_log_storage.get_asset_check_execution_history(key, limit=10)
        parts = {r.event.dagster_event.asset_check_evaluation_data.partition for r in records}
        assert parts == {"2025-11-03|BANKNIFTY", "2025-11-03|NIFTY"}, check
        assert all(r.status.value == "SUCCEEDED" for r in records)


def test_row_and_gap_counts_are_metadata_of_each_partition(landed):
    from warehouse.catalog import connect

    root = landed[1]
    instance = instance_of(root)
    con = connect(root)
    for underlying in ("NIFTY", "BANKNIFTY"):
        key = f"2025-11-03|{underlying}"
        ticks = latest(instance, "options_ticks", key)
        assert ticks.metadata["dagster/row_count"].value == stored_rows(root, "options", underlying)
        gaps = latest(instance, "feed_gaps", key)
        n = con.sql(f"select count(*) from gaps where underlying = '{underlying}'").fetchall()[0][0]
        assert gaps.metadata["gaps"].value == gaps.metadata["dagster/row_count"].value == n
        grid = latest(instance, "options_grid", key)
        assert grid.metadata["dagster/row_count"].value == stored_rows(root, "options_grid", underlying) > 0


def test_feature_assets_document_every_column(landed):
    """The registry's descriptions are the features' Dagster column schema and the catalog's comments."""
    from orchestration.definitions import defs
    from warehouse.catalog import connect

    graph = defs.resolve_asset_graph()
    for asset, schema in (("features_options", S.FEATURES_OPTIONS), ("features_spot", S.FEATURES_SPOT)):
        columns = graph.get(dg.AssetKey(asset)).metadata["dagster/column_schema"].columns
        want = {c.name: c.description for c in S.FEATURE_COLUMNS if c.table == asset}
        assert [c.name for c in columns] == schema.names
        assert {c.name: c.description.replace("\\*", "*") for c in columns if c.name in want} == want
        comments = dict(connect(landed[1]).sql(
            f"select column_name, comment from duckdb_columns() where table_name = '{asset}' and comment is not null"
        ).fetchall())
        assert comments == want


def test_landing_sensor_requests_a_run_for_new_files_only(landed):
    from orchestration.definitions import defs
    from orchestration.resources import WarehouseResource

    src, root, _ = landed
    sensor = defs.resolve_sensor_def("landing_folder_sensor")
    resources = {"warehouse": WarehouseResource(root=str(root), landing_dir=str(src))}
    with dg.build_sensor_context(resources=resources) as ctx:
        result = sensor(ctx)
    assert isinstance(result, dg.SkipReason)          # the fixture's run already took every file
    (src / "das_nse_mod.sql.gz").touch()              # a file that changed lands again
    os.utime(src / "das_nse_mod.sql.gz", (1, 2_000_000_000))
    with dg.build_sensor_context(resources=resources) as ctx:
        req = sensor(ctx)
    assert isinstance(req, dg.RunRequest)
    assert req.run_config["ops"]["landed_sources"]["config"]["sources"] == [str(src / "das_nse_mod.sql.gz")]
    assert req.asset_selection == [dg.AssetKey("landed_sources")]


def test_definitions_have_named_jobs_schedule_and_partitions():
    from orchestration.definitions import defs

    assert defs.resolve_schedule_def("nightly_mariadb").cron_schedule == "30 18 * * 1-5"
    assert defs.resolve_schedule_def("nightly_mariadb").job_name == "nightly"
    assert {j.name for j in defs.resolve_all_job_defs()} - {"__ASSET_JOB"} == {
        "ingest", "nightly", "gaps", "quality", "features", "backtests", "audits"}
    assert {k.to_user_string() for k in defs.resolve_job_def("gaps").asset_layer.executable_asset_keys} == {
        "feed_gaps", "options_grid", "spot_grid"}
    assert {k.to_user_string() for k in defs.resolve_all_asset_keys()} >= {
        "landed_sources", "options_ticks", "futures_ticks", "spot_ticks", "feed_gaps", "options_grid", "spot_grid",
        "features_options", "features_spot", "backtest_summary", "tick_quality", "backtest_audit"}


def test_the_plan_follows_the_asset_graph():
    """Groups in dependency order, unpartitioned assets before or after the partitioned ones."""
    from orchestration.definitions import defs
    from orchestration.run import plan

    steps = plan(defs.resolve_asset_graph(), ["audits", "backtests", "gaps", "ingest", "features", "quality"])
    order = [(s.group, s.phase, [k.to_user_string() for k in s.keys][:1]) for s in steps]
    assert order[0] == ("ingest", 0, ["landed_sources"])
    assert [g for g, phase, _ in order if phase == 1][:2] == ["ingest", "gaps"]
    assert [g for g, phase, _ in order if phase == 1][-1] == "backtests"
    assert order[-2:] == [("backtests", 2, ["backtest_summary"]), ("audits", 2, ["backtest_audit"])]


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


# --- the CLI routes: `ticklake ingest` then `ticklake materialize` ------------------------------

def test_cli_ingest_then_materialize_builds_the_ingested_partition(tiny, tmp_path):
    """Issue #13: with no landing folder, `materialize` used to say `gaps: 0 partitions` and exit 0."""
    root = tmp_path / "wh"
    r = tl("-q", "--warehouse", str(root), "ingest", *sorted(str(p) for p in tiny.glob("*.sql.gz")))
    assert r.returncode == 0, r.stderr
    instance = instance_of(root)
    # the ingest registered what it wrote: the UI lists the partition with its rows at once
    assert instance.get_dynamic_partitions("trading_dates") == ["2025-11-03"]
    options_rows = stored_rows(root, "options")
    assert options_rows > 1000
    ticks = latest(instance, "options_ticks", PARTITION)
    assert ticks.metadata["dagster/row_count"].value == options_rows
    assert ticks.metadata["written"].value == options_rows
    assert ticks.metadata["reconciles"].value is True
    # a forced re-ingest of the same source rewrites the partition and is recorded again; its ledger
    # entry replaces the first one (one entry per source), so nothing is counted twice
    r = tl("-q", "--warehouse", str(root), "ingest", "--reingest", str(tiny / "das_niftyopt_mod.sql.gz"))
    assert r.returncode == 0, r.stderr
    again = latest(instance_of(root), "options_ticks", PARTITION)
    assert again.metadata["dagster/row_count"].value == options_rows
    assert again.metadata["source_rows"].value == ticks.metadata["source_rows"].value
    assert again.metadata["reconciles"].value is True

    r = tl("--warehouse", str(root), "materialize", "--group", "gaps")
    assert r.returncode == 0, r.stderr
    assert "gaps: 2 partitions" in r.stdout              # and BANKNIFTY's day: missing, in its gaps
    assert stored_rows(root, "options_grid") > options_rows          # the padded grid of every contract
    grid = latest(instance_of(root), "options_grid", PARTITION)
    assert grid.metadata["dagster/row_count"].value == stored_rows(root, "options_grid")

    r = tl("--warehouse", str(root), "materialize", "--group", "features", "--partition", PARTITION)
    assert r.returncode == 0, r.stderr
    assert "features: 1 partitions" in r.stdout
    assert stored_rows(root, "features_options") == stored_rows(root, "options_grid")
    assert {run.job_name for run in instance_of(root).get_runs()} == {"gaps", "features"}

    # incremental: only what was never built (BANKNIFTY's features) is built ...
    r = tl("--warehouse", str(root), "materialize", "--group", "gaps", "--group", "features")
    assert r.returncode == 0, r.stderr
    assert "gaps: 0 partitions, 2 up to date" in r.stdout and "features: 1 partitions, 1 up to date" in r.stdout
    # ... and then nothing newer than its inputs is built again ...
    runs = len(instance_of(root).get_runs())
    r = tl("--warehouse", str(root), "materialize", "--group", "gaps", "--group", "features")
    assert r.returncode == 0, r.stderr
    assert "gaps: 0 partitions, 2 up to date" in r.stdout and "features: 0 partitions, 2 up to date" in r.stdout
    assert len(instance_of(root).get_runs()) == runs
    # ... a re-ingested partition rebuilds its grid, and then the features that read the grid ...
    # (the same bytes again are skipped unless forced: then the partition is rewritten)
    assert tl("-q", "--warehouse", str(root), "ingest", "--reingest", str(tiny / "das_nse_mod.sql.gz")).returncode == 0
    r = tl("--warehouse", str(root), "materialize", "--group", "gaps", "--group", "features")
    assert "gaps: 1 partitions" in r.stdout and "features: 1 partitions" in r.stdout, r.stdout + r.stderr
    # ... and --all rebuilds what is up to date
    r = tl("--warehouse", str(root), "materialize", "--group", "gaps", "--all")
    assert "gaps: 2 partitions" in r.stdout
    assert len(instance_of(root).get_runs()) == runs + 4


def test_a_bad_partition_names_the_option_and_the_form(tiny, tmp_path):
    r = tl("--warehouse", str(tmp_path), "materialize", "--partition", "2025-11-03")
    assert r.returncode == 2
    assert "--partition" in r.stderr and "YYYY-MM-DD|UNDERLYING" in r.stderr
    r = tl("--warehouse", str(tmp_path), "materialize", "--partition", "2025-11-03|SENSEX")
    assert r.returncode == 2 and "'2025-11-03|SENSEX' is not a partition" in r.stderr


def test_materialize_says_why_there_is_nothing_to_build(tiny, tmp_path):
    r = tl("--warehouse", str(tmp_path / "empty"), "materialize")
    assert r.returncode == 1
    assert r.stderr.count("\n") == 1
    assert "no ingested partitions" in r.stderr and "ticklake ingest" in r.stderr
    root = tmp_path / "wh"
    assert tl("-q", "--warehouse", str(root), "ingest", str(tiny / "das_nse_mod.sql.gz")).returncode == 0
    r = tl("--warehouse", str(root), "materialize", "--group", "gaps", "--partition", "2025-11-04|NIFTY")
    assert r.returncode == 1
    assert "2025-11-04|NIFTY" in r.stderr and "ingested: 2025-11-03|NIFTY" in r.stderr


@pytest.mark.mariadb
def test_mariadb_routes_cli_and_nightly_register_and_materialize(tmp_path, mariadb, monkeypatch):
    """The live recorder database, through `ticklake ingest URL` and through the nightly schedule's
    job (then the pending-partitions sensor): both register the partition, `materialize` builds it."""
    from orchestration.definitions import build_definitions
    from orchestration.instance import instance_for
    from orchestration.resources import MariaDBResource, WarehouseResource
    from orchestration.run import execute, materialize_groups

    r = tl("-q", "generate", "--out", str(tmp_path / "src"), "--days", "1", "--strikes", "0", "--underlyings", "NIFTY",
           "--formats", "mariadb", "--mariadb", mariadb.url, "--seed", "9")
    assert r.returncode == 0, r.stderr

    cli_root = tmp_path / "cli"
    r = tl("-q", "--warehouse", str(cli_root), "ingest", mariadb.url)
    assert r.returncode == 0, r.stderr
    assert instance_of(cli_root).get_dynamic_partitions("trading_dates") == ["2025-11-03"]
    r = tl("--warehouse", str(cli_root), "materialize", "--group", "gaps")
    # NIFTY's day, and BANKNIFTY's of the same date (nothing recorded: a missing day in its gaps)
    assert r.returncode == 0 and "gaps: 2 partitions" in r.stdout, r.stderr

    nightly_root = tmp_path / "nightly"
    no_landing = str(tmp_path / "landing")               # (not the session's $TICKLAKE_LANDING)
    defs = build_definitions(WarehouseResource(root=str(nightly_root), landing_dir=no_landing),
                             mariadb=MariaDBResource(url=mariadb.url))
    instance = instance_for(nightly_root)
    job = defs.resolve_schedule_def("nightly_mariadb").job_name        # its own config: include_mariadb
    execute(defs, instance, job, [dg.AssetKey("landed_sources")])
    assert instance.get_dynamic_partitions("trading_dates") == ["2025-11-03"]
    sensor = defs.resolve_sensor_def("pending_partitions_sensor")
    with dg.build_sensor_context(instance=instance,
                                 resources={"warehouse": WarehouseResource(root=str(nightly_root),
                                                                           landing_dir=no_landing)}) as ctx:
        requests = sensor(ctx)
    assert sorted(req.partition_key for req in requests) == [PARTITION]
    monkeypatch.setenv("TICKLAKE_LANDING", no_landing)
    summary = materialize_groups(nightly_root, groups=["ingest", "gaps"], quiet=True)
    assert "ingest: 1 partitions" in summary and "gaps: 2 partitions" in summary, summary
    assert stored_rows(nightly_root, "options") == stored_rows(cli_root, "options") > 0
    assert stored_rows(nightly_root, "options_grid") == stored_rows(cli_root, "options_grid") > 0
