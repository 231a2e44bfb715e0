"""Ingest speed vs the physical limit: `gzip -dc dump > /dev/null` and the full ingest of the same
dump, timed in one run (the machine is shared and noisy, so only the ratio is meaningful).

    .venv/bin/python benchmarks/ingest.py [--days 2 --strikes 5 --workers 1,2] [--mariadb]

--mariadb also loads the dumps into a throwaway MariaDB server (loopback, temp datadir) and times
`mariadb-dump --quick` of the same tables to /dev/null against `ticklake ingest mysql+pymysql://...`.
"""
from __future__ import annotations

import argparse
import datetime as dt
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


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def bench_mariadb(files: list[str], tmp: Path, rows: int) -> None:
    from tests.mariadb_server import MariaDBServer

    server = MariaDBServer().start()
    try:
        for f in files:
            server.load_dump(Path(f))
        dbs = [d for d in server.query("show databases").split() if d.startswith("das_")]
        dump = shutil.which("mariadb-dump") or "mysqldump"
        cmd = f"{dump} --quick --protocol=TCP -h 127.0.0.1 -P {server.port} -u root --databases {' '.join(dbs)} > /dev/null"
        md = timed(lambda: subprocess.run(cmd, shell=True, check=True))
        el = timed(lambda: run_ingest([server.url], tmp / "whdb"))
        print(f"mariadb-dump --quick    : {md:7.2f} s  ({len(dbs)} databases)")
        print(f"ingest from MariaDB     : {el:7.2f} s  ratio {el / md:5.2f}x  ({rows / el:,.0f} rows/s)")
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--strikes", type=int, default=5)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--mariadb", action="store_true", help="also time the live MariaDB path")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ticklake-bench-"))
    try:
        m = generate(GeneratorConfig(out=tmp / "src", start=dt.date(2025, 11, 3), days=a.days, strikes=a.strikes,
                                     seed=1))
        files = sorted(str(p) for p in (tmp / "src" / "sqldump").glob("*.sql.gz"))
        rows = sum(m["tables"].values())
        mb = sum(Path(f).stat().st_size for f in files) / 1e6
        # warm the JIT so compile time is not billed to either side
        for item in read_dump(files[-1]):
            break
        gz = timed(lambda: [subprocess.run(f"gzip -dc {f} > /dev/null", shell=True, check=True) for f in files])
        parse = timed(lambda: [sum(1 for _ in read_dump(f)) for f in files])
        print(f"dump: {len(files)} files, {mb:,.1f} MB gz, {rows:,} rows")
        print(f"gzip -dc                : {gz:7.2f} s")
        print(f"parse only (read_dump)  : {parse:7.2f} s  ratio {parse / gz:5.2f}x")
        for w in [int(x) for x in a.workers.split(",")]:
            root = tmp / f"wh{w}"
            el = timed(lambda: run_ingest(files, root, workers=w))
            print(f"full ingest, workers={w} : {el:7.2f} s  ratio {el / gz:5.2f}x  ({rows / el:,.0f} rows/s)")
            shutil.rmtree(root, ignore_errors=True)
        if a.mariadb:
            bench_mariadb(files, tmp, rows)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
