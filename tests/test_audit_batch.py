"""The batched audit (backtest.audit.batch: each day's market read once and shared by all its runs,
the runs' legs and events read in one query) finds exactly what the per-run audit finds, row for row
in the same order, on runs that have findings: an engine charging no fees (fees errors), one that
sees the next second (decision_quotes errors), a resting limit under the queue model (queue_fill
replayed), a run stored without events (a warning), beside every clean run Dagster stored; and
the same with a sampled audit."""
import datetime as dt
import shutil

import numpy as np
import pytest

import backtest.run
from backtest.audit_runs import audit_runs
from backtest.config import apply_overrides
from backtest.run import run_backtest
from backtest.strategies import CATALOGUE
from warehouse.catalog import connect
from warehouse.writer import read_partition


class NoFees:
    """A fee model that charges nothing."""

    def charges(self, trade_date, side, entry_px, exit_px, qty):
        return np.zeros(len(side))


def peeking(real):
    """The engine sees second t+1's quotes and book while stamping them t."""
    def load(*args, **kw):
        d = real(*args, **kw)
        d.Q[:-1], d.book_row[:-1] = d.Q[1:].copy(), d.book_row[1:].copy()
        return d
    return load


@pytest.fixture(scope="module")
def runs(landed, tmp_path_factory):
    """A copy of the materialised one-day warehouse with broken runs stored beside the clean ones."""
    root = tmp_path_factory.mktemp("batch") / "wh"
    shutil.copytree(landed[1], root, ignore=shutil.ignore_patterns(".dagster"))
    day = dt.date.fromisoformat(sorted(p.name for p in (root / "features" / "options" / "underlying=NIFTY").iterdir())[0][5:])
    flip = CATALOGUE["micro_ema_flip"]
    run_backtest(root, flip, flip.default(), "NIFTY", [day], fees=NoFees())
    resting = apply_overrides(flip.default(), {"params": {"limit_if_spread_le": 100.0, "offset": 0.0},
                                               "legs": {"scalp": {"order": {"timeout_s": 120}}}})
    run_backtest(root, flip, resting, "NIFTY", [day])
    gamma = CATALOGUE["gamma_clip_scalper"]
    run_backtest(root, gamma, gamma.default(), "NIFTY", [day], log_events=False)
    mp = pytest.MonkeyPatch()
    mp.setattr(backtest.run, "load_day", peeking(backtest.run.load_day))
    try:
        run_backtest(root, flip, flip.default(), "BANKNIFTY", [day])
    finally:
        mp.undo()
    con = connect(root)
    ids = [r[0] for r in con.sql("select run_id from backtest_runs order by 1").fetchall()]
    con.close()
    return root, ids


def _flat(audited) -> list[str]:
    return [repr((row, legs, findings.to_pylist())) for row, legs, findings in audited]


def test_the_batched_audit_finds_exactly_what_the_per_run_audit_finds(runs):
    root, ids = runs
    order = ids[::-1]                    # the caller's order is kept, whatever order the days are read in
    for sample in (None, 2):
        one_by_one = audit_runs(root, order, sample_per_day=sample, batched=False)
        batched = audit_runs(root, order, sample_per_day=sample)
        assert [row["run_id"] for row, _, _ in batched] == order
        assert _flat(batched) == _flat(one_by_one)
    checks = {(f["check"], f["severity"]) for _, _, findings in one_by_one for f in findings.to_pylist()}
    assert {("fees", "error"), ("decision_quotes", "error"), ("events_not_logged", "warning")} <= checks, checks
    for row, _, findings in batched:            # what the batched audit returned is what it stored
        stored = read_partition(root, "audit_findings", {"run_id": row["run_id"]})
        assert repr(stored.select(findings.column_names).to_pylist()) == repr(findings.to_pylist())
    assert sum(legs for _, legs, _ in batched) > 0
