"""The one progress display: what it counts from the layers' dicts, and how it shows it."""
import io
import re

from orchestration.progress import Progress


class Log(io.StringIO):
    """A stream that is not a terminal (a CI log)."""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_counts_per_source_and_restarted_counters_add_up():
    p = Progress("ingest", file=Log(), every_s=3600)
    p({"rows": 100, "bytes": 1_000})
    p({"rows": 250, "bytes": 2_500})          # the same counter, further on
    p({"rows": 40, "bytes": 400})             # a new file without a source: the counter restarted
    assert (p.rows, p.bytes) == (290, 2_900)
    p({"source": "a.sql.gz", "rows": 10})
    p({"source": "b.sql.gz", "rows": 7})      # two workers, each its own cumulative count
    p({"source": "a.sql.gz", "rows": 30})
    assert p.rows == 290 + 30 + 7
    p.rows = 1_000                            # the command's own final count wins
    assert p.rows == 1_000


def test_the_eta_follows_bytes_when_the_total_is_known_else_files():
    p = Progress("x", file=Log(), every_s=3600)
    p({"partitions": "3/12"})
    assert (p.files_done, p.files_total, p.fraction()) == (3, 12, 0.25)
    p({"total_bytes": 1_000, "bytes": 500})
    assert p.fraction() == 0.5
    line = p.status()
    assert re.search(r"^x: 3/12 files \| 0 rows \| 0 rows/s \| [\d.]+ MB/s \| 50% ETA \d\d:\d\d$", line), line


def test_plain_lines_off_a_terminal_throttled_and_always_a_final_one():
    log = Log()
    p = Progress("quality", file=log, unit="batches", every_s=3600)
    for i in range(1, 50):
        p({"files_done": i, "files_total": 49, "rows": 10 * i, "source": ""})
    assert log.getvalue() == ""               # within the interval: nothing yet
    p.done()
    assert re.fullmatch(r"quality: 49/49 batches \| 490 rows \| [\d,]+ rows/s \| done in 00:00\n", log.getvalue())
    log = Log()
    p = Progress("quality", file=log, unit="batches", every_s=0)
    p({"files_done": 1, "files_total": 2, "rows": 5})
    p({"files_done": 2, "rows": 9})
    assert log.getvalue().count("\n") == 2 and "\r" not in log.getvalue()


def test_a_terminal_gets_one_tqdm_bar_redrawn_in_place_and_quiet_gets_nothing():
    term = Terminal()
    p = Progress("materialize", file=term, unit="runs", every_s=0)
    p({"files_done": 1, "files_total": 4, "rows": 100})
    p({"files_done": 2, "rows": 200})
    p.done()
    out = term.getvalue()
    assert "\r" in out and "materialize: 2/4 runs | 200 rows" in out and "50% ETA" in out
    assert out.rstrip().endswith("done in 00:00")
    quiet = Terminal()
    q = Progress("materialize", file=quiet, quiet=True, every_s=0)
    q({"files_done": 1, "files_total": 4, "rows": 100})
    q.done()
    assert quiet.getvalue() == ""
