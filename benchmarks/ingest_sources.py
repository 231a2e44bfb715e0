"""Ingest speed of the other sources against a baseline timed in the same run (the machine is shared
and noisy: only the ratios mean something).

    .venv/bin/python benchmarks/ingest_sources.py [--days 1 --strikes 3] [--only json|mariadb]

json     Kite FULL-mode files and FlatTrade lines of a generated archive: `ticklake ingest DIR`
         (parse, stage, finalize, Parquet) against a plain parse of the same files with the fastest
         JSON reader installed (orjson, else the standard library). Target: <= 3x.
mariadb  the same archive loaded into a throwaway MariaDB (loopback, temp datadir): the live ingest
         `ticklake ingest mysql+pymysql://...` (one process) against `mariadb-dump --quick` of the
         same tables to /dev/null (one process). Target: <= 1.8x.

Each side is timed --repeat times (default 3) and its fastest run counts; row counts are printed
with the ratios.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
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


def timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def best(fn, repeat: int) -> float:
    """The fastest of `repeat` runs: the machine is shared, the minimum is the least disturbed."""
    return min(timed(lambda k=k: fn(k)) for k in range(repeat))


def _json_reader():
    try:
        import orjson
        return "orjson", orjson.loads
    except ImportError:                                   # pragma: no cover - orjson is in the test extra
        import json
        return "json (stdlib)", json.loads


def plain_parse(files: list[Path], loads) -> int:
    """What a parse costs at all: every Kite file as one document, every FlatTrade line as one."""
    n = 0
    for f in files:
        data = f.read_bytes()
        if f.name.endswith("-merged-data.txt"):
            n += sum(len(v) for v in loads(data).values())
        else:
            for line in data.split(b"\n"):
                line = line.strip().rstrip(b",")
                if line:
                    loads(line)
                    n += 1
    return n


def _split(src: Path, tmp: Path) -> dict[str, Path]:
    """The archive's Kite and FlatTrade folders (the generator writes each format, with its
    instrument master, into its own subfolder)."""
    out = {name: src / name for name in ("kite", "flattrade")}
    for name, d in out.items():
        if not any(d.glob("*.txt")):
            raise SystemExit(f"{d}: no {name} files: generate the archive with --formats kite,flattrade")
    return out


def bench_json(src: Path, tmp: Path, repeat: int = 3) -> None:
    reader, loads = _json_reader()
    dirs = _split(src, tmp)
    # warm the JIT on one small file of each so compile time is billed to neither side
    warm = tmp / "warm"
    warm.mkdir()
    for d in dirs.values():
        first = sorted(p for p in d.iterdir() if p.name not in ("instruments.csv", "NFO_symbols.txt"))[0]
        for f in (first, *[p for p in d.iterdir() if p.name in ("instruments.csv", "NFO_symbols.txt")]):
            (warm / f.name).symlink_to(f.resolve())
    run_ingest([str(warm)], tmp / "wh-warm")
    total_base = total_ingest = 0.0
    for name, d in dirs.items():
        files = sorted(p for p in d.iterdir() if p.name not in ("instruments.csv", "NFO_symbols.txt"))
        mb = sum(p.stat().st_size for p in files) / 1e6
        gc.collect()
        ticks = 0

        def parse(_k):
            nonlocal ticks
            ticks = plain_parse(files, loads)
        base = best(parse, repeat)
        report = None

        def ingest(k):
            nonlocal report
            report = run_ingest([str(d)], tmp / f"wh-{name}-{k}")
            shutil.rmtree(tmp / f"wh-{name}-{k}", ignore_errors=True)
        el = best(ingest, repeat)
        t = report.totals()
        assert t["source_rows"] == ticks and t["quarantined"] == 0, (t, ticks)
        total_base, total_ingest = total_base + base, total_ingest + el
        print(f"{name:9s}: {len(files)} files, {mb:,.1f} MB, {ticks:,} ticks")
        print(f"  plain parse ({reader}) : {base:7.2f} s  ({ticks / base:,.0f} ticks/s)")
        print(f"  ticklake ingest          : {el:7.2f} s  ratio {el / base:5.2f}x  ({ticks / el:,.0f} ticks/s, "
              f"{t['written']:,} written, {t['deduped']:,} deduped)")
    print(f"json total: ingest {total_ingest:.2f} s vs plain parse {total_base:.2f} s: ratio "
          f"{total_ingest / total_base:.2f}x (target <= 3x)")


def bench_mariadb(src: Path, tmp: Path, repeat: int = 3) -> None:
    from tests.mariadb_server import MariaDBServer

    files = sorted((src / "sqldump").glob("*.sql.gz"))
    if not files:
        raise SystemExit(f"{src / 'sqldump'}: no dumps")
    server = MariaDBServer().start()
    try:
        for f in files:
            server.load_dump(f)
        dbs = [d for d in server.query("show databases").split() if d.startswith(("das_", "aws_das_"))]
        rows = sum(int(server.query(f"select count(*) from `{db}`.`{t}`"))
                   for db in dbs for t in server.query(f"show tables from `{db}`").split())
        dump = shutil.which("mariadb-dump") or "mysqldump"
        cmd = [dump, "--quick", "--protocol=TCP", "-h", "127.0.0.1", "-P", str(server.port), "-u", "root",
               "--databases", *dbs]
        run_ingest([f"{server.url}/{dbs[0]}"], tmp / "wh-warm")          # warm the JIT and the server's cache
        with open("/dev/null", "wb") as null:
            md = best(lambda _k: subprocess.run(cmd, stdout=null, check=True), repeat)
        report = None

        def ingest(k):
            nonlocal report
            report = run_ingest([server.url], tmp / f"wh-db-{k}")       # a fresh warehouse: a full read
            shutil.rmtree(tmp / f"wh-db-{k}", ignore_errors=True)
        el = best(ingest, repeat)
        t = report.totals()
        assert t["source_rows"] == rows, (t, rows)
        print(f"mariadb  : {len(dbs)} databases, {rows:,} rows")
        print(f"  mariadb-dump --quick     : {md:7.2f} s  ({rows / md:,.0f} rows/s)")
        print(f"  ticklake ingest (live)   : {el:7.2f} s  ratio {el / md:5.2f}x  ({rows / el:,.0f} rows/s, "
              f"{t['written']:,} written) (target <= 1.8x)")
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=1)
    ap.add_argument("--strikes", type=int, default=3)
    ap.add_argument("--only", choices=("json", "mariadb"))
    ap.add_argument("--repeat", type=int, default=3, help="best of N runs of each side")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ticklake-bench-sources-"))
    try:
        formats = {"json": ("kite", "flattrade"), "mariadb": ("sqldump",)}
        wanted = [a.only] if a.only else ["json", "mariadb"]
        generate(GeneratorConfig(out=tmp / "src", start=dt.date(2025, 11, 3), days=a.days, strikes=a.strikes, seed=1,
                                 underlyings=("NIFTY",), quirks=False,
                                 formats=tuple(f for w in wanted for f in formats[w])))
        if "json" in wanted:
            bench_json(tmp / "src", tmp, a.repeat)
        if "mariadb" in wanted:
            bench_mariadb(tmp / "src", tmp, a.repeat)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
