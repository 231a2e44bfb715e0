"""Matplotlib figures as PNG bytes (pure: arrays in, bytes out; the Agg backend, no display)."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, metadata={"Software": None})   # no version stamp: same bytes each run
    _plt().close(fig)
    return buf.getvalue()


def equity_png(curves: dict[str, tuple[list, np.ndarray]]) -> bytes:
    """Cumulative net P&L per trade exit, and its drawdown below the running peak, one line per run."""
    plt = _plt()
    fig, (eq, dd) = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, gridspec_kw={"height_ratios": [2, 1]})
    for label, (x, cum) in curves.items():
        eq.plot(x, cum, lw=1.2, label=label, drawstyle="steps-post")
        dd.fill_between(x, cum - np.maximum.accumulate(np.r_[0.0, cum])[1:], 0, step="post", alpha=0.35, label=label)
    eq.axhline(0, color="grey", lw=0.6)
    eq.set_ylabel("net P&L (Rs)")
    eq.set_title("Equity curve (after fees)")
    dd.set_ylabel("drawdown (Rs)")
    if len(curves) > 1:
        eq.legend(fontsize=8)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)


def bars_png(labels: list[str], values: list[float], title: str, xlabel: str) -> bytes:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3.2))
    v = np.asarray(values, dtype=float)
    ax.bar(range(len(v)), v, color=np.where(v >= 0, "#2e7d32", "#c62828"))
    ax.set_xticks(range(len(v)), labels, rotation=45 if len(v) > 12 else 0, fontsize=8)
    ax.axhline(0, color="grey", lw=0.6)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("net P&L (Rs)")
    fig.tight_layout()
    return _png(fig)


@dataclass
class LegPath:
    """One leg's market around the trade, and the trade's own levels (all arrays per second)."""
    title: str
    ts: np.ndarray                 # datetime64
    ltp: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    is_pad: np.ndarray
    stop: np.ndarray               # level in force each second (NaN = none)
    target: np.ndarray
    entry: tuple                   # (ts, price)
    exit: tuple


def _pad_spans(ts: np.ndarray, is_pad: np.ndarray):
    """(start, end) of each run of padded seconds."""
    edges = np.flatnonzero(np.diff(np.r_[0, is_pad.astype(np.int8), 0]))
    return [(ts[a], ts[min(b, len(ts) - 1)]) for a, b in zip(edges[::2], edges[1::2])]


def trade_png(legs: list[LegPath]) -> bytes:
    plt = _plt()
    fig, axes = plt.subplots(len(legs), 1, figsize=(11, 3.6 * len(legs)), squeeze=False)
    for ax, leg in zip(axes[:, 0], legs):
        ax.fill_between(leg.ts, leg.bid, leg.ask, step="post", color="#90caf9", alpha=0.5, label="bid/ask")
        ax.plot(leg.ts, leg.ltp, color="black", lw=0.8, drawstyle="steps-post", label="LTP")
        for k, (a, b) in enumerate(_pad_spans(leg.ts, leg.is_pad)):
            ax.axvspan(a, b, color="grey", alpha=0.25, label="padded" if k == 0 else None)
        ax.plot(leg.ts, leg.stop, color="#c62828", lw=1.0, drawstyle="steps-post", label="stop")
        ax.plot(leg.ts, leg.target, color="#2e7d32", lw=1.0, ls="--", drawstyle="steps-post", label="target")
        ax.scatter([leg.entry[0]], [leg.entry[1]], marker="^", s=80, color="#1565c0", zorder=5, label="entry")
        ax.scatter([leg.exit[0]], [leg.exit[1]], marker="v", s=80, color="#e65100", zorder=5, label="exit")
        ax.set_title(leg.title, fontsize=10)
        ax.set_ylabel("premium (Rs)")
        ax.legend(fontsize=7, loc="upper left", ncol=4)
    fig.autofmt_xdate()
    fig.tight_layout()
    return _png(fig)
