"""`ticklake quality`: every suite over every stored partition, the Data Docs site, coverage heatmaps."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

from expectations.heatmap import save_heatmap
from expectations.overview import render_overview
from expectations.suites import SUITES
from expectations.validate import SuiteOutcome, quiet_context, validate, validation_definition
from warehouse.files import atomic_write
from warehouse.store import fs_path, scratch_dir
from warehouse.writer import current_files

QUALITY_DIR = "quality"
OVERVIEW = "overview.html"     # ours; GX's own index.html needs CDN scripts (see expectations.overview)
WHOLE_TABLE = ("ingest_runs", "trade_legs")   # small tables validated in one batch, not per partition


@dataclass
class QualityReport:
    docs_index: Path                 # the overview page (self-contained), linking GX's pages
    outcomes: list[tuple[str, SuiteOutcome]] = field(default_factory=list)
    heatmaps: list[Path] = field(default_factory=list)

    @property
    def failures(self) -> list[tuple[str, str, str]]:
        """(suite, batch, check) for every failed expectation of error severity."""
        return [(o.suite, label, c) for label, o in self.outcomes for c in o.errors]

    @property
    def warnings(self) -> list[tuple[str, str, str]]:
        """(suite, batch, check) for every failed expectation of warning severity (thin coverage)."""
        return [(o.suite, label, c) for label, o in self.outcomes for c in o.warnings]


def _keys(path: Path) -> dict[str, str]:
    return dict(part.split("=", 1) for part in path.parent.parts if "=" in part)


def batch_files(root: Path, table: str) -> list[list[Path]]:
    """The files of each batch: one per stored partition, or all of a small whole table at once."""
    files = current_files(root, table)
    if table in WHOLE_TABLE:
        return [files] if files else []
    return [[f] for f in files]


def batches(root: Path, table: str) -> Iterator[tuple[str, pa.Table, dt.date | None]]:
    """(label, table, date) per stored partition, or one batch for the small whole tables."""
    for files in batch_files(root, table):
        if table in WHOLE_TABLE:
            yield table, pa.concat_tables(_read(f) for f in files), None
            continue
        keys = _keys(files[0])
        day = dt.date.fromisoformat(keys["date"]) if "date" in keys else None
        yield "/".join(keys.values()), _read(files[0]), day


def _read(path) -> pa.Table:
    fs, where = fs_path(path)
    return pq.read_table(where, filesystem=fs)


def docs_dir(root: Path) -> Path:
    # GX's file context and its Data Docs need a local folder: an object-store warehouse's scratch dir
    return scratch_dir(root) / QUALITY_DIR / "gx" / "uncommitted" / "data_docs" / "local_site"


def heatmap_path(root: Path, label: str) -> Path:
    """Where the coverage heatmap of a partition label such as "NIFTY/2025-11-03" lives."""
    return docs_dir(root) / "heatmaps" / f"coverage_{label.replace('/', '_')}.png"


def run_name(suite: str, label: str) -> str:
    """The GX run name of a batch ("options_ticks NIFTY 2025-11-03"; GX keys allow no slash)."""
    return f"{suite} {label.replace('/', ' ')}"


def run_quality(root: Path, params: dict | None = None,
                progress: Callable[[dict], None] | None = None) -> QualityReport:
    """Validate every partition of every suite's table, build Data Docs and the heatmaps.
    `progress` gets the progress protocol's dicts (orchestration.progress): batches and heatmaps
    done of all, each batch's rows and bytes."""
    ctx = quiet_context("file", project_root_dir=str(scratch_dir(root) / QUALITY_DIR))
    report = QualityReport(docs_dir(root) / OVERVIEW)
    total = sum(len(batch_files(root, s.table)) for s in SUITES.values()) + len(batch_files(root, "options"))
    done = 0

    def step(source: str, rows: int, files: list[Path]) -> None:
        nonlocal done
        done += 1
        if progress:
            progress({"files_done": done, "files_total": total, "source": source, "rows": rows,
                      "bytes": sum(f.stat().st_size for f in files)})

    for name, suite in SUITES.items():
        vd = validation_definition(ctx, name, params)
        for files, (label, table, day) in zip(batch_files(root, suite.table), batches(root, suite.table)):
            outcome = validate(name, suite.frame(table, day), vd=vd, label=run_name(name, label))
            report.outcomes.append((label, outcome))
            step(f"{name} {label}", outcome.rows, files)
    for files, (label, ticks, day) in zip(batch_files(root, "options"), batches(root, "options")):
        png = save_heatmap(ticks, day, label, heatmap_path(root, label))
        if png:
            report.heatmaps.append(png)
        step(f"heatmap {label}", 0, [])
    if progress:
        progress({"source": "Data Docs"})
    ctx.build_data_docs()
    site = docs_dir(root)
    links = {(o.suite, label): _validation_page(site, o.suite, run_name(o.suite, label)) for label, o in report.outcomes}
    pages = {k: v for k, v in links.items() if v}
    html_text = render_overview(report.outcomes, pages, [str(p.relative_to(site)) for p in report.heatmaps])
    atomic_write(report.docs_index, html_text)
    return report


def _validation_page(site: Path, suite: str, run_name: str) -> str | None:
    """Relative URL of GX's newest validation page for this run name."""
    pages = sorted((site / "validations" / suite / run_name).glob("*/*.html"))
    return "/".join(quote(part) for part in pages[-1].relative_to(site).parts) if pages else None
