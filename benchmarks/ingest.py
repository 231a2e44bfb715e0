"""Ingest speed and memory against their limits, measured in one run (the machine is shared and
noisy: only the ratios mean something, each side the best of --repeat alternating runs).

    .venv/bin/python benchmarks/ingest.py [--days 2 --strikes 5 --repeat 3 --workers 1,2]
                                          [--rss-days 1 --rss-strikes 3] [--mariadb]

Dump ingest (this section):
  speed   `gzip -dc` of the dumps vs the full ingest of the same dumps in one process
          (run_ingest, workers=1); target: ingest <= 2.5x gzip -dc. CPU seconds (user + sys) of
          both are printed too: they do not depend on what else the machine runs.
  memory  peak RSS of ingesting a dump 4x larger (4x the days) vs the 1x dump, each in a fresh
          process; target <= 1.2x.

Live MariaDB and JSON sources: their own section at the end (`--mariadb`), kept apart from the dump
part; the readers of those sources own it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.config import GeneratorConfig  # noqa: E402
from generator.driver import generate  # noqa: E402
from ingest.pipeline import run_ingest  # noqa: E402
from ingest.sqldump import read_dump  # noqa: E402

SPEED_TARGET = 2.5
MEMORY_TARGET = 1.2
RSS_CODE = """import json, resource, sys
from pathlib import Path
from ingest.pipeline import run_ingest
report = run_ingest(sys.argv[2:], Path(sys.argv[1]))
print(json.dumps({"rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": report.totals()["source_rows"]}))"""


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measured(fn) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of fn()."""
    c, t = cpu_seconds(), time.perf_counter()
    fn()
    return time.perf_counter() - t, cpu_seconds() - c


def gunzip_all(files: list[str]) -> None:
    for f in files:                        # argument lists, never a shell: paths are data
        subprocess.run(["gzip", "-dc", f], stdout=subprocess.DEVNULL, check=True)


def dump_speed(files: list[str], tmp: Path, rows: int, repeat: int, workers: list[int]) -> None:
    mb = sum(Path(f).stat().st_size for f in files) / 1e6
    print(f"dump: {len(files)} files, {mb:,.1f} MB gz, {rows:,} rows")
    run_ingest(files[-1:], tmp / "warm")            # compiles every kernel: not billed to either side
    shutil.rmtree(tmp / "warm", ignore_errors=True)
    best: dict[str, tuple[float, float]] = {}

    def keep(name: str, wall_cpu: tuple[float, float]) -> None:
        if name not in best or wall_cpu[0] < best[name][0]:
            best[name] = wall_cpu

    for _ in range(repeat):                         # alternating, so both sides see the same noise
        keep("gzip", measured(lambda: gunzip_all(files)))
        keep("parse", measured(lambda: [sum(1 for _ in read_dump(f)) for f in files]))
        for w in workers:
            root = tmp / f"wh{w}"
            keep(f"ingest{w}", measured(lambda: run_ingest(files, root, workers=w)))
            shutil.rmtree(root, ignore_errors=True)
    gz_wall, gz_cpu = best["gzip"]
    print(f"gzip -dc                : {gz_wall:7.2f} s   cpu {gz_cpu:6.2f} s")
    wall, cpu = best["parse"]
    print(f"parse only (read_dump)  : {wall:7.2f} s   cpu {cpu:6.2f} s   ratio {wall / gz_wall:5.2f}x")
    for w in workers:
        wall, cpu = best[f"ingest{w}"]
        verdict = f"   (target <= {SPEED_TARGET}x: {'met' if wall / gz_wall <= SPEED_TARGET else 'NOT met'})" \
            if w == 1 else ""
        print(f"full ingest, workers={w} : {wall:7.2f} s   cpu {cpu:6.2f} s   ratio {wall / gz_wall:5.2f}x "
              f"(cpu {cpu / gz_cpu:4.2f}x, {rows / wall:,.0f} rows/s){verdict}")


def dump_memory(tmp: Path, days: int, strikes: int) -> None:
    peak = {}
    for scale in (1, 4):
        src = tmp / f"rss{scale}"
        generate(GeneratorConfig(out=src, start=dt.date(2025, 11, 3), days=days * scale, strikes=strikes, seed=2,
                                 quirks=False))
        files = sorted(str(p) for p in (src / "sqldump").glob("*.sql.gz"))
        if not files:
            raise SystemExit(f"{src / 'sqldump'}: the generator wrote no dumps")
        r = subprocess.run([sys.executable, "-c", RSS_CODE, str(tmp / f"rsswh{scale}"), *files], check=True,
                           capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
        peak[scale] = json.loads(r.stdout.strip().splitlines()[-1])
        mb = sum(Path(f).stat().st_size for f in files) / 1e6
        print(f"peak RSS, {scale}x dump ({days * scale} days, {mb:,.0f} MB gz, {peak[scale]['rows']:,} rows): "
              f"{peak[scale]['rss_mb']:7.0f} MB")
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(tmp / f"rsswh{scale}", ignore_errors=True)
    ratio = peak[4]["rss_mb"] / peak[1]["rss_mb"]
    print(f"peak RSS 4x / 1x        : {ratio:5.2f}x   (target <= {MEMORY_TARGET}x: "
          f"{'met' if ratio <= MEMORY_TARGET else 'NOT met'})")


# -- live MariaDB and JSON sources (their readers' section) -------------------------------------------
# The Kite/FlatTrade JSON readers are not timed yet: their benchmark goes here, beside MariaDB's.
def bench_mariadb(files: list[str], tmp: Path, rows: int) -> None:
    from tests.mariadb_server import MariaDBServer

    server = MariaDBServer().start()
    try:
        for f in files:
            server.load_dump(Path(f))
        dbs = [d for d in server.query("show databases").split() if d.startswith("das_")]
        dump = shutil.which("mariadb-dump") or "mysqldump"
        cmd = [dump, "--quick", "--protocol=TCP", "-h", "127.0.0.1", "-P", str(server.port), "-u", "root",
               "--databases", *dbs]
        md = measured(lambda: subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True))[0]
        el = measured(lambda: run_ingest([server.url], tmp / "whdb"))[0]
        print(f"mariadb-dump --quick    : {md:7.2f} s  ({len(dbs)} databases)")
        print(f"ingest from MariaDB     : {el:7.2f} s  ratio {el / md:5.2f}x  ({rows / el:,.0f} rows/s)")
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--strikes", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3, help="alternating runs per side; the best of each counts")
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--rss-days", type=int, default=1, help="days of the 1x dump of the memory test")
    ap.add_argument("--rss-strikes", type=int, default=3)
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--mariadb", action="store_true", help="also time the live MariaDB path")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ticklake-bench-"))
    try:
        m = generate(GeneratorConfig(out=tmp / "src", start=dt.date(2025, 11, 3), days=a.days, strikes=a.strikes,
                                     seed=1))
        files = sorted(str(p) for p in (tmp / "src" / "sqldump").glob("*.sql.gz"))
        rows = sum(m["tables"].values())
        dump_speed(files, tmp, rows, a.repeat, [int(x) for x in a.workers.split(",")])
        if not a.skip_memory:
            dump_memory(tmp, a.rss_days, a.rss_strikes)
        if a.mariadb:
            bench_mariadb(files, tmp, rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
