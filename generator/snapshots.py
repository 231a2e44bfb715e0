"""What the market simulator hands to the source writers: one trading day of one underlying.

Rows are in the recorder's in-memory form (see ingest.recorder_format: dict column -> int64 array,
exact integers in paise / 1e-6 % / epoch seconds of naive IST wall time). Quirks are already
applied to these rows (a 1970 row has timestamp 19800, a duplicate second appears twice, etc.),
except the statement-level ones a writer applies itself (see WriterQuirks).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ingest.contracts import Contract

Rows = dict[str, np.ndarray]  # recorder column name -> int64 array, all the same length


@dataclass
class OptionTable:
    table: str            # the recorder's table name, e.g. BANKNIFTY25DEC48000CE
    contract: Contract
    lot: int
    rows: Rows            # OPTION_COLUMNS of ingest.recorder_format


@dataclass
class FuturesTable:
    table: str            # e.g. NIFTYFUT
    underlying: str
    expiry: dt.date
    lot: int
    rows: Rows            # same 46 columns as options


@dataclass
class StockTable:
    table: str            # the stock's recorder table in das_nse, e.g. HDFCBANK (generator/stocks.py)
    rows: Rows            # the 46 option columns; oi 0


@dataclass
class DaySnapshots:
    underlying: str
    date: dt.date
    index_table: str      # NIFTY / BANKNIFTY in das_nse
    index_rows: Rows      # INDEX_COLUMNS: timestamp, price
    futures: list[FuturesTable] = field(default_factory=list)
    options: list[OptionTable] = field(default_factory=list)
    # pairs of option tables (same strike and type, two expiries) whose statements a dump writer
    # must interleave on this day: the real archive's "Nov and Dec contracts interleaved" quirk
    interleave: list[tuple[str, str]] = field(default_factory=list)
    stocks: list[StockTable] = field(default_factory=list)     # the underlying's bank basket, if any


@dataclass
class WriterQuirks:
    """Statement-level defects a dump writer injects on request (all off by default)."""
    malformed_rows: int = 0          # tuples with a broken value, each in a different statement
    truncated_statement: bool = False  # the last statement of the file is cut mid-tuple, no ';'


@dataclass
class FileInfo:
    sha256: str
    source_rows: int


class SourceWriter(Protocol):
    """A sink for generated days in one real source format."""

    def write_day(self, day: DaySnapshots) -> None: ...

    def close(self) -> dict[str, FileInfo]:
        """Finish every file; return file name (relative to the output dir) -> checksum and rows."""
        ...

    def table_rows(self) -> dict[str, int]:
        """'db.table' -> rows written to the source, quirk rows included (empty for non-SQL formats)."""
        ...

    def quirk_counts(self) -> dict[str, int]:
        """Counts of writer-level quirks injected (interleaved_expiries, malformed_rows, ...)."""
        ...
