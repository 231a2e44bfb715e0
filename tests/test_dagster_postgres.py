"""The Dagster instance on PostgreSQL (a cluster's shared run history): a real server in a temp
datadir on loopback, one real materialisation recorded in it and read back."""
from __future__ import annotations

import os

import pytest

from tests import postgres_server


@pytest.fixture(scope="module")
def postgres():
    if not postgres_server.available():
        pytest.skip("PostgreSQL (initdb, postgres) is not installed: scripts/ensure-test-deps.sh installs it")
    pytest.importorskip("dagster_postgres")
    server = postgres_server.PostgresServer().start()
    yield server
    server.stop()


def test_a_materialisation_is_recorded_in_postgres_and_read_back(postgres, landed, tmp_path, monkeypatch):
    import dagster as dg
    import psycopg2
    import yaml

    from orchestration.instance import PG_ENV, dagster_home, instance_for
    from orchestration.run import materialize_groups
    from warehouse.writer import current_files

    root = tmp_path / "wh"
    monkeypatch.setenv(PG_ENV, postgres.url)
    monkeypatch.setenv("TICKLAKE_LANDING", str(landed[0]))
    materialize_groups(root, groups=["ingest"], quiet=True)

    home = dagster_home(root)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config["storage"] == {"postgres": {"postgres_url": {"env": PG_ENV}}}
    assert postgres.url not in (home / "dagster.yaml").read_text()        # the URL stays in the environment
    assert not (home / "history" / "runs.db").exists()                    # no SQLite run storage beside it

    instance = instance_for(root)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    runs = instance.get_runs()
    assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
    mats = instance.fetch_materializations(dg.AssetKey("options_ticks"), limit=100).records
    stored = {(p.parent.parent.name.split("=")[1], p.parent.name.split("=")[1])
              for p in current_files(root, "options")}                   # (underlying, date) written
    assert stored and len({m.partition_key for m in mats}) == len(stored)
    assert all(any(u in m.partition_key and d in m.partition_key for u, d in stored) for m in mats)
    assert {m.run_id for m in mats} <= {r.run_id for r in runs}

    with psycopg2.connect(postgres.url) as con, con.cursor() as cur:      # the rows really are in PostgreSQL
        cur.execute("select count(*) from runs where status = 'SUCCESS'")
        assert cur.fetchone()[0] == len(runs)
        cur.execute("select count(*) from event_logs where dagster_event_type = 'ASSET_MATERIALIZATION' "
                    "and asset_key = %s", [dg.AssetKey("options_ticks").to_string()])
        assert cur.fetchone()[0] == len(mats)

    monkeypatch.delenv(PG_ENV)                                            # unset: back to local SQLite
    assert "storage" not in yaml.safe_load((dagster_home(root) / "dagster.yaml").read_text())
    assert os.environ.get(PG_ENV) is None

