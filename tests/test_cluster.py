"""The same commands on a real Dask cluster (a scheduler and two worker processes on loopback, the
`dask_cluster` fixture): what they write is what the in-process run writes, and a worker killed
mid-task has its task rerun elsewhere with nothing written twice."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from orchestration import cluster as C
from warehouse.digest import warehouse_digests

REPO = Path(__file__).resolve().parents[1]


def cli(root, *args, env=None):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), *args],
                          capture_output=True, text=True, cwd=REPO, env=env)


def test_without_a_reachable_scheduler_the_command_fails_in_one_line_and_workers_are_checked(dask_cluster, tmp_path,
                                                                                           monkeypatch):
    assert C.scheduler_address(None) is None or os.environ.get(C.ENV)
    monkeypatch.setenv(C.ENV, "tcp://10.0.0.1:8786")
    assert C.scheduler_address(None) == "tcp://10.0.0.1:8786" and C.scheduler_address("tcp://h:1") == "tcp://h:1"
    monkeypatch.setattr(C, "CONNECT_TIMEOUT_S", 1)
    nowhere = f"tcp://127.0.0.1:{C.free_port()}"
    with pytest.raises(C.ClusterError, match=f"^no Dask scheduler at {nowhere}: ") as err:
        C.connect(nowhere, tmp_path)
    assert "\n" not in str(err.value)
    # what each worker answers for a root it cannot see, and for another code version
    from ingest.finalize import ingest_code_version

    with dask_cluster.client() as client:
        missing = client.run(C._worker_check, str(tmp_path / "not-shared"), ingest_code_version())
        other = client.run(C._worker_check, str(tmp_path), "0.0.0+other")
        fine = client.run(C._worker_check, str(tmp_path), ingest_code_version())
    assert set(missing.values()) == {f"does not see the warehouse root {tmp_path / 'not-shared'} "
                                     "(mount the shared filesystem at the same path)"}
    assert all(v.startswith("runs another ticklake version (") for v in other.values()) and len(other) == 2
    assert set(fine.values()) == {None}


def test_workers_with_dasks_malloc_default_are_named_in_a_warning(dask_cluster):
    """Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 and no mmap threshold: backtests take ~2x the CPU
    there. The test cluster's workers are started as the README says (no warning); workers started
    with Dask's default would be named."""
    from orchestration.local_cluster import MALLOC_ENV

    with dask_cluster.client() as client:
        settings = client.run(C._malloc_settings)
    mmap, trim = MALLOC_ENV["MALLOC_MMAP_THRESHOLD_"], MALLOC_ENV["MALLOC_TRIM_THRESHOLD_"]
    assert len(settings) == 2 and set(settings.values()) == {(mmap, trim)}
    assert C.malloc_warning(settings) is None
    dasks = {"tcp://b:2": (None, "65536"), "tcp://a:1": (None, "65536"), "tcp://c:3": (mmap, trim)}
    assert C.malloc_warning(dasks) == (
        "warning: 2 of 3 Dask workers (tcp://a:1, ...) run with MALLOC_TRIM_THRESHOLD_ and no "
        "MALLOC_MMAP_THRESHOLD_: backtests there take ~2x the CPU; start them with both (README, Running on a "
        "Dask cluster)")
    assert C.malloc_warning({"tcp://a:1": (None, None)}) is None      # no threshold set: glibc's dynamic one


def _kill_a_worker_running(cluster, client, prefix: str, killed: list, stop: threading.Event) -> None:
    """SIGKILL the worker process that runs a task whose key starts with `prefix`, once."""
    pids = cluster.worker_pids()
    while not stop.is_set():
        for worker, keys in client.processing().items():
            if any(str(k).startswith(prefix) for k in keys) and worker in pids:
                time.sleep(0.5)                      # inside the step, not before it
                os.kill(pids[worker], signal.SIGKILL)
                killed.append(worker)
                return
        time.sleep(0.05)


def test_materialize_on_the_cluster_writes_what_in_process_writes_even_when_a_worker_is_killed(
        dask_cluster, landed, tmp_path):
    """`ticklake materialize` with $TICKLAKE_DASK_SCHEDULER: ingest/gaps/features of every partition as Dagster runs whose steps are Dask tasks; the features
    step's worker is SIGKILLed mid-step: the scheduler reruns the task on the other worker, every
    partition is written once (one materialisation per asset and partition, no temp files) and the
    files hold what the in-process run (the `landed` fixture) wrote."""
    import dagster as dg

    from orchestration.instance import instance_for

    landing, reference, _ = landed
    root = tmp_path / "wh"
    killed, stop = [], threading.Event()
    with dask_cluster.client() as client:
        killer = threading.Thread(target=_kill_a_worker_running,
                                  args=(dask_cluster, client, "features.", killed, stop), daemon=True)
        killer.start()
        try:
            done = cli(root, "materialize", "--group", "ingest", "--group", "gaps", "--group", "features",
                       env={**os.environ, "TICKLAKE_LANDING": str(landing), C.ENV: dask_cluster.address})
        finally:
            stop.set()
            killer.join()
    assert done.returncode == 0, done.stderr
    assert len(killed) == 1, "no features step was seen running on a worker"
    assert "gaps: 2 partitions" in done.stdout and "features: 2 partitions" in done.stdout
    got, want = warehouse_digests(root), warehouse_digests(reference)
    built = {p for p in got if p.split("/")[0] in ("ticks", "grid", "gaps", "coverage", "features", "quarantine")}
    assert built == {p for p in want if p.split("/")[0] in ("ticks", "grid", "gaps", "coverage", "features",
                                                              "quarantine")}
    assert len([p for p in built if p.startswith("features/")]) == 4        # options, spot x 2 underlyings
    assert {p: got[p] for p in built} == {p: want[p] for p in built}
    assert not [p for p in built if "/." in p]
    assert not [p for t in ("ticks", "grid", "gaps", "features") for p in (root / t).rglob(".*")]   # no temp files
    instance = instance_for(root)
    for key in ("features_options", "features_spot", "options_grid", "spot_grid", "feed_gaps"):
        records = instance.fetch_materializations(dg.AssetKey(key), limit=100).records
        parts = [r.partition_key for r in records]
        assert sorted(parts) == ["2025-11-03|BANKNIFTY", "2025-11-03|NIFTY"], (key, parts)
    dask_cluster.wait(2)                 # the nanny restarted the killed worker for the next tests


