"""Streaming reader of the recorder's SQL dumps (.sql / .sql.gz): no server, bounded memory.

Decompresses fixed-size chunks, walks statements line by line in Python (cheap: a statement holds
thousands of rows) and hands every VALUES list to the Numba tuple parser (ingest.sqlscan_nb), which
writes straight into int64 columns. Yields, in file order, a DumpBatch per run of rows of one table
and a Rejected per tuple that could not be parsed (malformed, truncated at end of file, unknown
columns) naming the file and position; a damaged gzip stream ends the file with a Rejected after
every row decoded before the damage. Memory: one chunk + one batch, whatever the line length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from isal import isal_zlib as inflate  # zlib's API; Intel ISA-L inflates about 2x faster than zlib

from warehouse.readahead import read_ahead
from ingest.recorder_format import INDEX_COLUMNS, OPTION_COLUMNS
from ingest.sqlscan_nb import (K_DATETIME, K_DEC2, K_DEC10, K_INT, ST_BAD, ST_FULL, ST_NEED_MORE, ST_STMT_END,
                               parse_tuples)

KNOWN_TYPES = {c: t for c, t in OPTION_COLUMNS + INDEX_COLUMNS}
_HEADER = re.compile(rb"^(?:INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\s+`([^`]+)`\s*(\(([^)]*)\))?\s*VALUES\s*", re.I)
_CREATE = re.compile(rb"^CREATE TABLE\s+(?:IF NOT EXISTS\s+)?`([^`]+)`", re.I)
_COLDEF = re.compile(rb"^\s*`([^`]+)`\s+([A-Za-z]+(?:\([0-9, ]+\))?)", re.M)
_USE = re.compile(rb"^USE\s+`([^`]+)`", re.I)
HEADER_MAX = 1 << 16


@dataclass
class DumpBatch:
    db: str | None
    table: str
    rows: dict[str, np.ndarray]
    line: np.ndarray         # line number of the statement each row came from
    tuple_index: np.ndarray  # index of the row's tuple within its statement


@dataclass
class Rejected:
    source: str
    position: str
    reason: str
    raw: str


class DumpError(ValueError):
    """A dump that cannot be read at all (not a dump, unreadable)."""


def column_kind(sql_type: str) -> int:
    """How a recorder column's SQL type becomes int64 (datetime seconds, decimals scaled, ints)."""
    t = sql_type.upper()
    if t.startswith("DATETIME") or t.startswith("TIMESTAMP"):
        return K_DATETIME
    if t.startswith("DECIMAL(60,10)"):
        return K_DEC10
    if t.startswith("DECIMAL"):
        return K_DEC2
    return K_INT


def recorder_kind(column: str, sql_type: str) -> int:
    """How a column's values are read: as the recorder declares it when the column is one of the
    recorder's (its unit is fixed by name: paise for prices), else as the table declares it."""
    return column_kind(KNOWN_TYPES.get(column, sql_type))


def default_columns(n: int) -> list[str] | None:
    """The recorder layout by arity, for tables whose CREATE TABLE is not in the file."""
    for layout in (OPTION_COLUMNS, INDEX_COLUMNS):
        if len(layout) == n:
            return [c for c, _ in layout]
    return None


def db_from_name(path: Path) -> str | None:
    m = re.match(r"^(das_[a-z]+?)(?:_mod)?\.sql(?:\.gz)?$", path.name)
    return m.group(1) if m else None


