"""Bad bytes in dumps: a clear error with the file and position, or quarantine; never garbage in the
warehouse, never a silent 0, and an exit code a script can trust (0 ok, 1 unreadable, 3 partial)."""
import gzip
import json
import os
import random
import subprocess
import sys
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from generator.config import GeneratorConfig
from generator.driver import generate
from ingest.pipeline import run_ingest
from ingest.sqldump import DumpBatch, Rejected, read_dump
from warehouse.catalog import connect

OPTIONS = "das_niftyopt_mod.sql.gz"
INDEX = "das_nse_mod.sql.gz"


def tl(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "-q", "--warehouse", str(root), *args],
                          capture_output=True, text=True)


def q(root: Path, sql: str, *params):
    return connect(root).execute(sql, list(params)).fetchall()


@pytest.fixture(scope="module")
def dumps(tmp_path_factory) -> Path:
    """One clean day of NIFTY (no quirks: every row is written)."""
    out = tmp_path_factory.mktemp("dumps")
    generate(GeneratorConfig(out=out, days=1, strikes=1, seed=3, underlyings=("NIFTY",), quirks=False))
    return out / "sqldump"


def manifest_rows(dumps: Path, name: str) -> int:
    return json.loads((dumps.parent / "manifest.json").read_text())["files"][f"sqldump/{name}"]["source_rows"]


def lines_of(stderr: str, path: Path) -> list[str]:
    return [line for line in stderr.splitlines() if str(path) in line]


def partial_offset(line: str) -> int:
    return int(line.split("read only in part at byte ", 1)[1].split(" ", 1)[0].replace(",", ""))


def test_a_flipped_bit_fails_that_source_at_its_offset_and_writes_none_of_its_rows(dumps, tmp_path):
    data = bytearray((dumps / OPTIONS).read_bytes())
    flip = len(data) // 3
    data[flip] ^= 0x10
    bad = tmp_path / OPTIONS
    bad.write_bytes(data)
    r = tl(tmp_path / "w", "ingest", str(dumps / INDEX), str(bad))
    assert r.returncode == 3, r.stderr
    (line,) = lines_of(r.stderr, bad)
    # deflate cannot see the flip before the member's CRC at its end: the whole member is dropped
    assert flip <= partial_offset(line) <= len(data) and line.endswith("; 0 rows kept")
    root = tmp_path / "w"
    assert q(root, "select count(*) from options_ticks")[0][0] == 0
    assert q(root, "select count(*) from spot_ticks")[0][0] == manifest_rows(dumps, INDEX) - \
        q(root, "select count(*) from futures_ticks")[0][0]
    assert q(root, "select source_rows, written, quarantined from ingest_runs where source = ?", str(bad)) == [(1, 0, 1)]
    (reason,) = q(root, "select reason from quarantine where source = ?", str(bad))[0]
    assert "fails its CRC" in reason


def test_four_kilobytes_of_garbage_in_a_gzip_dump_write_no_row_of_it(dumps, tmp_path):
    data = bytearray((dumps / OPTIONS).read_bytes())
    at = len(data) // 2
    data[at:at + 4096] = random.Random(4).randbytes(4096)
    bad = tmp_path / OPTIONS
    bad.write_bytes(data)
    r = tl(tmp_path / "w", "ingest", str(bad))
    assert r.returncode == 3, r.stderr
    (line,) = lines_of(r.stderr, bad)
    assert at <= partial_offset(line) <= len(data) and line.endswith("; 0 rows kept")
    root = tmp_path / "w"
    assert q(root, "select count(*) from options_ticks")[0][0] == 0
    assert q(root, "select sum(source_rows), sum(quarantined) from ingest_runs") == [(1, 1)]


