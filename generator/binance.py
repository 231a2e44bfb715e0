"""Synthetic BTCUSDT trades in data.binance.vision layouts (aggTrades CSV, one file per UTC day).

Deterministic per (seed, day). The first file has a header and ms times; later files vary the real
variants the readers must handle: no header, µs times.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import numpy as np

from generator.snapshots import FileInfo

HEADER = "agg_trade_id,price,quantity,first_trade_id,last_trade_id,transact_time,is_buyer_maker\n"


def write_binance(out: Path, start: dt.date, days: int, seed: int, trades_per_day: int = 20_000) -> dict[str, FileInfo]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    files = {}
    price, agg_id, trade_id = 100_000.0, 3_000_000_000, 6_000_000_000
    for k in range(days):
        day = start + dt.timedelta(days=k)
        rng = np.random.default_rng([seed, day.toordinal()])
        n = trades_per_day
        t0 = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp() * 1000)
        # bursty arrivals: exponential gaps whose rate switches between calm and busy
        gaps = rng.exponential(np.where(rng.random(n) < 0.2, 0.3, 4.0) * 86_400_000 / n / 1.5)
        times = t0 + np.minimum(np.cumsum(gaps).astype(np.int64), 86_399_999)
        px = np.round(price * np.exp(np.cumsum(rng.normal(0, 0.0002, n))), 1)
        price = float(px[-1])
        qty = np.round(rng.exponential(0.05, n) + 0.001, 3)
        fills = rng.integers(1, 6, n)
        first = trade_id + np.r_[0, np.cumsum(fills)[:-1]]
        trade_id = int(first[-1] + fills[-1])
        maker = rng.random(n) < 0.5
        micro = k % 2 == 1
        lines = [HEADER] if k % 3 == 0 else []
        for i in range(n):
            t = int(times[i]) * 1000 + int(rng.integers(0, 1000)) if micro else int(times[i])
            lines.append(f"{agg_id + i},{px[i]:.1f},{qty[i]:.3f},{first[i]},{first[i] + fills[i] - 1},{t},"
                         f"{'true' if maker[i] else 'false'}\n")
        agg_id += n
        name = f"BTCUSDT-aggTrades-{day.isoformat()}.csv"
        data = "".join(lines).encode()
        (out / name).write_bytes(data)
        files[name] = FileInfo(hashlib.sha256(data).hexdigest(), n)
    return files