class _Chunks:
    """Decompressed bytes in fixed chunks; remembers where a damaged stream stopped."""

    def __init__(self, path: Path, chunk: int):
        self.f = open(path, "rb")
        self.gz = path.name.endswith(".gz")
        self.z = inflate.decompressobj(wbits=31) if self.gz else None
        self.chunk = chunk
        self.eof = False
        self.error: str | None = None
        self.compressed_read = 0

    def read(self) -> bytes:
        if self.eof:
            return b""
        while True:
            raw = self.f.read(self.chunk)
            self.compressed_read += len(raw)
            if not self.gz:
                self.eof = not raw
                return raw
            if not raw:
                self.eof = True
                if not self.z.eof:
                    self.error = f"truncated gzip stream at compressed byte {self.compressed_read}"
                return self.z.flush() if not self.error else b""
            try:
                out = self.z.decompress(raw)
                while self.z.eof and self.z.unused_data:      # concatenated gzip members
                    rest = self.z.unused_data
                    self.z = inflate.decompressobj(wbits=31)
                    out += self.z.decompress(rest)
            except inflate.error as exc:
                self.eof = True
                self.error = f"corrupt gzip data near compressed byte {self.compressed_read}: {exc}"
                return b""
            if out:
                return out

    def close(self) -> None:
        self.f.close()


class _ReadAhead:
    """`_Chunks` inflated one chunk ahead in a thread (warehouse.readahead): zlib and the Numba tuple
    parser both release the GIL. Same interface: read(), eof (True once the last data chunk was
    handed out), error, close()."""

    def __init__(self, chunks: _Chunks):
        self.chunks, self.eof = chunks, False
        self._items = read_ahead(self._chunks())

    def _chunks(self):
        while True:
            data = self.chunks.read()
            yield data, self.chunks.eof
            if not data and self.chunks.eof:
                return

    @property
    def error(self) -> str | None:
        return self.chunks.error

    def read(self) -> bytes:
        if self.eof:
            return b""
        data, self.eof = next(self._items, (b"", True))
        return data

    def close(self) -> None:
        self._items.close()
        self.chunks.close()


class _Table:
    """Column layout and output buffer of the table whose rows are being parsed. Columns come with
    their SQL types (from CREATE TABLE, else the recorder's): a table with foreign columns is still
    parsed, and ingest quarantines its rows with a reason."""

    def __init__(self, name: str, columns: list[tuple[str, str]], buffers: dict):
        self.name, self.columns = name, [c for c, _ in columns]
        self.kinds = np.array([recorder_kind(c, t) for c, t in columns], np.int8)
        # the buffers of the last table of this width: a fresh 180 MB array per table would be
        # paged in (faulted and zeroed by the kernel) again for every table
        self.out, self.line, self.tup = buffers[len(columns)]
        self.n = 0


