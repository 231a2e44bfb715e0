"""The warehouse on an object store: an S3 endpoint on loopback (moto's standalone server, through
the real S3 client), partition switches readers never see half of, and the same answers as a local
warehouse from the same sources."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pyarrow as pa
import pytest

from tests.s3_server import ENV_KEYS, S3Server


@pytest.fixture(scope="session")
def s3():
    """One S3 endpoint for the session; its endpoint and dummy credentials in this process's
    environment (what s3fs and the CLI processes read), restored afterwards."""
    pytest.importorskip("moto")
    server = S3Server().start()
    old = {k: os.environ.get(k) for k in ENV_KEYS}
    os.environ.update(server.env())
    try:
        yield server
    finally:
        server.stop()
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def s3_root(s3, tmp_path, monkeypatch):
    """A fresh warehouse under its own bucket; scratch space (staging, locks) in tmp_path."""
    from warehouse.layout import warehouse_root

    monkeypatch.setenv("TICKLAKE_SCRATCH", str(tmp_path / "scratch"))
    return warehouse_root(s3.make_bucket(f"t-{uuid.uuid4().hex[:12]}") + "/lake")


def _version(value: int, n: int) -> pa.Table:
    return pa.table({"a": pa.array(range(n), pa.int64()), "b": pa.array([float(value)] * n)})


def _write(root, n: int, value: int, side: bool = False):
    from warehouse.writer import PartitionManifest, write_partition

    schema = pa.schema([("a", pa.int64()), ("b", pa.float64())])
    m = PartitionManifest("gaps", {"underlying": "NIFTY", "date": "2025-11-03"}, 0, f"run-{value}", "v1")
    return write_partition(root, "gaps", {"underlying": "NIFTY", "date": "2025-11-03"}, _version(value, n), schema, m,
                           side={"src": pa.table({"x": [value]})} if side else None)


KEYS = {"underlying": "NIFTY", "date": "2025-11-03"}


def test_a_partition_on_s3_is_the_local_bytes_behind_a_pointer_and_retired_files_are_collected(s3_root, tmp_path,
                                                                                                 monkeypatch):
    from warehouse import writer as W

    local = _write(tmp_path / "local", 1000, 1)
    remote = _write(s3_root, 1000, 1)
    assert remote.name.startswith("part-") and remote.name != local.name
    assert remote.read_bytes() == local.read_bytes()          # byte-identical Parquet (same writer, same call)
    directory = remote.parent
    pointer = W.read_pointer(directory)
    assert pointer["file"] == remote.name and pointer["retired"] == [] and pointer["side"] == []
    assert W.read_manifest(directory)["run_id"] == "run-1" and W.read_manifest(directory)["rows"] == 1000
    assert W.read_side(s3_root, "gaps", KEYS, "src") is None

    second = _write(s3_root, 1500, 2, side=True)               # a replacement: the old file is retired, kept
    pointer = W.read_pointer(directory)
    assert pointer["file"] == second.name and len(pointer["side"]) == 1
    assert pointer["retired"][0]["files"] == [remote.name]
    assert remote.exists()                                    # within the grace period: a reader may be on it
    got = W.read_partition(s3_root, "gaps", KEYS)
    assert got.num_rows == 1500 and set(got["b"].to_pylist()) == {2.0}
    assert W.read_side(s3_root, "gaps", KEYS, "src")["x"].to_pylist() == [2]
    assert W.read_partition_rows(s3_root, "gaps", KEYS, ["b"], "a", 7)["b"].to_pylist() == [2.0]

    orphan = directory / "part-deadbeef.parquet"               # a writer killed between its upload and its switch
    orphan.write_bytes(b"PAR1")
    assert W.collect_garbage(s3_root, ["gaps"]) == 0          # everything is younger than the grace period
    assert W.collect_garbage(s3_root, ["gaps"], grace=0) == 2  # the retired data file and the orphan
    assert not remote.exists() and not orphan.exists() and second.exists()
    assert W.read_pointer(directory)["retired"] == []

    monkeypatch.setenv(W.GRACE_ENV, "0")                      # a replacement collects expired retirees itself
    third = _write(s3_root, 10, 3)
    _write(s3_root, 20, 4)
    assert not second.exists() and third.exists()             # retired now, collected at the next switch
    assert W.read_pointer(directory)["retired"][0]["files"] == [third.name]
    W.delete_partition(s3_root, "gaps", KEYS)
    assert W.read_partition(s3_root, "gaps", KEYS) is None
    assert [p for p in directory.fs.find(directory.path)] == []


@pytest.mark.parametrize("where, duck", [
    ("local", False), ("s3", True),
    pytest.param("local", True, marks=pytest.mark.xfail(
        strict=False, reason="found here, not fixed: a DuckDB glob over a local partition being renamed over "
                             "can fail with 'don't know what type' (an error, never wrong rows)"))])
def test_readers_never_see_a_partial_partition_while_it_is_replaced(where, duck, tmp_path, request):
    """A writer replaces one partition over and over with two versions (1000 rows of 1, 1500 rows of
    2); readers loop meanwhile, through the writer's reader (and through fresh DuckDB views), and must
    see one version whole every time."""
    from warehouse.catalog import connect
    from warehouse.writer import read_partition

    root = request.getfixturevalue("s3_root") if where == "s3" else tmp_path / "wh"
    _write(root, 1000, 1)
    whole = {(1000, 1000.0), (1500, 3000.0)}
    seen, bad, stop = [], [], threading.Event()

    writes = [0]

    def writer():
        while not stop.is_set():
            i = writes[0]
            _write(root, 1500 if i % 2 == 0 else 1000, 2 if i % 2 == 0 else 1)
            writes[0] += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        # read while the writer switches: at least 16 reads and 4 switches, until both versions were read
        while len(seen) + len(bad) < 16 or writes[0] < 4 or (set(seen) != whole and writes[0] < 60):
            got = read_partition(root, "gaps", KEYS)
            states = [(got.num_rows, sum(got["b"].to_pylist()))]
            if duck:
                states.append(connect(root).execute("select count(*), sum(b) from gaps").fetchone())
            for s in states:
                (seen if tuple(s) in whole else bad).append(tuple(s))
    finally:
        stop.set()
        t.join()
    assert bad == []
    assert set(seen) == whole                                 # both versions were read while switching


# --- the same commands on a local and an S3 warehouse -------------------------------------------

S3_STRATEGY = "micro_ema_flip"   # one daily strategy backtested as the backtests asset does (all eleven: minutes on moto)
QUERIES = [
    "select count(*), count(distinct symbol), min(ts)::varchar, max(ts)::varchar from options_ticks",
    "select underlying, count(*), sum(price)::decimal(18,2) from spot_ticks group by 1 order by 1",
    "select count(*), sum(source_rows), sum(written), sum(deduped), sum(quarantined) from ingest_runs",
    "select count(*), sum(seconds) from gaps",
    "select count(*), sum(is_pad::int), sum(bid_px0)::decimal(18,2) from options_grid",
    "select count(*) from features_options",
    "select strategy, underlying, date::varchar, count(*), sum(net_pnl)::decimal(18,2), sum(fees)::decimal(18,2) "
    f"from trades where strategy = '{S3_STRATEGY}' group by all order by all",
]
S3_GROUPS = ["ingest", "gaps", "features"]   # quality and audits: see the README's "Not yet on S3"


@pytest.fixture(scope="session")
def s3_landed(s3, landed, tmp_path_factory):
    """`landed`'s landing folder materialised through Dagster into an S3 warehouse (ingest, gaps,
    features), then one daily strategy backtested per day as the backtests asset does."""
    from backtest.run import available_days, run_backtest
    from backtest.strategies import get
    from orchestration.run import materialize_groups
    from transforms.expiry import UNDERLYINGS
    from warehouse.layout import warehouse_root

    root = warehouse_root(s3.make_bucket("landed") + "/lake")
    env = {"TICKLAKE_LANDING": str(landed[0]), "TICKLAKE_SCRATCH": str(tmp_path_factory.mktemp("scratch"))}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        summary = materialize_groups(root, groups=S3_GROUPS, quiet=True)
        strategy = get(S3_STRATEGY)
        for u in UNDERLYINGS:
            for day in available_days(root, u, None, None):
                run_backtest(root, strategy, strategy.default(), u, [day])
    finally:   # restored at once: later tests (and the CLI processes they start) must not see this landing folder
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return root, summary


def _sql(root, query: str, env: dict | None = None) -> str:
    r = subprocess.run([sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), "sql", query,
                        "--format", "csv"], capture_output=True, text=True, env={**os.environ, **(env or {})},
                       cwd=Path(__file__).parent.parent)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_the_s3_warehouse_answers_every_query_as_the_local_one(landed, s3_landed):
    from warehouse.catalog import connect

    local, s3_root = landed[1], s3_landed[0]
    lc, sc = connect(local), connect(s3_root)
    for q in QUERIES:
        want = lc.execute(q).fetchall()
        assert want and want != [(0,)], q                    # the local warehouse holds the data asked about
        assert sc.execute(q).fetchall() == want, q
    # `ticklake sql`, a separate process with the endpoint from the environment, reads the same rows
    q = QUERIES[0]
    assert _sql(s3_root, q) == _sql(local, q)
    # independent of DuckDB: the Parquet footers of the files the pointers name hold the rows the view counts
    import pyarrow.parquet as pq

    from warehouse.writer import current_files

    files = current_files(s3_root, "options")
    assert all(str(f).startswith("s3://landed/lake/ticks/options/") for f in files)
    footer_rows = sum(pq.ParquetFile(f.path, filesystem=f.fs).metadata.num_rows for f in files)
    assert sc.execute("select count(*) from options_ticks").fetchone()[0] == footer_rows > 0
    assert len(files) == lc.execute("select count(distinct (underlying, date)) from options_ticks").fetchone()[0]


def test_no_credential_is_written_into_the_warehouse(s3_landed):
    root = s3_landed[0]
    secret = os.environ["AWS_SECRET_ACCESS_KEY"]
    assert secret not in str(root)
    pointers = [p for p in root.fs.find(root.path) if p.endswith("_current.json")]
    assert pointers and all(secret.encode() not in root.fs.cat_file(p) for p in pointers[:50])
