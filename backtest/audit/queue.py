"""queue_fill: every resting LIMIT entry's fills replayed through the run's queue model from the grid,
in plain Python written apart from backtest.kernels.queue (it shares no code with it).

For each limit entry leg: its order reaches the market at the first grid second at or after the
order event + the latency, and is placed at the first real second from there (not padded, a
two-sided book and an LTP). Placed where the other side quotes at or through its limit, it takes
the touch in full. Otherwise the quantity ahead is what the 5 levels show at its price (none shown
there: 0; beyond the 5 levels: unknown until shown). Each later real second, in this order: a book
quoting through the limit or an LTP printed strictly through it (with volume) fills the rest; an LTP
at the limit with volume v takes v off the queue ahead and fills the whole lots of what v leaves
past it (at most v and the rest), the queue then restarting at 0; then the displayed quantity caps
the queue ahead, after (probability model) moving it up by the share of the unexplained shrink that
happened ahead of it. The replay runs to the order's last logged fill or cancel (or the leg's exit
decision) and each second's expected units must equal the logged fill's.
"""
from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pyarrow as pa

from backtest.audit.quotes import _finding
from backtest.audit.series import seconds

EPS = 1e-6


def _behind_share(model: dict, ahead: float, behind: float) -> float:
    """hftbacktest's probability functions (ProbQueueModel) of the share behind the order."""
    ahead, behind = max(ahead, 0.0), max(behind, 0.0)
    func, n = model.get("func", "power"), float(model.get("n", 3.0))
    if func in ("power", "log"):
        f = (lambda x: x ** n) if func == "power" else math.log1p
        num, den = f(behind), f(behind) + f(ahead)
    elif func in ("power2", "log2"):
        f = (lambda x: x ** n) if func == "power2" else math.log1p
        num, den = f(behind), f(behind + ahead)
    else:
        total = ahead + behind
        return 1.0 - (ahead / total) ** n if total > 0 else 1.0
    return num / den if den > 0 else 1.0


def _shown_at(row: dict, buying: bool, price: float) -> float | None:
    """Units shown at `price` on the order's own side; 0 when none rest there; None beyond 5 levels."""
    side = "bid" if buying else "ask"
    levels = [(row[f"{side}_px{k}"], row[f"{side}_qty{k}"]) for k in range(5)]
    for px, qty in levels:
        if px is None:
            return 0.0
        if abs(px - price) < EPS:
            return qty or 0.0
        if (buying and px < price) or (not buying and px > price):
            return 0.0
    return None


def _real(row: dict) -> bool:
    return not row["is_pad"] and row["price"] is not None and row["bid_px0"] is not None and row["ask_px0"] is not None


def replay(rows: list[dict], buying: bool, limit: float, units: float, lot: float, model: dict) -> dict[int, float]:
    """Expected fills {second: units} of a limit order for `units`, `rows` the grid rows from its
    arrival (seconds as `ts_s`), under the queue model of the run's config."""
    prob = model.get("model") == "prob"
    out: dict[int, float] = {}
    ahead: float | None = None
    shown_before: float | None = None
    placed = False
    left = units
    for row in rows:
        if left <= EPS:
            break
        if not _real(row):
            continue
        bid, ask, ltp, vol = row["bid_px0"], row["ask_px0"], row["price"], row["vol_delta"] or 0.0
        crossed = ask <= limit + EPS if buying else bid >= limit - EPS
        shown = _shown_at(row, buying, limit)
        if not placed:
            placed = True
            if crossed:
                out[row["ts_s"]] = left
                break
            ahead = shown_before = shown
            continue
        swept = vol > 0 and (ltp < limit - EPS if buying else ltp > limit + EPS)
        if crossed or swept:
            out[row["ts_s"]] = left
            break
        traded = vol if vol > 0 and abs(ltp - limit) < EPS else 0.0
        if traded and ahead is not None:
            ahead -= traded
            if ahead < 0:
                got = min(math.floor(-ahead / lot + 1e-9) * lot, traded, left)
                if got > 0:
                    out[row["ts_s"]] = got
                    left -= got
                ahead = 0.0
        if shown is not None:
            if ahead is None:
                ahead = shown
            else:
                if prob and shown_before is not None and shown_before - shown - traded > 0:
                    gone = shown_before - shown - traded
                    behind = shown_before - ahead
                    p = _behind_share(model, ahead, behind)
                    ahead = ahead - (1 - p) * gone + min(behind - p * gone, 0.0)
                ahead = max(min(ahead, shown), 0.0)
        shown_before = shown
    return out


