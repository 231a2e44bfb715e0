"""Writes generated days as the recorder's mysqldump files (one .sql.gz per database).

Each file: header comments, CREATE DATABASE/USE, per table at its first appearance DROP + the exact
DDL, then multi-row `REPLACE INTO` lines of at most `rows_per_statement` tuples; a table keeps
appearing in later statements as days go by. Statement-level quirks (interleaved expiries, a
malformed tuple, a truncated last statement) are applied here and counted. Output is byte-for-byte
deterministic (gzip mtime 0, no file name) and streamed: memory is one statement at a time.
"""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import numpy as np

from generator.snapshots import DaySnapshots, FileInfo, Rows, WriterQuirks
from generator.sqlformat_nb import OPTION_KINDS, column_kinds, format_tuples
from ingest.recorder_format import (DUMP_FILES, INDEX_COLUMNS, NSE_DB, OPTION_COLUMN_NAMES, OPTION_COLUMNS,
                                    OPTION_DBS, create_table_sql)

INDEX_KINDS = column_kinds(INDEX_COLUMNS)
BROKEN_VALUE = b"12.3.4"


class _HashingFile:
    """A binary sink that hashes what it writes (the sha256 of the .gz bytes)."""

    def __init__(self, path: Path):
        self.f = open(path, "wb")
        self.sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()

    def close(self) -> None:
        self.f.close()


class _DumpFile:
    def __init__(self, path: Path, db: str, level: int):
        self.path, self.db = path, db
        self.raw = _HashingFile(path)
        self.gz = gzip.GzipFile(filename="", mode="wb", fileobj=self.raw, compresslevel=level, mtime=0)
        self.line = 0
        self.created: set[str] = set()
        self._write_text(f"-- ticklake generator: recorder dump of {db}\n"
                         f"/*!40101 SET NAMES utf8mb4 */;\nCREATE DATABASE IF NOT EXISTS `{db}`;\nUSE `{db}`;\n")

    def _write_text(self, text: str) -> None:
        self.gz.write(text.encode())
        self.line += text.count("\n")

    def ensure_table(self, table: str, columns) -> None:
        if table not in self.created:
            self.created.add(table)
            self._write_text(f"DROP TABLE IF EXISTS `{table}`;\n{create_table_sql(table, columns)}\n")

    def statement(self, table: str, body: bytes, terminate: bool = True) -> int:
        """Write one REPLACE line; returns its line number (1-based)."""
        self.gz.write(b"REPLACE INTO `" + table.encode() + b"` VALUES " + body + (b";\n" if terminate else b""))
        self.line += 1
        return self.line

    def close(self) -> str:
        self.gz.close()
        self.raw.close()
        return self.raw.sha.hexdigest()


