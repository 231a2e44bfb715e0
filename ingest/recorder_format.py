"""The recorder's MariaDB layout (DAS): database names, column order and DDL.

Single source of truth for the 46-column option/futures table and the 2-column index table, used by
the generator's writers, the dump parser and the live-MariaDB reader.
"""
from __future__ import annotations

import re

OPTION_DBS = {"BANKNIFTY": "das_bankopt", "NIFTY": "das_niftyopt"}
NSE_DB = "das_nse"
# The recorder's shipped dasConfig.json names its databases aws_das_nse, aws_das_niftyopt,
# aws_das_bankopt, aws_das_sensexopt (rthennan/ZerodhaWebsocket); older setups used das_*.
RECORDER_DB = re.compile(r"^(?:aws_)?das_[a-z0-9_]+$")
_DB_ROLES = {"nse": ("nse", None), "niftyopt": ("options", "NIFTY"), "bankopt": ("options", "BANKNIFTY"),
             "sensexopt": ("options", "SENSEX")}
# Tables the recorder keeps beside its instrument tables in the nse database: the day's ticks of
# every instrument until the evening backup, and the backup's bookkeeping (DAS_Ticker.py,
# DAS_dailyBackup.py). Never instrument data.
WORKING_TABLES = ("dailytable", "backupsuccesstables")


def db_role(db: str | None) -> tuple[str, str | None]:
    """What a recorder database holds: ("nse", None) for indices, futures and stocks; ("options",
    UNDERLYING) for one underlying's option contracts; ("any", None) when the database is unknown
    (a dump without USE, a JSON source): tables are then told apart by name and columns alone."""
    if db is None:
        return "any", None
    m = re.match(r"^(?:aws_)?das_(.+)$", db)
    return _DB_ROLES.get(m.group(1), ("any", None)) if m else ("any", None)

DUMP_FILES = {db: f"{db}_mod.sql.gz" for db in (*OPTION_DBS.values(), NSE_DB)}

_D2 = "DECIMAL(19,2)"
_U = "INT UNSIGNED"
# (column, SQL type) in the recorder's order: 16 quote columns, then 5 bid levels, then 5 ask levels.
OPTION_COLUMNS: tuple[tuple[str, str], ...] = (
    ("timestamp", "DATETIME"), ("price", _D2), ("qty", _U), ("avgPrice", _D2), ("volume", "BIGINT"),
    ("bQty", _U), ("sQty", _U), ("open", _D2), ("high", _D2), ("low", _D2), ("close", _D2),
    ("changeper", "DECIMAL(60,10)"), ("lastTradeTime", "DATETIME"), ("oi", "INT"), ("oiHigh", "INT"),
    ("oiLow", "INT"),
    *((c, t) for k in range(5) for c, t in ((f"bq{k}", _U), (f"bp{k}", _D2), (f"bo{k}", _U))),
    *((c, t) for k in range(5) for c, t in ((f"sq{k}", _U), (f"sp{k}", _D2), (f"so{k}", _U))),
)
OPTION_COLUMN_NAMES = tuple(c for c, _ in OPTION_COLUMNS)
INDEX_COLUMNS: tuple[tuple[str, str], ...] = (("timestamp", "DATETIME"), ("price", "DECIMAL(12,2)"))
assert len(OPTION_COLUMNS) == 46


def create_table_sql(table: str, columns: tuple[tuple[str, str], ...]) -> str:
    """The recorder's CREATE TABLE: every column nullable, UNIQUE(timestamp)."""
    cols = ",\n".join(f"  `{c}` {t} DEFAULT NULL" for c, t in columns)
    return (f"CREATE TABLE `{table}` (\n{cols},\n  UNIQUE KEY `timestamp` (`timestamp`)\n)"
            " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;")


# In-memory form of recorder rows shared by the generator writers and the dump/MariaDB readers:
# a dict column-name -> int64 numpy array, every value an exact integer in the column's unit below
# (DECIMAL(19,2) in paise, changeper in 1e-6 percent, DATETIME as seconds since 1970-01-01 00:00 of
# the naive IST wall time, so the recorder's bogus '1970-01-01 05:30:00' is 19800). SQL NULL is
# represented by NULL_INT; the recorder writes 0 for an empty depth level, which stays 0 here.
NULL_INT = -(2**63)
EPOCH_1970_IST = 19800      # '1970-01-01 05:30:00': the recorder's clock-glitch stamp (epoch 0 in IST)
SCALE = {c: (100 if t.startswith("DECIMAL(19,2)") or t.startswith("DECIMAL(12,2)") else
             10**6 if t.startswith("DECIMAL(60,10)") else 1)
         for c, t in OPTION_COLUMNS + INDEX_COLUMNS}
DATETIME_COLUMNS = ("timestamp", "lastTradeTime")
