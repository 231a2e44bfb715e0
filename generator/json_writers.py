"""Older recorder formats: Kite FULL-mode ticks (`DD-MM-YY-<token>-merged-data.txt`, one JSON object
`{"YYYY-M-D": [tick, ...]}` per file) and FlatTrade lines (one JSON object per line, values as
strings, a trailing comma), with the instrument masters that map their tokens to contracts.

Both receive every option row of a day except rows stamped 1970 (a websocket tick always carries the
exchange time). Kite times are UTC with a Z; FlatTrade's `time` is IST 'DD-MM-YYYY HH:MM:SS'.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

import numpy as np

from generator.snapshots import DaySnapshots, FileInfo
from ingest.instruments import kite_symbol, kite_token, shoonya_token, write_masters
from ingest.recorder_format import EPOCH_1970_IST
from warehouse.clock import IST_OFFSET_S



def _utc(wall_s: int) -> str:
    return (dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(wall_s) - IST_OFFSET_S)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _px(v) -> float:
    return round(int(v) / 100, 2)


class _MasterWriter:
    def __init__(self, out: Path):
        self.out = Path(out)
        self.out.mkdir(parents=True, exist_ok=True)
        self.contracts: dict[str, tuple] = {}
        self.files: dict[str, FileInfo] = {}
        self.skipped_1970 = 0

    def _remember(self, t) -> None:
        self.contracts[kite_symbol(t.contract)] = (t.contract, t.lot)

    def _save(self, name: str, data: bytes, rows: int) -> None:
        (self.out / name).write_bytes(data)
        self.files[name] = FileInfo(hashlib.sha256(data).hexdigest(), rows)

    def close(self) -> dict[str, FileInfo]:
        write_masters(self.out, list(self.contracts.values()))
        return dict(self.files)

    def table_rows(self) -> dict[str, int]:
        return {}

    def quirk_counts(self) -> dict[str, int]:
        return {}


class KiteWriter(_MasterWriter):
    def write_day(self, day: DaySnapshots) -> None:
        key = f"{day.date.year}-{day.date.month}-{day.date.day}"
        for t in day.options:
            self._remember(t)
            r = t.rows
            keep = r["timestamp"] != EPOCH_1970_IST
            self.skipped_1970 += int((~keep).sum())
            idx = np.flatnonzero(keep)
            ticks = [self._tick(t, r, i) for i in idx]
            name = f"{day.date:%d-%m-%y}-{kite_token(t.contract)}-merged-data.txt"
            self._save(name, json.dumps({key: ticks}, separators=(",", ":")).encode(), len(ticks))

    @staticmethod
    def _tick(t, r, i) -> dict:
        depth = {side: [{"quantity": int(r[f"{s}q{k}"][i]), "price": _px(r[f"{s}p{k}"][i]), "orders": int(r[f"{s}o{k}"][i])}
                        for k in range(5)] for side, s in (("buy", "b"), ("sell", "s"))}
        return {"instrument_token": kite_token(t.contract), "last_price": _px(r["price"][i]),
                "last_traded_quantity": int(r["qty"][i]), "average_traded_price": _px(r["avgPrice"][i]),
                "volume_traded": int(r["volume"][i]), "total_buy_quantity": int(r["bQty"][i]),
                "total_sell_quantity": int(r["sQty"][i]),
                "ohlc": {"open": _px(r["open"][i]), "high": _px(r["high"][i]), "low": _px(r["low"][i]),
                         "close": _px(r["close"][i])},
                "change": round(int(r["changeper"][i]) / 1e6, 6),
                "last_trade_time": _utc(r["lastTradeTime"][i]) if r["lastTradeTime"][i] > 0 else None,
                "exchange_timestamp": _utc(r["timestamp"][i]), "oi": int(r["oi"][i]),
                "oi_day_high": int(r["oiHigh"][i]), "oi_day_low": int(r["oiLow"][i]), "depth": depth}


class FlatTradeWriter(_MasterWriter):
    def write_day(self, day: DaySnapshots) -> None:
        lines, n = [], 0
        for t in day.options:
            self._remember(t)
            r = t.rows
            tk = str(shoonya_token(t.contract))
            for i in np.flatnonzero(r["timestamp"] != EPOCH_1970_IST):
                rec = {"t": "tf", "e": "NFO", "tk": tk, "lp": f"{_px(r['price'][i]):.2f}", "v": str(int(r["volume"][i]))}
                for k in range(5):
                    rec[f"bp{k + 1}"], rec[f"bq{k + 1}"] = f"{_px(r[f'bp{k}'][i]):.2f}", str(int(r[f"bq{k}"][i]))
                    rec[f"sp{k + 1}"], rec[f"sq{k + 1}"] = f"{_px(r[f'sp{k}'][i]):.2f}", str(int(r[f"sq{k}"][i]))
                stamp = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=int(r["timestamp"][i]))
                rec["time"] = stamp.strftime("%d-%m-%Y %H:%M:%S")
                lines.append(json.dumps(rec, separators=(",", ":")) + ",\n")
                n += 1
        self._save(f"flattrade-{day.underlying}-{day.date.isoformat()}.txt", "".join(lines).encode(), n)
