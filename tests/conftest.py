"""Shared fixtures: a real MariaDB server, generated archives and their ingested warehouses."""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from tests import mariadb_server


def _need(what: str, ok: bool) -> None:
    """Skip when a system dependency is missing on a developer box; fail on CI (must be installed)."""
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is required on CI (scripts/ensure-test-deps.sh installs it)")
        pytest.skip(f"{what} not installed (run scripts/ensure-test-deps.sh)")


@pytest.fixture(scope="session")
def mariadb_process():
    _need("mariadb-server", mariadb_server.available())
    server = mariadb_server.MariaDBServer().start()
    yield server
    server.stop()


@pytest.fixture
def mariadb(mariadb_process):
    """The shared server, emptied: tests that load dumps must not see each other's tables."""
    return mariadb_process.reset()


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    _need("chromium", path is not None)
    return path


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    """A small generated archive with every quirk: 3 days (a missing and a partial day), ATM+-1."""
    from generator.config import GeneratorConfig
    from generator.driver import generate

    out = tmp_path_factory.mktemp("archive")
    generate(GeneratorConfig(out=out, start=dt.date(2025, 11, 3), days=3, strikes=1, seed=11, malformed_rows=2,
                             truncated_statement=True))
    return out


@pytest.fixture(scope="session")
def warehouse(archive, tmp_path_factory) -> Path:
    """The archive ingested from its dumps."""
    from ingest.pipeline import run_ingest

    root = tmp_path_factory.mktemp("warehouse")
    run_ingest(sorted(str(p) for p in (archive / "sqldump").glob("*.sql.gz")), root)
    return root


@pytest.fixture(scope="session")
def landed(tmp_path_factory):
    """A one-day archive whose dumps folder is the landing folder, every asset group materialised from
    it through Dagster: (landing dir, warehouse root, materialisation summary)."""
    from generator.config import GeneratorConfig
    from generator.driver import generate
    from orchestration.run import materialize_groups

    src = tmp_path_factory.mktemp("landing")
    generate(GeneratorConfig(out=src, days=1, strikes=1, seed=21))
    src = src / "sqldump"
    root = tmp_path_factory.mktemp("wh")
    old = {k: os.environ.get(k) for k in ("TICKLAKE_LANDING", "TICKLAKE_WAREHOUSE", "DAGSTER_HOME")}
    os.environ["TICKLAKE_LANDING"] = str(src)
    try:
        summary = materialize_groups(root, quiet=True)
    finally:   # restored at once: later tests (and the CLI processes they start) must not see this landing folder
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield src, root, summary


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory):
    """A real Dask cluster on loopback: `dask scheduler` and two `dask worker --nthreads 1` processes
    (each under its nanny, which restarts a killed worker), shared by every cluster test."""
    from orchestration.local_cluster import LocalDaskCluster

    cluster = LocalDaskCluster(2, tmp_path_factory.mktemp("dask-logs")).start()
    yield cluster
    cluster.stop()
