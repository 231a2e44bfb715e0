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
        assert same_bytes(many.legs) == same_bytes(alone.legs), s.name
        assert same_bytes(many.events) == same_bytes(alone.events), s.name
        traded += alone.legs.num_rows
    assert traded > 0


def test_the_same_inputs_give_the_same_run_id_and_rows(landed):
    _, root, _ = landed
    s = CATALOGUE["micro_ema_flip"]
    days = available_days(root, "NIFTY", None, None)
    a = run_backtest(root, s, s.default(), "NIFTY", days, write=False)
    b = run_backtest(root, s, s.default(), "NIFTY", days, write=False)
    assert a.run_id == b.run_id and same_bytes(a.legs) == same_bytes(b.legs)
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
    single = apply_overrides(single, {"execution": {"slippage": {"atm": 0.15}}})
    # an unstored sweep logs no events (backtest.sweep): its runs are the single runs without events
    alone = run_backtest(root, s, single, "NIFTY", days, log_events=False, write=False)
    assert results[3][1].run_id == alone.run_id and same_bytes(results[3][1].legs) == same_bytes(alone.legs)
    assert len({r.run_id for _, r in results}) == 4
    with pytest.raises(KeyError, match="unknown keys"):
        sweep(root, s, s.default(), ["exits.targett=1"], "NIFTY", days)


def _moved_to_8am(table: pa.Table, day, row: int) -> pa.Table:
    """The table with row `row`'s ts moved to 08:00 IST, before the session opens."""
    import datetime as dt

    import pyarrow.compute as pc

    ts = table["ts"].combine_chunks()
    early = pc.assume_timezone(pa.scalar(dt.datetime.combine(day, dt.time(8, 0))), "Asia/Kolkata")
    moved = pa.concat_arrays([ts[:row], pa.array([early.cast(ts.type)], ts.type), ts[row + 1:]])
    return table.set_column(table.schema.get_field_index("ts"), "ts", moved)


def test_a_row_off_the_session_grid_is_a_clear_error(landed):
    import pytest
    from backtest.data import DEPTH_COLUMNS, QUOTE_COLUMNS, depth_book, load_day
    from warehouse.writer import read_partition

    _, root, _ = landed
    day = available_days(root, "NIFTY", None, None)[0]
    keys = {"underlying": "NIFTY", "date": day}
    feats = read_partition(root, "features_options", keys, columns=QUOTE_COLUMNS + ["ema6"])
    with pytest.raises(ValueError, match=r"features_options NIFTY .*1 rows outside the session grid \(first at row 7"):
        load_day("NIFTY", day, _moved_to_8am(feats, day, 7), None, ["ema6"])
    data = load_day("NIFTY", day, feats, None, ["ema6"])
    grid = read_partition(root, "options_grid", keys, columns=DEPTH_COLUMNS)
    with pytest.raises(ValueError, match=r"options_grid NIFTY .*1 rows outside the session grid \(first at row 3"):
        depth_book(_moved_to_8am(grid, day, 3), data)


def test_the_5_level_book_is_read_only_when_an_order_walks_past_the_touch_and_changes_no_trade(landed):
    """Orders of 40 lots walk past the touch: the touch-only day reads the 5 levels at the first
    such order, and every trade matches the day loaded with the 5 levels up front."""
    from backtest.config import apply_overrides
    from backtest.run import load_inputs
    from backtest.simulate import simulate_day

    _, root, _ = landed
    s = CATALOGUE["micro_ema_flip"]
    names = sorted({*s.features, "price"})
    day = available_days(root, "NIFTY", None, None)[0]
    reads = []
    for cfg, walks in ((s.default(), False), (apply_overrides(s.default(), {"risk": {"qty_lots": 40}}), True)):
        lazy, spot = load_inputs(root, "NIFTY", day, names)
        source = lazy.depth_source
        lazy.depth_source = lambda: reads.append(1) or source()
        eager, _ = load_inputs(root, "NIFTY", day, names)
        eager.load_depth()
        assert lazy.book.shape[0] == 4 and eager.has_depth
        a = simulate_day(s, cfg, lazy, "r", True, spot)
        b = simulate_day(s, cfg, eager, "r", True, spot)
        assert lazy.has_depth == walks and len(reads) == walks
        assert a.legs.num_rows > 0 and same_bytes(a.legs) == same_bytes(b.legs)
        assert same_bytes(a.events) == same_bytes(b.events)


def test_dense_kernels_match_numpy_fancy_assignment():
    import numpy as np
    from backtest.data import _row_index
    from backtest.kernels.dense import gather_column, index_of_second, scatter, scatter_fields
    from transforms.columns import NO_VALIDITY, float_columns, numeric_parts

    rng = np.random.default_rng(3)
    S, C, F, n = 700, 9, 5, 2_000
    cells = rng.choice(S * C, n, replace=False)
    i, c = cells // C, cells % C
    cols = [rng.normal(size=n) for _ in range(F)]
    cols[1][::7] = np.nan
    want = np.full((S, C, F + 2), np.nan)
    for k, v in enumerate(cols):
        want[i, c, 2 + k] = v
    got = np.full((S, C, F + 2), np.nan)
    scatter_fields(got, 2, i, c, float_columns(cols))
    np.testing.assert_array_equal(got, want)
    flat = np.full((S, C), np.nan)
    scatter(flat, i, c, cols[0])
    np.testing.assert_array_equal(flat, want[:, :, 2])
    row = _row_index(i, c, S, C, n)                   # cells without a row point one past the end
    assert (row[i, c] == np.arange(n)).all() and (row == n).sum() == S * C - n
    dense = np.empty((S, C))
    gather_column(dense, row, cols[1], NO_VALIDITY, 0)
    np.testing.assert_array_equal(dense, want[:, :, 3])
    # from Arrow's own buffers: int32 values with nulls, in a slice (a bit offset inside a byte)
    ints = pa.array([None if k % 5 == 0 else k for k in range(n + 3)], pa.int32()).slice(3)
    values, validity, offset = numeric_parts(ints)
    assert offset == 3 and values.dtype == np.int32
    gather_column(dense, row, values, validity, offset)
    want_ints = np.full((S, C), np.nan)
    want_ints[i, c] = ints.to_pandas().to_numpy(dtype=float, na_value=np.nan)
    np.testing.assert_array_equal(dense, want_ints)
    t_s = np.r_[np.arange(100, 400), np.arange(500, 900)]         # a grid with a hole
    t = np.array([100, 399, 400, 450, 500, 899, 900, 99])
    np.testing.assert_array_equal(index_of_second(t_s, t), [0, 299, -1, -1, 300, 699, -1, -1])
