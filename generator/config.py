"""Arguments of `ticklake generate`."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class GeneratorConfig:
    out: Path
    start: dt.date = dt.date(2025, 11, 3)
    days: int = 3
    underlyings: tuple[str, ...] = ("BANKNIFTY", "NIFTY")
    strikes: int = 5
    seed: int = 7
    formats: tuple[str, ...] = ("sqldump",)
    mariadb_url: str | None = None
    index_csv: Path | None = None
    quirks: bool = True
    malformed_rows: int = 0
    truncated_statement: bool = False
    rows_per_statement: int = 2000
    force: bool = False           # replace the generator's own outputs in a non-empty --out
    extra: dict = field(default_factory=dict)

    def describe(self) -> dict:
        return {"start": self.start.isoformat(), "days": self.days, "underlyings": list(self.underlyings),
                "strikes": self.strikes, "seed": self.seed, "formats": list(self.formats), "quirks": self.quirks,
                "malformed_rows": self.malformed_rows, "truncated_statement": self.truncated_statement,
                "rows_per_statement": self.rows_per_statement,
                "index_csv": str(self.index_csv) if self.index_csv else None}
