"""`ticklake generate`: simulate day by day, inject quirks, stream every format, write manifest.json.

Layout of --out: one subfolder per format (`sqldump/` the three recorder dumps, `kite/` and
`flattrade/` the JSON files with their instrument masters, `binance/` the aggTrades CSVs) and
`manifest.json` at the top (its file names are relative to --out). A non-empty --out is refused
unless force is set; then only what the generator writes (the format subfolders and the manifest)
is replaced. `plan` estimates the output's size before anything is written.

Memory holds one underlying-day at a time whatever --days is. The manifest is the ground truth the
tests check the warehouse against (PRODUCT.md "Generator manifest"), plus: config, days,
holidays_skipped, quirk_rows (where each quirk is), unique_rows (rows per table after the recorder's
REPLACE semantics, i.e. what a MariaDB load holds).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from generator.config import GeneratorConfig
from generator.market import CarryState, day_rng, simulate_day
from generator.quirks import QUIRK_KEYS, DayPlan, QuirkLog, inject
from generator.snapshots import DaySnapshots, WriterQuirks
from ingest.recorder_format import NSE_DB, OPTION_DBS
from transforms.basket import basket
from transforms.calendar import is_trading_day

MANIFEST = "manifest.json"
FORMATS = ("sqldump", "mariadb", "kite", "flattrade", "binance")
SUBFOLDER = {"sqldump": "sqldump", "mariadb": "sqldump", "kite": "kite", "flattrade": "flattrade", "binance": "binance"}
# bytes written per option row (index and futures rows count as option rows), measured on this
# generator's output: .sql.gz at gzip level 1, Kite FULL-mode JSON, FlatTrade lines
BYTES_PER_ROW = {"sqldump": 65, "kite": 850, "flattrade": 355}
BINANCE_BYTES_PER_DAY = 1_344_000
ROWS_PER_TABLE_DAY = 22_200   # a contract's rows on a day: the recorder writes ~every second it changed


@dataclass
class OutputPlan:
    """What `generate` will write: trading days, tables per day and the estimated size per folder."""
    days: list[dt.date]
    holidays: list[dt.date]
    tables_per_day: int
    bytes: dict[str, int]

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())

    def describe(self) -> str:
        parts = ", ".join(f"{k}/ {_mb(v)}" for k, v in self.bytes.items())
        return f"about {_mb(self.total_bytes)} ({parts})"


def _mb(n: int) -> str:
    return f"{n / 1e9:,.1f} GB" if n >= 1e9 else f"{n / 1e6:,.0f} MB"


def plan(cfg: GeneratorConfig) -> OutputPlan:
    unknown = set(cfg.formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats: {', '.join(sorted(unknown))}; known: {', '.join(FORMATS)}")
    days, skipped = archive_days(cfg.start, cfg.days)
    options = 2 * (2 * cfg.strikes + 1) * 2          # two expiries, CE and PE
    rows = len(days) * len(cfg.underlyings) * ROWS_PER_TABLE_DAY
    stocks = sum(len(basket(u)) for u in cfg.underlyings) / max(len(cfg.underlyings), 1)   # per underlying-day
    out = {}
    for f in ("sqldump", "kite", "flattrade"):
        if f in cfg.formats or (f == "sqldump" and "mariadb" in cfg.formats):
            tables = options + (2 + stocks if f == "sqldump" else 0)  # + index, futures and stocks in das_nse
            out[f] = int(rows * tables * BYTES_PER_ROW[f])
    if "binance" in cfg.formats:
        out["binance"] = cfg.days * BINANCE_BYTES_PER_DAY
    return OutputPlan(days, skipped, options, out)


def prepare_out(cfg: GeneratorConfig, need_bytes: int) -> None:
    """Refuse a non-empty --out without force; with force remove only the generator's own outputs.
    Fails early when the disk cannot hold the estimate."""
    out = Path(cfg.out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory")
    if out.exists() and any(out.iterdir()):
        if not cfg.force:
            raise ValueError(f"--out {out}: not empty; choose an empty folder or pass --force to replace "
                             f"the generator's own {', '.join(f'{d}/' for d in sorted(set(SUBFOLDER.values())))} and {MANIFEST}")
        for name in sorted(set(SUBFOLDER.values())):
            if (out / name).is_dir():
                shutil.rmtree(out / name)
        (out / MANIFEST).unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(out).free
    if need_bytes > free:
        raise ValueError(f"--out {out}: needs about {_mb(need_bytes)}, only {_mb(free)} free")


def archive_days(start: dt.date, n: int) -> tuple[list[dt.date], list[dt.date]]:
    """The first n trading days from start, and the weekday holidays skipped on the way."""
    days, skipped = [], []
    d = start
    while len(days) < n:
        if is_trading_day(d):
            days.append(d)
        elif d.weekday() < 5:
            skipped.append(d)
        d += dt.timedelta(days=1)
    return days, skipped


def day_plan(cfg: GeneratorConfig, index: int, n_days: int, underlying: str) -> DayPlan:
    """Archive-level events: the last day is partial for the first underlying (>= 2 days); the
    middle day is missing for the last underlying (>= 3 days)."""
    return DayPlan(partial_day=n_days >= 2 and index == n_days - 1 and underlying == cfg.underlyings[0],
                   missing_day=n_days >= 3 and index == 1 and underlying == cfg.underlyings[-1])


def _writers(cfg: GeneratorConfig) -> list[tuple[str, object]]:
    """(subfolder, writer) for every streamed format."""
    out = []
    if "sqldump" in cfg.formats or "mariadb" in cfg.formats:
        from generator.sqldump_writer import SqlDumpWriter

        out.append(("sqldump", SqlDumpWriter(cfg.out / "sqldump", cfg.rows_per_statement,
                                             WriterQuirks(cfg.malformed_rows, cfg.truncated_statement), seed=cfg.seed)))
    if "kite" in cfg.formats or "flattrade" in cfg.formats:
        from generator.json_writers import KiteWriter, FlatTradeWriter

        out += [(f, w(cfg.out / f)) for f, w in (("kite", KiteWriter), ("flattrade", FlatTradeWriter))
                if f in cfg.formats]
    return out


def _unique_rows(day: DaySnapshots) -> dict[str, int]:
    db = OPTION_DBS[day.underlying]
    out = {f"{NSE_DB}.{day.index_table}": len(np.unique(day.index_rows["timestamp"]))}
    out.update({f"{NSE_DB}.{f.table}": len(np.unique(f.rows["timestamp"])) for f in day.futures})
    out.update({f"{NSE_DB}.{s.table}": len(np.unique(s.rows["timestamp"])) for s in day.stocks})
    out.update({f"{db}.{t.table}": len(np.unique(t.rows["timestamp"])) for t in day.options})
    return out


def generate(cfg: GeneratorConfig, progress: Callable[[dict], None] | None = None) -> dict:
    cfg.out = Path(cfg.out)
    p = plan(cfg)
    if "mariadb" in cfg.formats and not cfg.mariadb_url:
        raise ValueError("format mariadb needs --mariadb URL")
    prepare_out(cfg, p.total_bytes)
    days, skipped = p.days, p.holidays
    index_path = _index_series(cfg.index_csv) if cfg.index_csv else None
    writers = _writers(cfg)
    carry, used_1970, log = CarryState(), set(), QuirkLog()
    unique: dict[str, int] = {}
    rows_done = 0
    for i, day in enumerate(days):
        for u in cfg.underlyings:
            snaps = simulate_day(u, day, cfg.strikes, cfg.seed, carry, index_path)
            if cfg.quirks:
                day_log = inject(snaps, day_rng(cfg.seed, u, day, "quirks"), day_plan(cfg, i, len(days), u), used_1970)
                _merge(log, day_log)
            for _, w in writers:
                w.write_day(snaps)
            for k, v in _unique_rows(snaps).items():
                unique[k] = unique.get(k, 0) + v
            rows_done += sum(len(t.rows["timestamp"]) for t in snaps.options)
            if progress:
                progress({"rows": rows_done, "day": f"{day} {u}", "bytes": _bytes_written(cfg.out)})
    files, tables = {}, {}
    for folder, w in writers:
        files.update({f"{folder}/{k}": {"sha256": v.sha256, "source_rows": v.source_rows} for k, v in w.close().items()})
        tables.update(w.table_rows())
        for k, v in w.quirk_counts().items():
            log.counts[k] = log.counts.get(k, 0) + v
        for attr in ("malformed", "truncated"):
            where = getattr(w, attr, None)
            if where:      # file names relative to --out, like the manifest's "files"
                where = [{**x, "file": f"{folder}/{x['file']}"} for x in where] if isinstance(where, list) \
                    else {**where, "file": f"{folder}/{where['file']}"}
                log.rows[f"{attr}_rows" if attr == "malformed" else "truncated_statement"] = where
    if "binance" in cfg.formats:
        from generator.binance import write_binance

        files.update({f"binance/{k}": {"sha256": v.sha256, "source_rows": v.source_rows}
                      for k, v in write_binance(cfg.out / "binance", cfg.start, cfg.days, cfg.seed).items()})
    manifest = {"seed": cfg.seed, "config": cfg.describe(), "days": [d.isoformat() for d in days],
                "holidays_skipped": [d.isoformat() for d in skipped], "files": files, "tables": tables,
                "unique_rows": {k: unique[k] for k in tables if k in unique},
                "quirks": {k: log.counts.get(k, 0) for k in QUIRK_KEYS}, "quirk_rows": log.rows,
                "holes": log.holes}
    (cfg.out / MANIFEST).write_text(json.dumps(manifest, sort_keys=True, indent=1, default=str) + "\n")
    if "mariadb" in cfg.formats:
        from generator.mariadb_loader import load_dump_files

        load_dump_files(cfg.mariadb_url, [cfg.out / name for name in files if name.endswith(".sql.gz")])
    return manifest


def _bytes_written(out: Path) -> int:
    return sum(f.stat().st_size for f in out.rglob("*") if f.is_file())


def _merge(into: QuirkLog, day: QuirkLog) -> None:
    for k, v in day.counts.items():
        into.counts[k] = into.counts.get(k, 0) + v
    for k, v in day.rows.items():
        into.rows.setdefault(k, []).extend(v)
    into.holes.extend(day.holes)


def _index_series(path: Path) -> np.ndarray:
    """A real 1-second index CSV (`YYYY-MM-DD HH:MM:SS,price`, naive IST) as a session path:
    rescaled to start at 1.0 x its first session value, missing seconds carried forward."""
    from generator.market import OPEN_S, SESSION_S

    secs, prices = [], []
    for line in Path(path).read_text().splitlines():
        if not line.strip():
            continue
        stamp, price = line.split(",")[:2]
        t = dt.datetime.fromisoformat(stamp)
        sod = t.hour * 3600 + t.minute * 60 + t.second - OPEN_S
        if 0 <= sod < SESSION_S:
            secs.append(sod)
            prices.append(float(price))
    if not secs:
        raise ValueError(f"{path}: no rows inside 09:15:00-15:30:00")
    out = np.full(SESSION_S, np.nan)
    out[np.array(secs)] = prices
    idx = np.maximum.accumulate(np.where(~np.isnan(out), np.arange(SESSION_S), 0))
    out = out[idx]
    out[np.isnan(out)] = prices[0]
    return out
