"""One progress display for every long command: files and rows done, rows/s, MB/s, ETA, on stderr.

The layers below never print; they call `progress(info: dict)` with any of these keys:

    rows, bytes                cumulative counts, per `source` when one is given. A counter that
                               starts again (a new file without a `source` key) is added up, not lost.
    total_bytes                bytes the whole command will read (gives % and ETA)
    files_done, files_total    units of work done / planned: files, partitions, days, runs, batches
    partitions                 "i/n" (read as files_done/files_total when those are absent)
    source                     what is being worked on now (shown)

Worker processes forward the same dicts to the parent, which calls its one `Progress`.

On a terminal the display is a tqdm bar redrawn in place; elsewhere (CI logs, tests, `2> file`)
plain lines, one every `TICKLAKE_PROGRESS_INTERVAL` seconds (default 5), always a final one.
`quiet` silences everything.
"""
from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from tqdm import tqdm

INTERVAL_ENV = "TICKLAKE_PROGRESS_INTERVAL"


class Progress:
    """Callable progress sink for one command (see the module docstring for the protocol)."""

    def __init__(self, label: str, quiet: bool = False, unit: str = "files", total_bytes: int | None = None,
                 file: TextIO | None = None, every_s: float | None = None, row_unit: str | None = "rows"):
        # row_unit None: work counted in units only (a sweep's config-days): their rate, not rows/s
        self.label, self.quiet, self.unit, self.row_unit = label, quiet, unit, row_unit
        self.file = file or sys.stderr
        self.tty = bool(getattr(self.file, "isatty", lambda: False)())
        default = 0.2 if self.tty else float(os.environ.get(INTERVAL_ENV) or 5.0)
        self.every = default if every_s is None else every_s
        self.total_bytes = total_bytes
        self.files_done, self.files_total = 0, None
        self.source = ""
        self._counts: dict[tuple[str, str], list[int]] = {}   # (source, key) -> [base, last]
        self._fixed: dict[str, int] = {}
        self.t0 = time.perf_counter()
        self._last = self.t0                # the first line after one interval: quick work shows only its end
        self._bar: tqdm | None = None

    # -- the protocol ---------------------------------------------------------------------------
    def __call__(self, info: dict) -> None:
        src = str(info.get("source", ""))
        for key in ("rows", "bytes"):
            if key in info and info[key] is not None:
                base_last = self._counts.setdefault((src, key), [0, 0])
                value = int(info[key])
                if value < base_last[1]:          # a counter that restarted: keep what it had counted
                    base_last[0] += base_last[1]
                base_last[1] = value
        if info.get("total_bytes"):
            self.total_bytes = int(info["total_bytes"])
        if "partitions" in info and "files_done" not in info:
            done, _, total = str(info["partitions"]).partition("/")
            if done.isdigit() and total.isdigit():
                info = {**info, "files_done": int(done), "files_total": int(total)}
        if "files_done" in info:
            self.files_done = int(info["files_done"])
        if info.get("files_total") is not None:
            self.files_total = int(info["files_total"])
        if src:
            self.source = src
        now = time.perf_counter()
        if self.quiet or now - self._last < self.every:
            return
        self._last = now
        self._show()

    # -- totals ---------------------------------------------------------------------------------
    def _total(self, key: str) -> int:
        if key in self._fixed:
            return self._fixed[key]
        return sum(b + last for (_, k), (b, last) in self._counts.items() if k == key)

    @property
    def rows(self) -> int:
        return self._total("rows")

    @rows.setter
    def rows(self, value: int) -> None:
        """The command's own final count (e.g. the manifest's), which wins over the running sum."""
        self._fixed["rows"] = int(value)

    @property
    def bytes(self) -> int:
        return self._total("bytes")

    def fraction(self) -> float | None:
        """Share of the work done: by bytes when the total is known, else by files."""
        if self.total_bytes:
            return min(self.bytes / self.total_bytes, 1.0)
        if self.files_total:
            return min(self.files_done / self.files_total, 1.0)
        return None

    def status(self, final: bool = False) -> str:
        """The one line shown: 'label: 3/10 files | 1,234 rows | 617 rows/s | 1.2 MB/s | 30% ETA 0:07 | src'."""
        el = max(time.perf_counter() - self.t0, 1e-9)
        parts = []
        if self.files_total:
            parts.append(f"{self.files_done}/{self.files_total} {self.unit}")
        elif self.files_done:
            parts.append(f"{self.files_done} {self.unit}")
        rows, size = self.rows, self.bytes
        if self.row_unit is None:
            parts.append(f"{self.files_done / el:,.2f} {self.unit}/s")
        else:
            parts.append(f"{rows:,} {self.row_unit}")
            parts.append(f"{rows / el:,.0f} {self.row_unit}/s")
        if size:
            parts.append(f"{size / el / 1e6:,.1f} MB/s")
        frac = self.fraction()
        if final:
            parts.append(f"done in {tqdm.format_interval(el)}")
        elif frac is not None and frac > 0:
            parts.append(f"{frac:.0%} ETA {tqdm.format_interval(el * (1 - frac) / frac)}")
        elif frac is not None:
            parts.append("0% ETA ?")
        if self.source and not final:
            parts.append(self.source)
        return f"{self.label}: " + " | ".join(parts)

    # -- rendering ------------------------------------------------------------------------------
    def _show(self) -> None:
        if not self.tty:
            print(self.status(), file=self.file, flush=True)
            return
        if self._bar is None:
            self._bar = tqdm(total=1000, file=self.file, leave=False, dynamic_ncols=True, mininterval=0,
                             bar_format="{desc} |{bar:16}|")
        frac = self.fraction()
        self._bar.n = int(1000 * frac) if frac is not None else 0
        self._bar.set_description_str(self.status(), refresh=False)
        self._bar.refresh()

    def done(self, extra: str = "") -> None:
        """The final line (always printed unless quiet)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        if not self.quiet:
            print(f"{self.status(final=True)} {extra}".rstrip(), file=self.file, flush=True)

    def emit(self, info: dict | None = None) -> None:
        """Show the current state now, whatever the interval (a step boundary)."""
        if info:
            self(info)
        if not self.quiet:
            self._last = time.perf_counter()
            self._show()