def test_a_damaged_second_gzip_member_keeps_exactly_the_rows_of_the_verified_first(dumps, tmp_path):
    text = gzip.decompress((dumps / OPTIONS).read_bytes())
    cut = text.index(b"\nREPLACE INTO", len(text) // 2) + 1
    first = tmp_path / "first" / "das_niftyopt_mod.sql"
    first.parent.mkdir()
    first.write_bytes(text[:cut])
    second = bytearray(gzip.compress(text[cut:], mtime=0))
    second[len(second) // 2] ^= 0x01
    bad = tmp_path / OPTIONS
    bad.write_bytes(gzip.compress(text[:cut], mtime=0) + bytes(second))
    r = tl(tmp_path / "w", "ingest", str(bad))
    assert r.returncode == 3, r.stderr
    ref = run_ingest([str(first)], tmp_path / "ref")
    (line,) = lines_of(r.stderr, bad)
    assert line.endswith(f"; {ref.totals()['source_rows']:,} rows kept")
    content = "select symbol, ts, price, volume, bid_px0, ask_qty4 from options_ticks order by all"
    assert q(tmp_path / "w", content) == q(tmp_path / "ref", content)


def test_a_truncated_download_exits_3_naming_the_offset_and_the_rows_kept(dumps, tmp_path):
    data = (dumps / OPTIONS).read_bytes()
    cut = tmp_path / OPTIONS
    cut.write_bytes(data[: len(data) // 2])
    # what the cut stream still holds: every tuple that closes, plus the cut one (quarantined)
    text = zlib.decompressobj(wbits=31).decompress(data[: len(data) // 2])
    *whole, last = text.split(b"\n")
    expected = sum(line.count(b"),(") + 1 for line in whole if line.startswith(b"REPLACE INTO"))
    expected += last.count(b"),(") + 1
    r = tl(tmp_path / "w", "ingest", str(cut))
    assert r.returncode == 3, r.stderr
    (line,) = lines_of(r.stderr, cut)
    assert partial_offset(line) == len(data) // 2 and line.endswith(f"; {expected:,} rows kept")
    assert "truncated gzip stream" in line
    root = tmp_path / "w"
    ((rows, written, quarantined),) = q(root, "select sum(source_rows), sum(written), sum(quarantined) from ingest_runs")
    assert (rows, quarantined) == (expected + 1, 2)     # + the stream's own quarantine row
    assert written == expected - 1 == q(root, "select count(*) from options_ticks")[0][0]


def spot_statement(day: str, first_second: int, n: int) -> bytes:
    return b"REPLACE INTO `NIFTY` VALUES " + b",".join(
        b"('%s 09:%02d:%02d',%d.25)" % (day.encode(), 15 + s // 60, s % 60, 25000 + s)
        for s in range(first_second, first_second + n)) + b";\n"


def test_an_unterminated_quote_costs_one_tuple_not_the_rest_of_the_file(tmp_path):
    lines = [spot_statement("2025-11-04", k * 100, 100) for k in range(5)]
    lines[1] = lines[1].replace(b"'2025-11-04 09:16:47'", b"'2025-11-04 09:16:47", 1)   # tuple 7 of line 3
    dump = tmp_path / "das_nse_mod.sql"
    dump.write_bytes(b"USE `das_nse`;\n" + b"".join(lines))
    t = run_ingest([str(dump)], tmp_path / "w").totals()
    assert (t["source_rows"], t["written"], t["quarantined"]) == (500, 499, 1)
    assert q(tmp_path / "w", "select position, reason from quarantine") == [
        ("line 3 tuple 7", "malformed tuple (table NIFTY)")]


def test_one_huge_line_is_quarantined_and_memory_stays_bounded(tmp_path):
    """A 160 MB line without a line break (then an unterminated quote) with the default bound:
    the reader holds at most the bound (64 MB) plus a chunk, not the line (2-3x its length)."""
    dump = tmp_path / "das_nse_mod.sql"
    with open(dump, "wb") as f:
        f.write(b"USE `das_nse`;\n-- ")
        for _ in range(160):
            f.write(b"x" * (1 << 20))
        f.write(b"\nREPLACE INTO `NIFTY` VALUES ('2025-11-04 09:15:00,1.00),('2025-11-04 09:15:01',2.00);\n")
        f.write(spot_statement("2025-11-04", 10, 300))
    code = ("import resource, sys, json; from ingest.sqldump import read_dump, DumpBatch\n"
            "list(read_dump(sys.argv[2]))\n"                       # compiles the parser: not billed
            "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "items = list(read_dump(sys.argv[1]))\n"
            "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
            "print(json.dumps({'grew_mb': (peak - base) / 1024, 'rows': sum(len(i.line) for i in items "
            "if isinstance(i, DumpBatch)), 'rejected': [(i.position, i.reason[:40]) for i in items "
            "if not isinstance(i, DumpBatch)]}))")
    small = tmp_path / "small.sql"
    small.write_bytes(b"USE `das_nse`;\n" + spot_statement("2025-11-04", 0, 5))
    r = subprocess.run([sys.executable, "-c", code, str(dump), str(small)], capture_output=True, text=True,
                       check=True)
    got = json.loads(r.stdout)
    assert got["rows"] == 301
    assert got["rejected"] == [["line 2", "statement longer than 67,108,864 bytes: "],
                               ["line 3 tuple 0", "malformed tuple (table NIFTY)"]]
    print(got["grew_mb"])
    assert got["grew_mb"] < 120, got


def test_non_utf8_bytes_in_names_are_counted_with_their_position_not_a_crash(tmp_path):
    dump = tmp_path / "das_nse_mod.sql"
    dump.write_bytes(b"USE `das_nse`;\n" + spot_statement("2025-11-04", 0, 2)
                     + spot_statement("2025-11-04", 2, 2).replace(b"`NIFTY`", b"`NIF\xfeTY`")
                     + b"REPLACE INTO `NIFTY` (`time\xffstamp`, `price`) VALUES ('2025-11-04 09:15:04',1.00);\n"
                     + b"USE `das_\xffnse`;\n" + spot_statement("2025-11-04", 5, 1))
    t = run_ingest([str(dump)], tmp_path / "w").totals()
    assert (t["source_rows"], t["written"], t["quarantined"]) == (6, 2, 4)
    got = q(tmp_path / "w", "select position, split_part(reason, ':', 1) from quarantine order by 1")
    # NIF\xfeTY is no table name; the column list names a column the recorder does not have; the
    # index table in a database that is not the recorder's is not the index
    assert got == [("line 3 tuple 0", "unknown table"), ("line 3 tuple 1", "unknown table"),
                   ("line 4 tuple 0", "malformed tuple (table NIFTY)"), ("line 6 tuple 0", "unknown table")]
    assert q(tmp_path / "w", "select count(*) from spot_ticks")[0][0] == 2


def parquet_bytes() -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"a": [1, 2, 3]}), sink)
    return sink.getvalue().to_pybytes()


NOT_SQL = {
    "random.sql": lambda: random.Random(1).randbytes(50_000),
    "notes.txt": lambda: b"these are my notes about the recorder\nnot a dump\n",
    "ticks.sql": lambda: b'{"2023-2-20": [{"instrument_token": 1, "last_price": 10.5}]}\n',
    "table.sql": parquet_bytes,
    "empty.sql.gz": lambda: b"",
    "nothing.sql.gz": lambda: gzip.compress(b""),
    "noise.sql.gz": lambda: b"\x1f\x8b" + random.Random(2).randbytes(5000),
    "program.sql": lambda: Path(sys.executable).read_bytes()[:200_000],
}


@pytest.mark.parametrize("name", sorted(NOT_SQL))
def test_a_file_that_is_not_a_dump_exits_1_naming_it_and_the_others_are_ingested(name, dumps, tmp_path):
    bad = tmp_path / name
    bad.write_bytes(NOT_SQL[name]())
    r = tl(tmp_path / "w", "ingest", str(bad), str(dumps / INDEX))
    assert r.returncode == 1, r.stderr
    (line,) = lines_of(r.stderr, bad)
    assert line.startswith(f"ticklake ingest: unreadable: {bad}: ")
    assert q(tmp_path / "w", "select sum(source_rows) from ingest_runs")[0][0] == manifest_rows(dumps, INDEX)
    assert q(tmp_path / "w", "select count(*) from ingest_runs where source = ?", str(bad))[0][0] == 0


def test_table_names_the_grammar_allows_are_routed_or_counted(tmp_path):
    rows = spot_statement("2025-11-04", 0, 2)
    dump = tmp_path / "archive.sql"        # no database in the file name: USE and qualified names tell
    dump.write_bytes(b"USE `das_nse`;\n"
                     + rows.replace(b"REPLACE INTO `NIFTY`", b"replace into NIFTY")
                     + spot_statement("2025-11-04", 2, 2).replace(b"`NIFTY`", b"das_nse.NIFTY")
                     + spot_statement("2025-11-04", 4, 2).replace(b"`NIFTY`", b"`das_nse` . `NIFTY`")
                     + spot_statement("2025-11-04", 6, 2).replace(b"`NIFTY`", b"`x``y`")
                     + spot_statement("2025-11-04", 8, 2).replace(b"`NIFTY`", b"`das_nse`.`BANKNIFTY`")
                     + spot_statement("2025-11-04", 10, 1).replace(b"REPLACE INTO `NIFTY`",
                                                                   b"INSERT IGNORE INTO `das_nse`.`NIFTY`"))
    t = run_ingest([str(dump)], tmp_path / "w").totals()
    assert (t["source_rows"], t["written"], t["quarantined"]) == (11, 9, 2)
    db = tmp_path / "w"
    assert q(db, "select underlying, count(*) from spot_ticks group by all order by 1") == [("BANKNIFTY", 2),
                                                                                           ("NIFTY", 7)]
    assert q(db, "select position, split_part(reason, ':', 1), raw like '{\"timestamp\":%' from quarantine "
                 "order by 1") == [("line 5 tuple 0", "unknown table", True), ("line 5 tuple 1", "unknown table", True)]


def test_a_value_with_more_digits_than_int64_holds_is_quarantined_not_wrapped(tmp_path):
    dump = tmp_path / "das_nse_mod.sql"
    dump.write_bytes(b"USE `das_nse`;\nREPLACE INTO `NIFTY` VALUES ('2025-11-04 09:15:00',25000.25),"
                     b"('2025-11-04 09:15:01',123456789012345678901234.50),('2025-11-04 09:15:02',25001.75);\n")
    t = run_ingest([str(dump)], tmp_path / "w").totals()
    assert (t["written"], t["quarantined"]) == (2, 1)
    assert q(tmp_path / "w", "select price from spot_ticks order by ts") == [(25000.25,), (25001.75,)]


def test_reader_positions_survive_chunk_boundaries_anywhere(tmp_path):
    """The same dump read in chunks of any size gives the same rows and positions."""
    dump = tmp_path / "das_nse_mod.sql"
    lines = [spot_statement("2025-11-04", k * 50, 50) for k in range(8)]
    lines[3] = lines[3].replace(b"'2025-11-04 09:17:35'", b"'2025-11-04 09:17:35", 1)
    dump.write_bytes(b"USE `das_nse`;\n" + b"".join(lines))
    gz = tmp_path / "das_nse_mod.sql.gz"
    gz.write_bytes(gzip.compress(dump.read_bytes(), mtime=0))

    def read(path, chunk):
        items = list(read_dump(path, chunk_bytes=chunk))
        rows = [(int(li), int(t)) for i in items if isinstance(i, DumpBatch) for li, t in zip(i.line, i.tuple_index)]
        return rows, [(i.position, i.reason) for i in items if isinstance(i, Rejected)]

    want = read(dump, 8 << 20)
    assert len(want[0]) == 399 and want[1] == [("line 5 tuple 5", "malformed tuple (table NIFTY)")]
    for chunk in (7, 64, 333, 4096):
        assert read(dump, chunk) == want and read(gz, chunk) == want, chunk
    os.remove(gz)


def test_a_view_of_the_reader_buffer_held_elsewhere_does_not_stop_the_read(tmp_path):
    """The reader drops consumed bytes in place; a live view of its buffer (seen once under load as
    "BufferError: Existing exports of data" in the middle of an ingest) makes it move to a fresh
    buffer instead: the same rows and positions as a read without the view."""
    from ingest.sqldump import DumpReader

    dump = tmp_path / "das_nse_mod.sql"
    dump.write_bytes(b"USE `das_nse`;\n" + b"".join(spot_statement("2025-11-04", k * 50, 50) for k in range(54)))

    def read(hold: bool):
        reader, views, rows = DumpReader(dump, batch_rows=1000, chunk_bytes=4096), [], []
        for item in reader:
            if hold:
                views.append(memoryview(reader.buf))        # kept alive across the next refills
            if isinstance(item, DumpBatch):
                rows += [(int(li), int(t)) for li, t in zip(item.line, item.tuple_index)]
        return rows

    want = read(False)
    assert len(want) == 54 * 50 and read(True) == want            # 09:15:00 .. 09:59:59


def test_the_dump_parsers_fast_decimals_agree_with_the_reference_decoder():
    """The dump parser's own decimal reader (one pass, no branch on the scale per digit) gives the
    values, rounding (half away from zero on the first extra digit) and refusals of the decoder the
    MariaDB wire reader shares, on 20,000 random decimals and the edge cases."""
    import numba as nb
    import numpy as np

    from ingest.sqlscan_nb import _fast_decimal, decimal_text

    @nb.njit
    def both(buf, scale):
        a, b = decimal_text(buf, 0, len(buf), scale), _fast_decimal(buf, 0, len(buf), scale)
        return a[0], a[1], a[2] == 1, b[0], b[1], b[2] == 1

    rng = random.Random(1)
    cases = ["12.5", "12.0", "0.005", "0.00499", "-1.235", "99", "-0", "1.0000000000000000000001", ".5", "-", "7.",
             "123456789012345678", "1234567890123456789", "12.349", "12.345", "1.23456789012345678901234",
             "0000000000000000000000012.5", "-00000000000000000000000000000"]
    for _ in range(20_000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 12)))
        cases.append(("-" if rng.random() < .2 else "") + str(rng.randint(0, 10 ** rng.randint(0, 12)))
                     + ("." + digits if rng.random() < .8 else ""))
    for text in cases:
        for scale in (0, 2, 6):
            ref_v, ref_p, ref_ok, v, p, ok = both(np.frombuffer((text + ",").encode(), np.uint8), scale)
            assert ok == ref_ok and (not ok or (v, p) == (ref_v, ref_p)), (text, scale)
