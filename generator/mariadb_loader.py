"""`ticklake generate --formats mariadb --mariadb URL`: load the generated dumps into a real server
statement by statement through PyMySQL (the same text `mariadb < dump` would run)."""
from __future__ import annotations

import gzip
from pathlib import Path

import sqlalchemy as sa

from ingest.mariadb import masked


def statements(path: Path):
    """Complete SQL statements of a dump (our dumps end every statement with ';' at end of line)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    buf: list[bytes] = []
    with opener(path, "rb") as f:
        for line in f:
            if line.startswith(b"--") or not line.strip():
                continue
            buf.append(line)
            if line.rstrip().endswith(b";"):
                yield b"".join(buf).decode()
                buf = []
    if buf:
        raise ValueError(f"{path}: ends inside a statement (generated with --truncated-statement?)")


def load_dump_files(url: str, paths: list[Path]) -> int:
    """Run every statement of the dumps against the server; returns statements executed."""
    engine = sa.create_engine(url)
    n = 0
    try:
        with engine.connect() as con:
            raw = con.connection.dbapi_connection
            cur = raw.cursor()
            for path in paths:
                for stmt in statements(path):
                    cur.execute(stmt)
                    n += 1
            raw.commit()
    except Exception as exc:
        raise RuntimeError(f"loading into {masked(url)}: {exc}") from None
    finally:
        engine.dispose()
    return n