def queued_legs(legs: list[dict], events: list[dict], config: dict) -> list[tuple[dict, list[dict]]]:
    """The legs the queue replay checks (limit entries of a run whose queue model is not
    full_fill), each with its events in time order."""
    execution = config.get("execution", {})
    if execution.get("queue", {"model": "full_fill"}).get("model", "full_fill") == "full_fill":
        return []
    limit_legs = {leg["name"] for leg in config.get("legs", []) if (leg.get("order") or {}).get("type") == "limit"}
    by_leg = defaultdict(list)
    for e in events:
        by_leg[(e["trade_id"], e["leg"])].append(e)
    out = []
    for r in legs:
        evs = sorted(by_leg[(r["trade_id"], r["leg"])], key=lambda e: seconds(e["ts"]))
        queued = any(e["event"] == "fill" and e.get("queue_ahead") is not None and e["queue_ahead"] == e["queue_ahead"]
                     for e in evs)
        if r["leg_name"] in limit_legs or queued:
            out.append((r, evs))
    return out


def check_queue(market_rows: GridRows, legs: list[dict], events: list[dict], config: dict) -> list[dict]:
    """queue_fill findings of every limit entry leg of a run whose queue model is not full_fill;
    `market_rows` as grid_rows gives them (only the queued legs' contracts are read)."""
    execution = config.get("execution", {})
    model = execution.get("queue", {"model": "full_fill"})
    latency = float(execution.get("latency", {}).get("seconds", 0))
    out = []
    for r, evs in queued_legs(legs, events, config):
        orders = [e for e in evs if e["event"] == "order" and e["price"] is not None and e["price"] == e["price"]]
        if not orders:
            continue
        fills = {seconds(e["ts"]): float(e["qty"]) for e in evs if e["event"] == "fill" and e.get("qty") is not None}
        done = [seconds(e["ts"]) for e in evs if e["event"] in ("fill", "cancel")]
        cancelled = sum(float(e["qty"]) for e in evs if e["event"] == "cancel" and e.get("qty") is not None)
        if not done:
            continue
        end = max(done)
        if r.get("exit_signal_ts") is not None:
            end = min(end, seconds(r["exit_signal_ts"]))
        start = seconds(orders[0]["ts"]) + latency
        rows = market_rows.window((r["symbol"], r["date"]), start, end)
        want = replay(rows, r["side"] > 0, float(orders[0]["price"]), sum(fills.values()) + cancelled,
                      float(r["lot_size"]), model)
        for t in sorted(set(fills) | set(want)):
            if abs(fills.get(t, 0.0) - want.get(t, 0.0)) > EPS:
                out.append(_finding(r, "queue_fill", "error",
                                    f"fill of {fills.get(t, 0.0):g} units at {t % 86400} s of the day; the queue "
                                    f"replay ({model.get('model')}) expects {want.get(t, 0.0):g}"))
    return out


class GridRows:
    """(symbol, date) -> the grid rows of seconds a..b in time order, each a dict with its wall
    second `ts_s`: only the windows the queued legs replay become Python rows (a whole day of a
    contract is some 22,500 of them, a leg's window a few hundred)."""

    def __init__(self, grid: pa.Table):
        self.grid = grid.combine_chunks()     # take() on many chunks joins them all again on every call
        ts = grid["ts"].cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)
        self.ts_s = ts // 1_000_000       # seconds(): the tz-aware timestamp's epoch second
        self.rows: dict = {}
        if not grid.num_rows:
            return
        codes, values = [], []
        for k in ("symbol", "date"):
            enc = grid[k].combine_chunks().dictionary_encode()
            codes.append(enc.indices.to_numpy(zero_copy_only=False))
            values.append(enc.dictionary.to_pylist())
        # by key, then time; stable (np.lexsort), as sorting each key's rows by ts_s in a list was
        order = np.lexsort((self.ts_s, codes[1], codes[0]))
        sym, day = codes[0][order], codes[1][order]
        starts = np.r_[0, np.flatnonzero((sym[1:] != sym[:-1]) | (day[1:] != day[:-1])) + 1]
        for a, b in zip(starts.tolist(), [*starts[1:].tolist(), len(order)]):
            rows = order[a:b]
            self.rows[(values[0][sym[a]], values[1][day[a]])] = (rows, self.ts_s[rows])

    def window(self, key, a: float, b: float) -> list[dict]:
        if key not in self.rows:
            return []
        order, ts = self.rows[key]
        take = order[int(np.searchsorted(ts, a, "left")):int(np.searchsorted(ts, b, "right"))]
        out = self.grid.take(take).to_pylist()
        for g, t in zip(out, self.ts_s[take].tolist()):
            g["ts_s"] = t
        return out


def grid_rows(grid: pa.Table) -> GridRows:
    """The grid's rows by (symbol, date), read a window at a time (GridRows)."""
    return GridRows(grid)