@pytest.mark.mariadb
def test_live_mariadb_ingest_split_over_workers_matches_the_in_process_ingest(dask_cluster, mariadb, tmp_path):
    """`ticklake ingest URL --cluster`: each recorder table staged by a worker, each partition
    assembled once, the same rows, quarantine and counts as in-process; a second run reads nothing
    new (the table marks were saved as each table was committed)."""
    from generator.config import GeneratorConfig
    from generator.driver import generate
    from ingest.pipeline import run_ingest

    generate(GeneratorConfig(out=tmp_path / "gen", start=dt.date(2025, 11, 4), days=1, strikes=1, seed=5,
                             formats=("mariadb",), mariadb_url=mariadb.url))
    local = run_ingest([mariadb.url], tmp_path / "local")
    on = cli(tmp_path / "cl", "ingest", mariadb.url, "--cluster", dask_cluster.address, "-q")
    assert on.returncode == 0, on.stderr
    a, b = warehouse_digests(tmp_path / "local"), warehouse_digests(tmp_path / "cl")
    # options, futures and spot of both indices, and the three bank stocks of C-20's basket (equity)
    assert len([p for p in a if p.startswith("ticks/")]) == 9 and a == b
    assert (tmp_path / "local" / "ingest_watermarks.json").read_text() == \
        (tmp_path / "cl" / "ingest_watermarks.json").read_text()
    again = cli(tmp_path / "cl", "ingest", mariadb.url, "--cluster", dask_cluster.address)
    assert again.returncode == 0 and "0 source rows" in again.stdout, again.stdout + again.stderr
    assert local.totals()["source_rows"] > 0


SWEEP = ["--strategy", "micro_ema_flip", "--underlying", "NIFTY", "--sweep", "exits.target=1.5,2.5",
         "--sweep", "exits.stop=1,2", "--write"]


def test_a_sweep_on_the_cluster_stores_and_ranks_what_the_in_process_sweep_does(dask_cluster, landed, tmp_path):
    _, reference, _ = landed
    roots = {}
    for name in ("local", "cluster"):
        roots[name] = tmp_path / name
        shutil.copytree(reference, roots[name], ignore=shutil.ignore_patterns(".dagster", "sweeps"))
    local = cli(roots["local"], "backtest", *SWEEP, "--workers", "1", "-q")
    on = cli(roots["cluster"], "backtest", *SWEEP, "--cluster", dask_cluster.address, "-q")
    assert local.returncode == 0 and on.returncode == 0, local.stderr + on.stderr
    assert on.stdout == local.stdout and on.stdout.count("micro_ema_flip-") == 4
    stored = {name: {p.relative_to(r): p.read_bytes() for t in ("trade_legs", "trade_events")
                     for p in sorted((r / "backtests" / t).rglob("*.parquet"))} for name, r in roots.items()}
    assert stored["local"] and stored["local"] == stored["cluster"]



@pytest.fixture(scope="module")
def two_days(tmp_path_factory):
    """Two NIFTY days (ATM only) with features: the fewest a walk-forward window needs."""
    from generator.config import GeneratorConfig
    from generator.driver import generate
    from orchestration.run import materialize_groups

    src, root = tmp_path_factory.mktemp("wf-src"), tmp_path_factory.mktemp("wf-wh")
    generate(GeneratorConfig(out=src, days=2, strikes=0, seed=21, underlyings=("NIFTY",), formats=("sqldump",)))
    old = os.environ.get("TICKLAKE_LANDING")
    os.environ["TICKLAKE_LANDING"] = str(src / "sqldump")
    try:
        materialize_groups(root, groups=["ingest", "gaps", "features"], quiet=True)
    finally:
        os.environ.pop("TICKLAKE_LANDING") if old is None else os.environ.update(TICKLAKE_LANDING=old)
    return root


def test_a_walk_forward_on_the_cluster_reports_what_the_in_process_one_does(dask_cluster, two_days, tmp_path):
    """`ticklake walkforward --cluster`: the sweep's (config chunk x days) tasks and the Kelly-sized
    configs' re-runs from the out-of-sample account run on the workers; the windows, chosen parameter
    sets, capital and stitched out-of-sample numbers are the in-process ones."""
    args = ["walkforward", "--strategy", "micro_ema_flip", "--underlying", "NIFTY", "--sweep", "risk.sizing=kelly",
            "--sweep", "risk.kelly_fraction=0.1,0.3", "--sweep", "exits.stop=1,2", "--train", "1d", "--test", "1d", "-q"]
    out = {}
    for name, extra in (("local", ["--workers", "1"]), ("cluster", ["--cluster", dask_cluster.address])):
        root = tmp_path / name
        shutil.copytree(two_days, root, ignore=shutil.ignore_patterns(".dagster", "sweeps"))
        r = cli(root, *args, *extra)
        assert r.returncode == 0, r.stderr
        out[name] = r.stdout.replace(str(root), "<root>")
    assert out["cluster"] == out["local"]
    assert "OOS capital" in out["local"] and "2025-11-04..2025-11-04 (1d)" in out["local"]
