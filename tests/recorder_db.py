"""The recorder's databases as it really runs them, built by hand in a real MariaDB for tests.

Modelled on rthennan/ZerodhaWebsocket (DAS): `dasConfig.json` names the databases aws_das_nse,
aws_das_niftyopt, aws_das_bankopt, aws_das_sensexopt; `DAS_Ticker.py` creates the working table
`<nse db>.dailytable` (instrument_token, tradingsymbol, tablename, dbname, then the 46 tick columns,
UNIQUE(instrument_token, timestamp)) that holds the whole day's ticks until the evening backup;
`DAS_dailyBackup.py` creates `<nse db>.backupsuccesstables` (insertid AUTO_INCREMENT, instrument_token,
tradingsymbol, tablename: no timestamp), copies each instrument's rows into its own table with
`REPLACE INTO` (index tables `(timestamp DATETIME UNIQUE, price DECIMAL(12,2))`, every other
instrument the 46-column layout with `timestamp DATETIME UNIQUE`), and `nifty500Updater.py` names
the stock tables after the NSE symbol with '-' and '&' replaced by '_' (M&M -> M_M), beside NIFTY,
BANKNIFTY, SENSEX and NIFTYFUT, BANKNIFTYFUT, SENSEXFUT. The code is not copied here; only the
layout it produces.
"""
from __future__ import annotations

import datetime as dt

import numpy as np

from ingest.recorder_format import INDEX_COLUMNS, NULL_INT, OPTION_COLUMNS, SCALE, create_table_sql

NSE, NIFTYOPT, BANKOPT, SENSEXOPT = "aws_das_nse", "aws_das_niftyopt", "aws_das_bankopt", "aws_das_sensexopt"

DAILYTABLE_SQL = ("CREATE TABLE IF NOT EXISTS `{db}`.dailytable (instrument_token BIGINT(20), tradingsymbol VARCHAR(100), "
                  "tablename VARCHAR(100), dbname VARCHAR(100), "
                  + ", ".join(f"`{c}` {t}" for c, t in OPTION_COLUMNS)
                  + ", UNIQUE (instrument_token, timestamp), INDEX tablenameindex (tablename))")
BACKUP_SQL = ("CREATE TABLE `{db}`.backupsuccesstables (insertid INT AUTO_INCREMENT PRIMARY KEY, "
              "instrument_token BIGINT(20), tradingsymbol VARCHAR(100), tablename VARCHAR(100))")


def literal(column: str, value: int) -> str:
    if value == NULL_INT:
        return "NULL"
    if column in ("timestamp", "lastTradeTime"):
        return f"'{dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(value)):%Y-%m-%d %H:%M:%S}'"
    scale = SCALE.get(column, 1)
    if scale == 100:
        return f"{value / 100:.2f}"
    if scale > 1:
        return f"{value / scale:.10f}"
    return str(int(value))


def values_sql(rows: dict[str, np.ndarray]) -> str:
    cols = list(rows)
    n = len(rows[cols[0]])
    return ",".join("(" + ",".join(literal(c, int(rows[c][i])) for c in cols) + ")" for i in range(n))


def create_instrument_table(server, db: str, table: str, index: bool = False) -> None:
    server.query(f"create database if not exists `{db}`; use `{db}`; "
                 + create_table_sql(table, INDEX_COLUMNS if index else OPTION_COLUMNS))


def replace_rows(server, db: str, table: str, rows: dict[str, np.ndarray]) -> None:
    """The backup's REPLACE INTO: a second already held (UNIQUE timestamp) is replaced."""
    if len(next(iter(rows.values()))):
        cols = ", ".join(f"`{c}`" for c in rows)
        server.query(f"replace into `{db}`.`{table}` ({cols}) values {values_sql(rows)}")


def index_rows(ts: list[int], price_paise: list[int]) -> dict[str, np.ndarray]:
    return {"timestamp": np.array(ts, np.int64), "price": np.array(price_paise, np.int64)}


def working_tables(server, db: str = NSE) -> None:
    """dailytable with a day of ticks of two instruments, and the backup's bookkeeping table."""
    server.query(f"create database if not exists `{db}`; " + DAILYTABLE_SQL.format(db=db) + "; "
                 + BACKUP_SQL.format(db=db))
    cols = ", ".join(["instrument_token", "tradingsymbol", "tablename", "dbname", "`timestamp`", "price", "volume"])
    server.query(f"insert into `{db}`.dailytable ({cols}) values "
                 f"(256265, 'NIFTY 50', 'NIFTY', '{db}', '2025-11-04 09:15:00', 25000.10, NULL), "
                 f"(13368834, 'NIFTY25NOVFUT', 'NIFTYFUT', '{db}', '2025-11-04 09:15:00', 25100.00, 75)")
    server.query(f"insert into `{db}`.backupsuccesstables (instrument_token, tradingsymbol, tablename) values "
                 "(256265, 'NIFTY 50', 'NIFTY'), (13368834, 'NIFTY25NOVFUT', 'NIFTYFUT')")
