"""Streaming reader of the recorder's SQL dumps (.sql / .sql.gz): no server, bounded memory.

`DumpReader` inflates fixed-size chunks (gzip is recognised by its magic bytes, not the file name),
walks statements line by line in Python (cheap: a statement holds thousands of rows) and hands
every VALUES list to the Numba tuple parser (ingest.sqlscan_nb), which writes straight into int64
columns. It yields, in file order:

- `DumpBatch`   a run of rows of one table;
- `Rejected`    one tuple or statement that could not be read (malformed, cut at the end of the
                file, longer than `max_statement_bytes`, no readable table name), with its position;
- `Checkpoint`  every item before it was decoded from gzip members whose CRC and length verified;
- `Damage`      the source ends here, before its end (a cut or corrupt gzip stream, or the file ends
                inside a statement): the last item. With `rollback`, the items since the last
                Checkpoint were decoded from a member that failed its check and must not be kept.

What is kept of a damaged gzip file: deflate has no check before a member's CRC at its end, so a
flipped bit decodes into plausible garbage until then. Rows of a member are therefore kept only
once that member's CRC verified; a member that fails takes all its rows with it (a dump written by
`gzip` or `mysqldump | gzip` is one member: the whole source). A stream that is merely cut off
(a truncated download) keeps the rows decoded before the cut: inflate found nothing inconsistent
in them, though no CRC vouches for them either.

A file that is not a SQL dump at all (binary, JSON, Parquet, prose, empty) raises `DumpError`
naming the file. Memory: one chunk, one batch and at most `max_statement_bytes` of one unfinished
piece (a tuple, a non-INSERT statement): an INSERT's tuples are consumed as they are parsed, so its
own length is not limited; a piece longer than the bound is quarantined with its position and
reading resumes at the next line. Every name is read as bytes and decoded with backslash escapes
for bytes that are not UTF-8.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
from isal import isal_zlib as inflate  # zlib's API; Intel ISA-L inflates about 2x faster than zlib

from warehouse.readahead import read_ahead
from ingest.recorder_format import INDEX_COLUMNS, OPTION_COLUMNS
from ingest.route import Skip, table_route
from ingest.sqlscan_nb import (K_DATETIME, K_DEC2, K_DEC10, K_INT, K_SKIP, ST_BAD, ST_FULL, ST_LINE_END, ST_STMT_END,
                               parse_tuples)

KNOWN_TYPES = {c: t for c, t in OPTION_COLUMNS + INDEX_COLUMNS}
DEFAULT_MAX_STATEMENT = 64 << 20   # real statements are ~1 MB (mysqldump) to 16 MB (max_allowed_packet)
GZIP_MAGIC = b"\x1f\x8b"
HEADER_MAX = 1 << 16
SNIFF_BYTES = 1 << 16

# MySQL identifiers: `quoted` (a backtick doubled inside), or bare; optionally qualified db.table
_IDENT = rb"(?:`(?:[^`]|``)+`|[A-Za-z0-9_$\x80-\xff]+)"
_HEADER = re.compile(rb"^[ \t\r]*(?:INSERT|REPLACE)\s+(?:(?:LOW_PRIORITY|DELAYED|HIGH_PRIORITY)\s+)?(?:IGNORE\s+)?"
                     rb"(?:INTO\s+)?(" + _IDENT + rb")(?:\s*\.\s*(" + _IDENT + rb"))?\s*"
                     rb"(?:\(((?:[^)`]|`(?:[^`]|``)*`)*)\))?\s*VALUES?\s*(?=\()", re.I)
_INSERTISH = re.compile(rb"^[ \t\r]*(?:INSERT|REPLACE)\b", re.I)
_VALUES = re.compile(rb"\bVALUES?\s*(?=\()", re.I)
_CREATE = re.compile(rb"^\s*CREATE\s+(?:TEMPORARY\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?(" + _IDENT +
                     rb")(?:\s*\.\s*(" + _IDENT + rb"))?", re.I)
# a column definition begins a line (mariadb-dump) or follows '(' / ',' (a CREATE TABLE on one line)
_COLDEF = re.compile(rb"(?:^|[(,])\s*(" + _IDENT + rb")\s+([A-Za-z]+(?:\([0-9, ]+\))?)", re.M)
_PLAIN = re.compile(r"[A-Za-z0-9_$]{1,64}")
_USE = re.compile(rb"^\s*USE\s+(" + _IDENT + rb")", re.I)
# how a statement of a SQL dump can begin (the first one decides whether the file is a dump at all)
_SQL_START = re.compile(rb"^\s*(?:--|#|/\*|(?:INSERT|REPLACE|CREATE|DROP|USE|SET|LOCK|UNLOCK|ALTER|START|BEGIN|"
                        rb"COMMIT|DELIMITER|TRUNCATE|DELETE|UPDATE|SELECT)\b)", re.I)
_NOT_KEYS = {"PRIMARY", "UNIQUE", "KEY", "INDEX", "CONSTRAINT", "FOREIGN", "FULLTEXT", "SPATIAL", "CHECK"}


@dataclass
class DumpBatch:
    db: str | None
    table: str
    rows: dict[str, np.ndarray]
    line: np.ndarray         # line number of the statement each row came from
    tuple_index: np.ndarray  # index of the row's tuple within its statement
    bytes_read: int = 0      # compressed bytes of the file read so far (progress)


@dataclass
class Rejected:
    source: str
    position: str
    reason: str
    raw: str


@dataclass
class Checkpoint:
    """Every item yielded before this one was decoded from verified gzip members."""
    bytes_read: int


@dataclass
class Damage(Rejected):
    """The source ends here, before its end; the last item of the file."""
    rollback: bool = False   # the items since the last Checkpoint must not be kept
    offset: int = 0          # compressed byte offset of the damage
    counted: bool = True     # a quarantine row of its own (False: the cut tuple's row already says it)


class DumpError(ValueError):
    """A file that is not a SQL dump at all (binary, another format, empty): nothing recognised."""


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


def ident(raw: bytes) -> str:
    """An identifier as written in SQL -> its name (backticks removed, doubled ones undone)."""
    raw = raw.strip()
    if raw.startswith(b"`") and raw.endswith(b"`") and len(raw) >= 2:
        raw = raw[1:-1].replace(b"``", b"`")
    return raw.decode("utf-8", "backslashreplace")


def _text(raw: bytes, n: int = 500) -> str:
    return raw[:n].decode("utf-8", "backslashreplace")


class _Stream:
    """The file's bytes in pieces, inflated when they are gzip; hashes the bytes it reads.

    `read()` -> (data, verified_end): `verified_end` says the piece ends where a gzip member ended
    and verified; a piece never holds output of a member that has not yet been checked after
    output of one that has. A piece is at most `out_max` bytes however well the input compresses.
    On damage, `error` = (kind, compressed offset, message) and the stream ends: 'truncated' (input
    ends inside a member: what was decoded is kept), 'corrupt' (a member failed its check: its
    output must be dropped), 'trailing' (bytes after the last member that are not gzip)."""

    def __init__(self, path: Path, chunk: int, out_max: int | None = None):
        self.path, self.chunk, self.out_max = path, chunk, out_max or 4 * chunk
        self.f = open(path, "rb")
        self.gz = self.f.read(2) == GZIP_MAGIC
        self.f.seek(0)
        self.sha = hashlib.sha256()
        self.compressed_read = 0
        self.eof = False
        self.error: tuple[str, int, str] | None = None
        self.members = 0
        self._z = None                 # the decompressor of the member being read
        self._member_start = 0
        self._input = b""              # compressed bytes not yet inflated, starting at byte _input_at
        self._input_at = 0
        self._more = False             # the decompressor may hold output back: ask before reading on
        self._carry = b""              # 1 byte of a member header cut by the chunk boundary
        self._stash: bytes | None = None

    def read(self) -> tuple[bytes, bool]:
        if self._stash is not None:
            data, self._stash = self._stash, None
            return data, False
        while True:
            if not self._input and not self._more:
                if self.eof:
                    return b"", False
                raw = self.f.read(self.chunk)
                start = self.compressed_read
                self.compressed_read += len(raw)
                self.sha.update(raw)
                if not raw:
                    self.eof = True
                    return self._end()
                if not self.gz:
                    return raw, False
                self._input, self._input_at, self._carry = self._carry + raw, start - len(self._carry), b""
            verified, partial = self._inflate()
            if verified and partial:
                self._stash = partial
            if verified or partial or self.error is not None:
                return (verified, True) if verified else (partial, False)

    def _inflate(self) -> tuple[bytes, bytes]:
        """(output of members that ended and verified, output of the member still open)."""
        done: list[bytes] = []
        size = 0
        while (self._input or self._more) and size < self.out_max:
            if self._z is None:                                   # a member starts here
                data = self._input
                if len(data) < 2:
                    self._carry, self._input = data, b""
                    break
                if data[:2] != GZIP_MAGIC:
                    if data.strip(b"\0"):
                        self._fail("trailing", self._input_at, f"bytes after the last gzip member at compressed byte "
                                                               f"{self._input_at:,} are not gzip data")
                    self._input_at, self._input = self._input_at + len(data), b""   # zero padding is fine
                    break
                self._z, self._member_start = inflate.decompressobj(wbits=31), self._input_at
            want = self.out_max - size
            try:
                out = self._z.decompress(self._input, want)
            except inflate.error as exc:
                self._input, self._more = b"", False
                self._corrupt(exc)
                return b"".join(done), b""
            self._more = len(out) == want
            if self._z.eof:
                rest = self._z.unused_data
                self._input_at, self._input = self._input_at + len(self._input) - len(rest), rest
                self._z, self._more = None, False
                self.members += 1
                done.append(out)
                size += len(out)
                continue
            tail = self._z.unconsumed_tail
            self._input_at, self._input = self._input_at + len(self._input) - len(tail), tail
            return b"".join(done), out
        return b"".join(done), b""

    def _end(self) -> tuple[bytes, bool]:
        if self.gz and self._z is not None:                       # input ends inside a member
            try:
                rest = self._z.flush()
            except inflate.error:
                rest = b""
            self._fail("truncated", self.compressed_read,
                       f"truncated gzip stream at compressed byte {self.compressed_read:,} "
                       f"(the input ends inside the member starting at byte {self._member_start:,})")
            return rest, False
        if self._carry:
            self._fail("trailing", self.compressed_read - 1, "1 byte after the last gzip member is not gzip data")
        return b"", False

    def _corrupt(self, exc: Exception) -> None:
        where = self._locate_error()
        check = "check" in str(exc).lower()
        what = (f"gzip member starting at compressed byte {self._member_start:,} fails its CRC/length check "
                f"at byte {where:,} (the damage is somewhere inside it)" if check else
                f"corrupt gzip data at compressed byte {where:,} (member starting at byte {self._member_start:,})")
        self._fail("corrupt", where, f"{what}: {exc}")

    def _locate_error(self, step: int = 16384) -> int:
        """The compressed offset (to `step` bytes) where inflating the failed member fails, found by
        inflating it again from its start in small steps (only ever done once, on damage)."""
        z = inflate.decompressobj(wbits=31)
        with open(self.path, "rb") as f:
            f.seek(self._member_start)
            at = self._member_start
            while at < self.compressed_read:
                piece = f.read(min(step, self.compressed_read - at))
                if not piece:
                    break
                try:
                    while piece and not z.eof:
                        z.decompress(piece, self.out_max)
                        piece = z.unconsumed_tail
                except inflate.error:
                    return min(at + step, self.compressed_read)
                at += step
                if z.eof:
                    break
        return min(at, self.compressed_read)

    def _fail(self, kind: str, offset: int, message: str) -> None:
        self.error = (kind, offset, message)
        self.eof = True

    def finish_hash(self) -> str:
        """SHA-256 of the whole file (the bytes not read because of damage are read now)."""
        while block := self.f.read(8 << 20):
            self.sha.update(block)
        return self.sha.hexdigest()

    def close(self) -> None:
        self.f.close()


class _Table:
    """Column layout and output buffer of the table whose rows are being parsed. Columns come with
    their SQL types (from CREATE TABLE, else the recorder's): a table with foreign columns is still
    parsed, and ingest quarantines its rows with a reason."""

    def __init__(self, db: str | None, name: str, columns: list[tuple[str, str]], buffers: dict,
                 skip: bool = False):
        self.db, self.name, self.columns = db, name, [c for c, _ in columns]
        self.kinds = np.array([recorder_kind(c, t) for c, t in columns], np.int8)
        if skip:
            # no instrument data (the recorder's working tables, foreign columns): ingest counts and
            # lists its rows as skipped, so they are only counted here, never decoded or quarantined
            self.kinds[:] = K_SKIP
        # the buffers of the last table of this width: a fresh 180 MB array per table would be
        # paged in (faulted and zeroed by the kernel) again for every table
        self.out, self.line, self.tup = buffers[len(columns)]
        self.n = 0


Item = DumpBatch | Rejected | Checkpoint


class DumpReader:
    """Every row of one dump, in file order (see the module docstring). Iterate once.

    State: the decompressed buffer `buf` and the parse position `pos` in it, the current `line`,
    the table being filled (`cur`) and, inside an INSERT, the statement's first line (`stmt_line`,
    0 between statements) and tuple counter; CREATE TABLE layouts seen so far, the current
    database (`USE`), the number of statements recognised."""

    def __init__(self, path: str | Path, batch_rows: int = 500_000, chunk_bytes: int = 8 << 20,
                 max_statement_bytes: int = DEFAULT_MAX_STATEMENT):
        self.path = Path(path)
        self.src = str(path)
        self.batch_rows, self.chunk_bytes, self.max_statement = batch_rows, chunk_bytes, max_statement_bytes
        self.db = db_from_name(self.path)
        self.layouts: dict[str, list[tuple[str, str]]] = {}
        self.buffers: dict[int, tuple] = {}
        self.buf = bytearray()              # decompressed bytes not yet consumed start at `pos`
        self.pos = 0
        self.line = 1
        self.cur: _Table | None = None
        self.stmt_line = 0
        self.tuple_no = 0
        self.create: list[bytes] | None = None
        self.statements = 0
        self._open_insert = False           # the last INSERT ended at a line that was not a tuple
        self.final = False                  # the buffer holds the last bytes of the file
        self._stream: _Stream | None = None
        self._pieces = None
        self._verified_tail = False         # the last piece appended ended a verified member
        self._checkpoint_due = False
        self.sha256: str | None = None      # of the file's bytes, once iterated

    # -- input -------------------------------------------------------------------------------
    def _refill(self) -> bool:
        """Append the next piece to the unconsumed rest of the buffer; False at the end."""
        if self.final:
            return False
        if self._verified_tail:
            self._checkpoint_due, self._verified_tail = True, False
        data, verified, self.final = next(self._pieces, (b"", False, True))
        if not data:
            self.final = True
            return False
        self._drop_consumed()
        self.buf += data
        self.pos = 0
        self._verified_tail = verified
        return True

    def _drop_consumed(self) -> None:
        """Forget the consumed bytes before `pos`: in place (O(1), no copy) unless a view of the
        buffer is still alive somewhere (bytearray then refuses to resize: "Existing exports of
        data", seen under load); the holder keeps the old buffer then, and reading goes on in a
        fresh one."""
        try:
            del self.buf[:self.pos]
        except BufferError:
            self.buf = bytearray(memoryview(self.buf)[self.pos:])
        self.pos = 0

    def _produce(self) -> Iterator[tuple[bytes, bool, bool]]:
        s = self._stream
        while True:
            data, verified = s.read()
            yield data, verified, s.eof and s._stash is None
            if not data and s.eof:
                return

    @property
    def bytes_read(self) -> int:
        return self._stream.compressed_read if self._stream else 0

    # -- output ------------------------------------------------------------------------------
    def _flush(self) -> DumpBatch | None:
        cur = self.cur
        if cur is None or not cur.n:
            return None
        rows = {c: cur.out[i, :cur.n].copy() for i, c in enumerate(cur.columns)}
        batch = DumpBatch(cur.db, cur.name, rows, cur.line[:cur.n].copy(), cur.tup[:cur.n].copy(), self.bytes_read)
        cur.n = 0
        return batch

    def _flushed(self) -> Iterator[Item]:
        batch = self._flush()
        if batch:
            yield batch

    def _reject(self, reason: str, raw: bytes, position: str | None = None) -> Rejected:
        return Rejected(self.src, position or f"line {self.line}", reason, _text(raw))

    # -- the walk ----------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Item]:
        self._stream = _Stream(self.path, self.chunk_bytes)
        # the next piece is inflated in a thread while this one is parsed (both release the GIL)
        self._pieces = read_ahead(self._produce())
        try:
            yield from self._walk()
        finally:
            self._pieces.close()
            self.sha256 = self._stream.finish_hash()
            self._stream.close()

    def _walk(self) -> Iterator[Item]:
        if not self._refill():
            err = self._stream.error
            raise DumpError(f"{self.src}: {err[2] if err else 'empty file'}: nothing to read")
        while len(self.buf) < SNIFF_BYTES and self._refill():
            pass
        self._sniff()
        while True:
            if self._checkpoint_due:
                self._checkpoint_due = False
                yield from self._flushed()
                yield Checkpoint(self.bytes_read)
            step = self._values() if self.stmt_line else self._between()
            if (yield from step):
                break
        yield from self._flushed()
        if not self.statements:
            raise DumpError(f"{self.src}: no SQL statement in the file: not a SQL dump")
        err = self._stream.error
        if err:
            kind, offset, message = err
            yield Damage(self.src, f"after line {self.line}", message, "",
                         rollback=kind == "corrupt", offset=offset, counted=kind != "cut")

    def _sniff(self) -> None:
        """Refuse a file that is not SQL text before reading any further."""
        head = self.buf[:SNIFF_BYTES]
        if head.startswith(b"\xef\xbb\xbf"):
            self.pos = 3
            head = head[3:]
        what = "gzip" if self._stream.gz else "file"
        if b"\0" in head:
            raise DumpError(f"{self.src}: binary data, not a SQL dump ({what} starts with {bytes(head[:16])!r})")
        first = head.lstrip()
        if first and not _SQL_START.match(first):
            start = _text(first.split(b"\n", 1)[0], 60)
            raise DumpError(f"{self.src}: not a SQL dump: the {what} starts with {start!r}")

    def _values(self) -> Iterator[Item]:
        """Parse tuples of the current INSERT until it ends, the buffer runs out or a tuple is bad.
        Returns True at the end of the file."""
        cur = self.cur
        arr = np.frombuffer(self.buf, np.uint8)
        n0 = cur.n
        new_pos, n, status, a, b, lines = parse_tuples(arr, self.pos, len(arr), cur.kinds, cur.out, cur.n,
                                                       self.final)
        cur.line[n0:n] = self.stmt_line
        cur.tup[n0:n] = np.arange(self.tuple_no, self.tuple_no + n - n0, dtype=np.int32)
        self.tuple_no += n - n0
        cur.n = n
        del arr                             # a live export would keep the buffer from growing
        self.line += lines + (self.buf.count(b"\n", a, b) if status == ST_BAD else 0)
        self.pos = new_pos
        where = f"line {self.stmt_line} tuple {self.tuple_no}"
        if status == ST_FULL:
            yield from self._flushed()
        elif status == ST_BAD:
            cut = self.final and b >= len(self.buf) and not self.buf[a:b].rstrip().endswith(b")")
            reason = "truncated statement at end of file" if cut else "malformed tuple"
            yield self._reject(f"{reason} (table {cur.name})", self.buf[a:b], where)
            self.tuple_no += 1
            if cut:
                self._mark_cut()
        elif status == ST_STMT_END:
            self.stmt_line = 0
        elif status == ST_LINE_END:            # no ';': the next line is read as a statement of its own
            self.stmt_line = 0
            self._open_insert = True
        elif len(self.buf) - self.pos > self.max_statement:       # ST_NEED_MORE inside one huge tuple
            yield self._reject(f"tuple longer than {self.max_statement:,} bytes (table {cur.name}): "
                               "skipped to the next line", self.buf[self.pos:self.pos + 500], where)
            self.tuple_no += 1
            self._skip_line()
        elif not self._refill():
            rest = self.buf[self.pos:].strip()
            self.stmt_line = 0
            if rest:
                yield self._reject(f"truncated statement at end of file (table {cur.name})", rest, where)
                self._mark_cut()
            return True
        return False

    def _mark_cut(self) -> None:
        """The file ends inside a statement: it was cut (unless a gzip error says more)."""
        if self._stream.error is None:
            self._stream.error = ("cut", self._stream.compressed_read,
                                  f"the file ends inside a statement (line {self.stmt_line or self.line}): "
                                  "it was cut off")

    def _between(self) -> Iterator[Item]:
        """One line between statements: an INSERT header, CREATE TABLE, USE, or anything else.
        Returns True at the end of the file."""
        while True:
            head = self.buf[self.pos:self.pos + HEADER_MAX]
            if self.create is None and _INSERTISH.match(head):
                m = _HEADER.match(head)
                if m is None and len(head) < HEADER_MAX and not self.final and self._refill():
                    continue                    # the header may continue in the next piece
                nl = -1 if m is not None else head.find(b"\n")   # (an INSERT line is long: not scanned)
                yield from self._start_insert(head, m, nl if nl >= 0 else len(head))
                return False
            nl = self.buf.find(b"\n", self.pos)
            if nl < 0 and not self.final:
                if len(self.buf) - self.pos > self.max_statement:
                    self.statements += 1
                    yield self._reject(f"statement longer than {self.max_statement:,} bytes: skipped to the "
                                       "next line", head)
                    self._skip_line()
                    return False
                if self._refill():
                    continue
            end = nl if nl >= 0 else len(self.buf)
            text = self.buf[self.pos:end]
            if nl < 0 and not text.strip():
                return True
            yield from self._other_line(text, last=nl < 0)
            self.pos = end + 1
            self.line += 1
            return nl < 0

    def _start_insert(self, head: bytes, m: re.Match | None, line_len: int) -> Iterator[Item]:
        self.statements += 1
        self._open_insert = False
        if m is not None:
            db = ident(m.group(1)) if m.group(2) else self.db
            table = ident(m.group(2) or m.group(1))
            cols = [(ident(c), KNOWN_TYPES.get(ident(c), "INT")) for c in _split_columns(m.group(3))] \
                if m.group(3) is not None else self.layouts.get(table)
            start = m.end()
        else:
            v = _VALUES.search(head[:line_len])
            if v is None:                       # INSERT ... SELECT / SET: no rows of its own to count
                yield self._reject("INSERT statement without a VALUES list: not read", head[:line_len])
                self._skip_line()
                return
            # a table name the grammar does not allow: its tuples are counted and quarantined
            db, table, cols, start = self.db, f"? {_text(head[:v.start()].strip(), 120)}", None, v.end()
        if cols is None:                        # no CREATE TABLE, no column list: by the first tuple's arity
            while self.buf.find(b"\n", self.pos + start) < 0 and self.buf.find(b")", self.pos + start) < 0 \
                    and len(self.buf) - self.pos < HEADER_MAX and self._refill():
                pass
            # no layout at all: every tuple of the statement is quarantined as it is parsed
            cols = _guess_columns(self.buf, self.pos + start) or [("col0", "TEXT")]
        if self.cur is not None and (self.cur.name != table or self.cur.db != db):
            yield from self._flushed()
        if self.cur is None or self.cur.name != table or self.cur.db != db or \
                [c for c, _ in cols] != self.cur.columns:
            if len(cols) not in self.buffers:
                self.buffers[len(cols)] = (np.empty((len(cols), self.batch_rows), np.int64),
                                           np.empty(self.batch_rows, np.int64), np.empty(self.batch_rows, np.int32))
            self.cur = _Table(db, table, cols, self.buffers, self._skipped(db, table, cols))
        self.stmt_line, self.tuple_no = self.line, 0
        self.line += head.count(b"\n", 0, start)          # `VALUES` may end its line
        self.pos += start

    def _skipped(self, db: str | None, table: str, cols: list[tuple[str, str]]) -> bool:
        """A table that holds no instrument data (ingest.route.Skip). A column list with a name that
        is no plain identifier (undecodable bytes), or one that does not fit a table CREATEd with the
        recorder's columns, is damage, not such a table: its tuples are parsed, and quarantined."""
        names = [c for c, _ in cols]
        if not all(_PLAIN.fullmatch(c) for c in names) or not isinstance(table_route(db, table, names), Skip):
            return False
        created = self.layouts.get(table)
        return created is None or isinstance(table_route(db, table, [c for c, _ in created]), Skip)

    def _other_line(self, text: bytes, last: bool) -> Iterator[Item]:
        open_insert, self._open_insert = self._open_insert, False
        if self.create is not None or _CREATE.match(text):
            self.create = (self.create or []) + [text]
            size = sum(len(t) for t in self.create)
            if text.rstrip().endswith(b";"):
                self.statements += 1
                name, cols = _parse_create(b"\n".join(self.create))
                if name:
                    self.layouts[name] = cols
                self.create = None
            elif size > self.max_statement:
                yield self._reject(f"CREATE TABLE longer than {self.max_statement:,} bytes: not read", self.create[0])
                self.create = None
            elif last:
                yield self._reject("truncated CREATE TABLE at end of file", self.create[0])
                self.create = None
            return
        if _SQL_START.match(text):
            self.statements += 1
        elif open_insert and text.strip():
            # what follows an INSERT that ended without ';' and is neither a tuple nor a statement
            yield self._reject("line inside an INSERT statement that is neither a tuple nor a statement", text)
        u = _USE.match(text)
        if u:
            yield from self._flushed()
            self.db = ident(u.group(1))

    def _skip_line(self) -> None:
        """Drop the bytes up to and including the next newline, reading on without keeping them."""
        while True:
            nl = self.buf.find(b"\n", self.pos)
            if nl >= 0:
                self.pos = nl + 1
                self.line += 1
                break
            self.pos = len(self.buf)
            self._drop_consumed()
            if not self._refill():
                break
        self.stmt_line = 0


def read_dump(path: str | Path, batch_rows: int = 500_000, chunk_bytes: int = 8 << 20,
              max_statement_bytes: int = DEFAULT_MAX_STATEMENT) -> Iterator[Item]:
    """Every row of a dump, in file order, as batches per table and rejections per bad tuple."""
    return iter(DumpReader(path, batch_rows, chunk_bytes, max_statement_bytes))


def _split_columns(text: bytes) -> list[bytes]:
    """The names of a column list `a`, `b``c`, d (commas inside backticks are part of a name)."""
    return [c for c in re.findall(rb"`(?:[^`]|``)*`|[^,\s]+", text)]


def _parse_create(text: bytes) -> tuple[str | None, list[tuple[str, str]]]:
    m = _CREATE.match(text)
    if not m:
        return None, []
    name = ident(m.group(2) or m.group(1))
    cols = [(ident(c), t.decode("ascii", "replace")) for c, t in _COLDEF.findall(text[m.end():])]
    return name, [(c, t) for c, t in cols if c.upper() not in _NOT_KEYS]


def _guess_columns(buf: bytes, pos: int) -> list[tuple[str, str]] | None:
    """The recorder layout by the arity of the first tuple (no CREATE TABLE for it in the file)."""
    end = buf.find(b")", pos)
    nl = buf.find(b"\n", pos)
    if end < 0 or 0 <= nl < end:
        return None
    names = default_columns(buf[pos:end].count(b",") + 1)
    return [(c, KNOWN_TYPES[c]) for c in names] if names else None
