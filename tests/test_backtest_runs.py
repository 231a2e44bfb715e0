"""Backtest runs over the materialised one-day warehouse: shared loading, determinism."""
import json

import pyarrow as pa
from backtest.run import available_days, run_backtest, run_many
from backtest.strategies import CATALOGUE


def same_bytes(t: pa.Table) -> bytes:
    """Arrow IPC bytes of the table (NaN compares equal to NaN, unlike Table.equals)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, t.schema) as w:
        w.write_table(t.combine_chunks())
    return sink.getvalue().to_pybytes()


def test_running_the_six_strategies_together_changes_no_trade(landed):
    _, root, _ = landed
    days = available_days(root, "NIFTY", None, None)
    jobs = [(s, s.default()) for s in CATALOGUE.values()]
    together = run_many(root, jobs, "NIFTY", days, write=False)
    traded = 0
    for (s, cfg), many in zip(jobs, together):
        alone = run_backtest(root, s, cfg, "NIFTY", days, write=False)
        assert many.run_id == alone.run_id
        assert same_bytes(many.trades) == same_bytes(alone.trades), s.name
        assert same_bytes(many.events) == same_bytes(alone.events), s.name
        traded += alone.trades.num_rows
    assert traded > 0


def test_the_same_inputs_give_the_same_run_id_and_rows(landed):
    _, root, _ = landed
    s = CATALOGUE["micro_ema_flip"]
    days = available_days(root, "NIFTY", None, None)
    a = run_backtest(root, s, s.default(), "NIFTY", days, write=False)
    b = run_backtest(root, s, s.default(), "NIFTY", days, write=False)
    assert a.run_id == b.run_id and same_bytes(a.trades) == same_bytes(b.trades)
    assert json.dumps(a.metrics, sort_keys=True) == json.dumps(b.metrics, sort_keys=True)


def test_a_sweep_runs_every_combination_exactly_as_single_runs(landed):
    import copy

    import pytest

    from backtest.config import apply_overrides
    from backtest.sweep import grid, sweep

    assert grid("exits.target=1.5,2", "risk.qty_lots=1,2") == [
        {"exits": {"target": 1.5}, "risk": {"qty_lots": 1}}, {"exits": {"target": 1.5}, "risk": {"qty_lots": 2}},
        {"exits": {"target": 2}, "risk": {"qty_lots": 1}}, {"exits": {"target": 2}, "risk": {"qty_lots": 2}}]
    _, root, _ = landed
    s = CATALOGUE["micro_ema_flip"]
    days = available_days(root, "NIFTY", None, None)
    results = sweep(root, s, s.default(), ["exits.target=1.5,3", "execution.slippage.atm=0,0.15"], "NIFTY", days)
    assert [name for name, _ in results] == [
        "exits.target=1.5 execution.slippage.atm=0", "exits.target=1.5 execution.slippage.atm=0.15",
        "exits.target=3 execution.slippage.atm=0", "exits.target=3 execution.slippage.atm=0.15"]
    single = apply_overrides(copy.deepcopy(s.default()), {"exits": {"target": 3}})
    single.execution = type(single.execution)(single.execution.latency, single.execution.fill,
                                              type(single.execution.slippage)(atm=0.15), single.execution.fees)
    alone = run_backtest(root, s, single, "NIFTY", days, write=False)
    assert results[3][1].run_id == alone.run_id and same_bytes(results[3][1].trades) == same_bytes(alone.trades)
    assert len({r.run_id for _, r in results}) == 4
    with pytest.raises(KeyError, match="unknown keys"):
        sweep(root, s, s.default(), ["exits.targett=1"], "NIFTY", days)
