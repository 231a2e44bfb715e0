"""A full disk, for real: the warehouse on a small tmpfs mounted for the test (root only; skipped
where it cannot be mounted). A failed run leaves no half-written file or dead stage behind, and the
rerun after space is freed succeeds without needing the space twice."""
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from generator.config import GeneratorConfig
from generator.driver import generate
from warehouse.catalog import connect
from warehouse.files import CRASH_ENV

CONTENT = """select 'o', count(*), md5(string_agg(concat_ws('|', symbol, ts, price, volume, vol_delta, bid_px0), ','
                 order by symbol, ts)) from options_ticks
             union all select 's', count(*), md5(string_agg(concat_ws('|', underlying, ts, price), ','
                 order by underlying, ts)) from spot_ticks order by 1"""
LEDGER = "select source, target, partition, source_rows, written, deduped, quarantined from ingest_runs order by all"
MB = 1 << 20


def cli(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "-q", "--warehouse", str(root), *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def used(path: Path) -> int:
    """Bytes a directory takes on tmpfs (whole pages per file)."""
    return sum(-(-p.stat().st_size // 4096) * 4096 for p in path.rglob("*") if p.is_file())


@contextlib.contextmanager
def tmpfs(path: Path, size: int):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    path.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                       text=True)
    if r.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture(scope="module")
def sized(tmp_path_factory):
    """The archive, the space its staging takes (P) and the warehouse it becomes (W), measured on a
    normal disk, and the reference warehouse."""
    base = tmp_path_factory.mktemp("sized")
    generate(GeneratorConfig(out=base / "src", days=1, strikes=1, seed=5, underlyings=("NIFTY",)))
    files = sorted(str(p) for p in (base / "src" / "sqldump").glob("*.sql.gz"))
    staged = cli(base / "staged", "ingest", *files, env={CRASH_ENV: "run-staged"})
    assert staged.returncode == -signal.SIGKILL
    assert cli(base / "ref", "ingest", *files).returncode == 0
    return files, used(base / "staged"), used(base / "ref"), base / "ref"


def fill_to(fs: Path, free: int) -> Path:
    """Leave `free` bytes free on the filesystem with a filler file; returns it."""
    filler = fs / "filler"
    filler.write_bytes(b"")
    os.truncate(filler, 0)
    with open(filler, "wb") as f:
        f.write(b"\1" * max(shutil.disk_usage(fs).free - free, 0))
    return filler


def free_more(filler: Path, nbytes: int) -> None:
    os.truncate(filler, max(filler.stat().st_size - nbytes, 0))


def nothing_dead_left(root: Path) -> None:
    """After a failed run: no temp file anywhere, and every staged file belongs to a committed stage."""
    assert not list(root.rglob("*.tmp")) and not list(root.rglob(".*.tmp"))
    pending = root / "_pending"
    committed = {p.name for p in (pending / "_committed").iterdir()} if (pending / "_committed").exists() else set()
    staged = {p.name.split(".")[0] for p in pending.rglob("*") if p.is_file() and p.parent.name != "_committed"}
    assert staged <= committed, staged - committed


def whole_and_clean(root: Path, reference: Path) -> None:
    assert connect(root).sql(CONTENT).fetchall() == connect(reference).sql(CONTENT).fetchall()
    assert connect(root).sql(LEDGER).fetchall() == connect(reference).sql(LEDGER).fetchall()
    assert not (root / "_pending").exists() and not list(root.rglob(".*.tmp"))


def test_a_disk_full_while_staging_leaves_no_dead_stage_and_the_rerun_fits(sized, tmp_path):
    files, staging, warehouse, reference = sized
    with tmpfs(tmp_path / "fs", staging + warehouse + 64 * MB) as fs:
        filler = fill_to(fs, staging // 2)
        failed = cli(fs / "w", "ingest", *files)
        assert failed.returncode == 1 and "No space left on device" in failed.stderr, failed.stderr
        nothing_dead_left(fs / "w")
        # room for one staging and the warehouse, not for what a dead stage would still hold
        free_more(filler, staging + warehouse + 8 * MB - shutil.disk_usage(fs).free)
        rerun = cli(fs / "w", "ingest", *files)
        assert rerun.returncode == 0, rerun.stderr
        whole_and_clean(fs / "w", reference)


def test_a_disk_full_while_assembling_keeps_the_staged_sources_and_the_rerun_needs_no_second_staging(sized,
                                                                                                    tmp_path):
    files, staging, warehouse, reference = sized
    with tmpfs(tmp_path / "fs", staging + warehouse + 64 * MB) as fs:
        filler = fill_to(fs, staging + MB // 4)     # the staging fits, the first partition does not
        failed = cli(fs / "w", "ingest", *files)
        assert failed.returncode == 1 and "No space left on device" in failed.stderr, failed.stderr
        nothing_dead_left(fs / "w")
        assert (fs / "w" / "_pending" / "_committed").exists()
        # room for the warehouse; staging the sources a second time would need `staging` more
        free_more(filler, warehouse + 8 * MB - shutil.disk_usage(fs).free)
        assert shutil.disk_usage(fs).free < staging
        rerun = cli(fs / "w", "ingest", *files)
        assert rerun.returncode == 0, rerun.stderr
        whole_and_clean(fs / "w", reference)