class SqlDumpWriter:
    """SourceWriter for the three recorder dumps."""

    def __init__(self, out: Path, rows_per_statement: int = 2000, quirks: WriterQuirks | None = None,
                 seed: int = 0, compresslevel: int = 1):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.rows_per_statement = rows_per_statement
        self.quirks = quirks or WriterQuirks()
        self.rng = np.random.default_rng(seed)
        self.level = compresslevel
        self.files: dict[str, _DumpFile] = {}
        self.rows: dict[str, int] = {}
        self.counts = {"interleaved_expiries": 0, "malformed_rows": 0}
        self.malformed: list[dict] = []
        self.truncated: dict | None = None
        self._malformed_left = self.quirks.malformed_rows
        self._last_options_db: str | None = None

    def _file(self, db: str) -> _DumpFile:
        if db not in self.files:
            self.files[db] = _DumpFile(self.out / DUMP_FILES[db], db, self.level)
        return self.files[db]

    def _statements(self, db: str, table: str, rows: Rows, columns, kinds) -> list:
        """One table-day cut into statements: (db, table, cols matrix, start, stop, kinds)."""
        n = len(rows["timestamp"])
        cols = np.vstack([rows[c] for c, _ in columns]).astype(np.int64)
        step = self.rows_per_statement
        return [(db, table, cols, a, min(a + step, n), kinds, columns) for a in range(0, n, step)]

    def _emit(self, stmt) -> None:
        db, table, cols, a, b, kinds, columns = stmt
        f = self._file(db)
        f.ensure_table(table, columns)
        body = bytes(format_tuples(cols, kinds, a, b))
        if self._malformed_left > 0 and b - a >= 3 and self.rng.random() < 0.02 and columns is OPTION_COLUMNS:
            body, k = _break_one_value(body, self.rng)
            self._malformed_left -= 1
            self.counts["malformed_rows"] += 1
            self.malformed.append({"file": DUMP_FILES[db], "table": table, "line": f.line + 1, "tuple": k})
        f.statement(table, body)
        self.rows[f"{db}.{table}"] = self.rows.get(f"{db}.{table}", 0) + (b - a)

    def write_day(self, day: DaySnapshots) -> None:
        db = OPTION_DBS[day.underlying]
        self._last_options_db = db
        pairs = {a: b for a, b in day.interleave}
        partner_of = {**pairs, **{b: a for a, b in day.interleave}}
        by_table = {t.table: t for t in day.options}
        done: set[str] = set()
        for t in day.options:
            if t.table in done:
                continue
            stmts = self._statements(db, t.table, t.rows, OPTION_COLUMNS, OPTION_KINDS)
            other = partner_of.get(t.table)
            if other in by_table and other not in done:
                o = self._statements(db, other, by_table[other].rows, OPTION_COLUMNS, OPTION_KINDS)
                merged = [s for pair in zip(stmts, o) for s in pair]
                n = min(len(stmts), len(o))
                merged += stmts[n:] + o[n:]
                self.counts["interleaved_expiries"] += 2 * n
                stmts = merged
                done.add(other)
            done.add(t.table)
            for s in stmts:
                self._emit(s)
        nse = []
        nse += self._statements(NSE_DB, day.index_table, day.index_rows, INDEX_COLUMNS, INDEX_KINDS)
        for fut in day.futures:
            nse += self._statements(NSE_DB, fut.table, fut.rows, OPTION_COLUMNS, OPTION_KINDS)
        for stock in day.stocks:         # the recorder's stock tables: the option layout, named by the stock
            nse += self._statements(NSE_DB, stock.table, stock.rows, OPTION_COLUMNS, OPTION_KINDS)
        for s in nse:
            self._emit(s)

    def _truncate_last(self) -> None:
        """Append a statement cut mid-tuple (no ';') to the last options file written."""
        db = self._last_options_db
        if db is None:
            return
        f = self._file(db)
        table = next(iter(sorted(f.created)))
        body = b"('2025-01-01 09:15:00',100.00,75,99.5"
        line = f.statement(table, body, terminate=False)
        self.rows[f"{db}.{table}"] = self.rows.get(f"{db}.{table}", 0) + 1
        self.truncated = {"file": DUMP_FILES[db], "table": table, "line": line, "tuple": 0}

    def close(self) -> dict[str, FileInfo]:
        if self.quirks.truncated_statement:
            self._truncate_last()
        out = {}
        for db, f in self.files.items():
            sha = f.close()
            n = sum(v for k, v in self.rows.items() if k.startswith(db + "."))
            out[DUMP_FILES[db]] = FileInfo(sha, n)
        return out

    def table_rows(self) -> dict[str, int]:
        return dict(self.rows)

    def quirk_counts(self) -> dict[str, int]:
        return dict(self.counts)


def _break_one_value(body: bytes, rng: np.random.Generator) -> tuple[bytes, int]:
    """Replace the price of one tuple of a statement with a broken token; returns (body, tuple index)."""
    starts = [i for i in range(len(body)) if body[i:i + 2] == b"('"]
    k = int(rng.integers(0, len(starts)))
    s = starts[k]
    first_comma = body.index(b",", s)
    second_comma = body.index(b",", first_comma + 1)
    return body[:first_comma + 1] + BROKEN_VALUE + body[second_comma:], k


assert OPTION_COLUMN_NAMES[1] == "price"  # _break_one_value breaks the second value: the price
