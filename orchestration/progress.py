"""Progress lines for long commands: rows, MB/s and ETA on stderr, throttled; silent when quiet."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, label: str, total_bytes: int | None = None, quiet: bool = False, every_s: float = 1.0):
        self.label, self.total, self.quiet, self.every = label, total_bytes, quiet, every_s
        self.t0 = self._last = time.perf_counter()
        self.rows = 0
        self.bytes = 0

    def __call__(self, info: dict) -> None:
        self.rows = info.get("rows", self.rows)
        self.bytes = info.get("bytes", self.bytes)
        now = time.perf_counter()
        if self.quiet or now - self._last < self.every:
            return
        self._last = now
        self.emit(info)

    def emit(self, info: dict | None = None) -> None:
        if self.quiet:
            return
        el = max(time.perf_counter() - self.t0, 1e-9)
        parts = [f"{self.label}: {self.rows:,} rows", f"{self.rows / el:,.0f} rows/s"]
        if self.bytes:
            parts.append(f"{self.bytes / el / 1e6:,.1f} MB/s")
            if self.total:
                eta = (self.total - self.bytes) / max(self.bytes / el, 1)
                parts.append(f"{100 * self.bytes / self.total:.0f}% ETA {eta:,.0f}s")
        for k in ("day", "partitions", "source"):
            if info and k in info:
                parts.append(f"{k} {info[k]}")
        print("  " + " | ".join(parts), file=sys.stderr, flush=True)

    def done(self, extra: str = "") -> None:
        if not self.quiet:
            el = time.perf_counter() - self.t0
            print(f"  {self.label}: done, {self.rows:,} rows in {el:,.1f}s {extra}".rstrip(), file=sys.stderr, flush=True)
