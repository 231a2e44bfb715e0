"""Crypto trades (Binance CSV): small daily files, parsed and written in one step, no pending area."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from ingest.binance import dedupe_sort, parse_bytes, symbol_of
from ingest.finalize import ingest_code_version, record
from ingest.stage import StageResult
from warehouse import schema as S
from warehouse.files import sha256_file
from warehouse.writer import PartitionManifest, read_partition, write_partition


def ingest_crypto(path: Path, root: Path, run_id: str) -> StageResult:
    """One Binance CSV into ticks/crypto/symbol=S/date=D, merged with what is there (trade id wins)."""
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.timezone.utc)
    symbol = symbol_of(path)
    read = parse_bytes(path.read_bytes(), symbol, str(path))   # an unknown layout raises, naming the file
    sha = sha256_file(path)
    runs = []
    dates = sorted(set(read.table["date"].to_pylist()))
    for day in dates:
        new = read.table.filter(pc.equal(read.table["date"], pa.scalar(day, pa.date32())))
        keys = {"symbol": symbol, "date": day}
        fresh, dup_new = dedupe_sort(new)        # a trade id twice in the file: the last line wins
        old = read_partition(root, "crypto", keys)
        # a re-ingested trade replaces the stored one (same market, layout and id: fresh rows come last)
        merged, _ = dedupe_sort(pa.concat_tables([old, fresh], promote_options="default") if old is not None else fresh)
        manifest = PartitionManifest("crypto", {"symbol": symbol, "date": day.isoformat()}, 0, run_id,
                                     ingest_code_version(), [{"source": str(path), "sha256": sha}])
        write_partition(root, "crypto", keys, merged, S.CRYPTO_TRADES, manifest)
        runs.append({"run_id": run_id, "source": str(path), "target": "crypto", "partition": f"{symbol}/{day}",
                     "source_rows": new.num_rows, "written": fresh.num_rows, "deduped": dup_new,
                     "quarantined": 0, "repaired": 0})
    if read.rejected:
        runs.append({"run_id": run_id, "source": str(path), "target": "crypto", "partition": f"{symbol}/unplaced",
                     "source_rows": len(read.rejected), "written": 0, "deduped": 0,
                     "quarantined": len(read.rejected), "repaired": 0})
    q = pa.Table.from_pylist([{"source": str(path), "position": f"line {no}", "reason": why, "raw": raw}
                              for no, why, raw in read.rejected]) if read.rejected else None
    record(root, ("crypto", symbol, None), runs, [q], started)
    return StageResult(str(path), run_id, [], read.lines, path.stat().st_size, time.perf_counter() - t0,
                       {"runs": runs})