def read_dump(path: str | Path, batch_rows: int = 500_000, chunk_bytes: int = 8 << 20) -> Iterator[DumpBatch | Rejected]:
    """Every row of a dump, in file order, as batches per table and rejections per bad tuple."""
    path = Path(path)
    src = str(path)
    chunks = _ReadAhead(_Chunks(path, chunk_bytes))
    db = db_from_name(path)
    layouts: dict[str, list[str]] = {}
    buf = b""
    pos = 0
    line = 1
    cur: _Table | None = None
    tuple_no = 0
    stmt_line = 0
    create: list[bytes] | None = None
    buffers: dict[int, tuple] = {}

    def flush():
        nonlocal cur
        if cur is not None and cur.n:
            rows = {c: cur.out[i, :cur.n].copy() for i, c in enumerate(cur.columns)}
            batch = DumpBatch(db, cur.name, rows, cur.line[:cur.n].copy(), cur.tup[:cur.n].copy())
            cur.n = 0
            return batch
        return None

    def refill() -> bool:
        nonlocal buf, pos
        more = chunks.read()
        if not more:
            return False
        buf = buf[pos:] + more
        pos = 0
        return True

    try:
        while True:
            if cur is not None and cur.name is not None and tuple_no >= 0 and stmt_line:
                # inside a VALUES list
                arr = np.frombuffer(buf, np.uint8)
                n0 = cur.n
                new_pos, n, status, a, b, lines = parse_tuples(arr, pos, len(arr), cur.kinds, cur.out, cur.n,
                                                               chunks.eof)
                cur.line[n0:n] = stmt_line
                cur.tup[n0:n] = np.arange(tuple_no, tuple_no + n - n0, dtype=np.int32)
                tuple_no += n - n0
                cur.n = n
                line += lines + (buf.count(b"\n", a, b) if status == ST_BAD else 0)
                pos = new_pos
                if status == ST_FULL:
                    batch = flush()
                    if batch:
                        yield batch
                elif status == ST_BAD:
                    raw = buf[a:b].decode("utf-8", "replace")
                    reason = "truncated statement at end of file" if chunks.eof and b >= len(buf) and \
                        not raw.rstrip().endswith(")") else "malformed tuple"
                    yield Rejected(src, f"line {stmt_line} tuple {tuple_no}", f"{reason} (table {cur.name})", raw[:500])
                    tuple_no += 1
                elif status == ST_STMT_END:
                    stmt_line = 0
                elif status == ST_NEED_MORE:
                    if not refill():
                        rest = buf[pos:].strip()
                        if rest:
                            yield Rejected(src, f"line {stmt_line} tuple {tuple_no}",
                                           f"truncated statement at end of file (table {cur.name})",
                                           rest[:500].decode("utf-8", "replace"))
                        stmt_line = 0
                        break
                continue
            # between statements: look at the next line
            nl = buf.find(b"\n", pos)
            head = buf[pos:pos + HEADER_MAX] if nl < 0 else buf[pos:nl]
            m = _HEADER.match(head) if create is None else None
            if m is None and nl < 0:
                if refill():
                    continue
                head = buf[pos:]
                if not head.strip():
                    break
                m = _HEADER.match(head) if create is None else None
                if m is None:
                    yield from _other_line(head, create, layouts, src, line)
                    break
            if m is not None:
                table = m.group(1).decode()
                cols = [(c.strip().strip("`"), KNOWN_TYPES.get(c.strip().strip("`"), "INT"))
                        for c in m.group(3).decode().split(",")] if m.group(3) else layouts.get(table)
                if cur is not None and cur.name != table:
                    batch = flush()
                    if batch:
                        yield batch
                if cur is None or cur.name != table or (cols and [c for c, _ in cols] != cur.columns):
                    cols = cols or _guess_columns(buf, pos + m.end())
                    if not cols:
                        # no layout at all: every tuple of the statement is quarantined as it is parsed
                        cols = [(f"col{k}", "TEXT") for k in range(1)]
                    if len(cols) not in buffers:
                        buffers[len(cols)] = (np.empty((len(cols), batch_rows), np.int64),
                                              np.empty(batch_rows, np.int64), np.empty(batch_rows, np.int32))
                    cur = _Table(table, cols, buffers)
                stmt_line, tuple_no = line, 0
                pos += m.end()
                continue
            # a whole non-INSERT line
            text = buf[pos:nl]
            if create is not None or _CREATE.match(text):
                create = (create or []) + [text]
                if text.rstrip().endswith(b";"):
                    name, cols = _parse_create(b"\n".join(create))
                    if name:
                        layouts[name] = cols
                    create = None
            else:
                u = _USE.match(text)
                if u:
                    batch = flush()
                    if batch:
                        yield batch
                    db = u.group(1).decode()
            pos = nl + 1
            line += 1
        batch = flush()
        if batch:
            yield batch
        if chunks.error:
            yield Rejected(src, f"after line {line}", chunks.error, "")
    finally:
        chunks.close()


def _other_line(text: bytes, create, layouts, src: str, line: int):
    if create is not None:
        yield Rejected(src, f"line {line}", "truncated CREATE TABLE at end of file", text[:500].decode("utf-8", "replace"))


def _parse_create(text: bytes) -> tuple[str | None, list[tuple[str, str]]]:
    m = _CREATE.match(text)
    if not m:
        return None, []
    return m.group(1).decode(), [(c.decode(), t.decode()) for c, t in _COLDEF.findall(text[m.end():])]


def _guess_columns(buf: bytes, pos: int) -> list[tuple[str, str]] | None:
    """The recorder layout by the arity of the first tuple (no CREATE TABLE for it in the file)."""
    end = buf.find(b")", pos)
    if end < 0:
        return None
    names = default_columns(buf[pos:end].count(b",") + 1)
    return [(c, KNOWN_TYPES[c]) for c in names] if names else None
