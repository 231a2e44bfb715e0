"""The backtest commands' messages: a reversed date range, stored and unstored sweeps."""
import shutil
import subprocess
import sys

import pytest

from warehouse.catalog import connect


def tl(root, *args):
    return subprocess.run([sys.executable, "-m", "orchestration.cli", "--warehouse", str(root), *args],
                          capture_output=True, text=True)


def test_a_start_after_the_end_is_named_as_such(tmp_path):
    r = tl(tmp_path, "backtest", "--strategy", "orb_2min", "--start", "2025-11-05", "--end", "2025-11-03")
    assert r.returncode == 2 and "--start 2025-11-05 is after --end 2025-11-03" in r.stderr
    assert "materialize" not in r.stderr


@pytest.fixture(scope="module")
def scratch(landed, tmp_path_factory):
    _, root, _ = landed
    copy = tmp_path_factory.mktemp("sweep") / "wh"
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns(".dagster"))
    return copy


def test_a_sweep_without_write_prints_no_run_id_and_says_how_to_store(scratch):
    before = connect(scratch).sql("select count(*) from backtest_runs").fetchall()[0][0]
    r = tl(scratch, "backtest", "--strategy", "micro_ema_flip", "--underlying", "NIFTY",
           "--sweep", "exits.target=1.5,3")
    assert r.returncode == 0, r.stderr
    assert "micro_ema_flip-" not in r.stdout and "add --write to store" in r.stdout
    assert "exits.target=1.5" in r.stdout and "exits.target=3" in r.stdout
    assert connect(scratch).sql("select count(*) from backtest_runs").fetchall()[0][0] == before


def test_a_sweep_with_write_prints_the_run_ids_it_stored(scratch):
    r = tl(scratch, "backtest", "--strategy", "micro_ema_flip", "--underlying", "NIFTY",
           "--sweep", "exits.target=1.5,3", "--write")
    assert r.returncode == 0, r.stderr
    printed = {w for line in r.stdout.splitlines() for w in line.split() if w.startswith("micro_ema_flip-")}
    stored = {x for (x,) in connect(scratch).sql("select run_id from backtest_runs").fetchall()}
    assert len(printed) == 2 and printed <= stored
    assert "ticklake report RUN_ID" in r.stdout


def test_broker_queue_and_stress_options_of_a_run_are_applied_stored_and_printed(scratch):
    """--broker rs20 charges Rs 20 an order (the stored config names the broker and the queue);
    --stress-jumps prints the stressed P&L beside the plain one; an unknown broker is refused."""
    r = tl(scratch, "backtest", "--strategy", "micro_ema_flip", "--underlying", "NIFTY", "--broker", "rs20",
           "--queue", "prob", "--stress-jumps", "2", "--stress-seed", "3")
    assert r.returncode == 0, r.stderr
    run_id = r.stdout.split()[0]
    assert "execution: broker rs20 (Rs 20/order); queue prob (power, n=3.0)" in r.stdout
    assert "stress (2 jumps of 0.6 % a day, seed 3):" in r.stdout and "(plain " in r.stdout
    con = connect(scratch)
    config, = con.sql("select config from backtest_runs where run_id = ?", params=[run_id]).fetchall()[0]
    assert '"broker": "rs20"' in config and '"model": "prob"' in config
    legs, brokerage = con.sql("""select count(*), min(fees) from trade_legs where run_id = ?""",
                              params=[run_id]).fetchall()[0]
    assert legs > 0 and brokerage >= 40.0          # two orders a round trip at Rs 20 each
    bad = tl(scratch, "backtest", "--strategy", "micro_ema_flip", "--broker", "dhan")
    assert bad.returncode != 0 and "unknown broker 'dhan'" in bad.stderr


PER_LEG_RS20 = 47.20     # two executed orders a round trip x Rs 20, plus 18 % GST on that brokerage


def test_execution_options_apply_to_every_strategy_of_a_family_run(scratch, capsys):
    """`backtest --family` takes --broker/--queue/--stress-* as a single run does: the same trades,
    every leg of every strategy charged exactly Rs 47.20 more under rs20 than under zero, the
    execution line printed, a stress line under each strategy equal to that strategy's own stress
    replay; a --config file's execution section applies to all, its other sections are refused."""
    import re

    from backtest.config import load_config
    from backtest.run import available_days
    from backtest.stress import stress_run
    from backtest.strategies import get
    from orchestration.cli import main

    names = ["skew_flip_strangle", "retail_gamma_bleed", "momentum_hedge_short", "iron_snap", "post_news_condor",
             "friday_theta_dunk", "magnet_short", "put_bid_panic", "pin_wick_seller"]
    base = ["backtest", "--family", "theta_flow", "--underlying", "NIFTY", "--no-events", "--queue", "full_fill",
            "--warehouse", str(scratch)]
    printed = {}
    for broker, extra in (("zero", []), ("rs20", ["--stress-jumps", "2", "--stress-seed", "5"])):
        assert main([*base, "--broker", broker, *extra]) == 0
        out = capsys.readouterr().out
        assert (f"  execution: broker {broker} (Rs {0 if broker == 'zero' else 20}/order); queue full_fill; "
                f"slippage Rs 0.15 ATM / 0.3 OTM crossing the spread; latency 1 s") in out
        printed[broker] = {m[0]: (int(m[1]), float(m[2].replace(",", "")), float(m[3].replace(",", "")))
                           for m in re.findall(r"^  (\w+) +(\d+) legs  net +([-\d,.]+)  fees +([-\d,.]+)", out, re.M)}
        assert sorted(printed[broker]) == sorted(names)
    traded = [n for n in names if printed["zero"][n][0]]
    assert len(traded) >= 2                       # the test means something only when several strategies trade
    for n in names:
        (legs0, net0, fees0), (legs20, net20, fees20) = printed["zero"][n], printed["rs20"][n]
        assert legs20 == legs0
        assert fees20 - fees0 == pytest.approx(PER_LEG_RS20 * legs0, abs=0.005)
        assert net0 - net20 == pytest.approx(PER_LEG_RS20 * legs0, abs=0.005)
    # per stored leg: the same trades, Rs 47.20 apart
    con = connect(scratch)
    rows = con.sql("""
        with runs as (select run_id, strategy, json_extract_string(config, '$.execution.fees.broker') broker
                      from backtest_runs
                      where json_extract_string(config, '$.execution.queue.model') = 'full_fill'
                        and strategy in (select unnest(?)))
        select z.strategy, count(*), min(r.fees - z.fees), max(r.fees - z.fees),
               bool_and(r.gross_pnl = z.gross_pnl and r.entry_ts = z.entry_ts and r.qty = z.qty)
        from (select l.*, runs.strategy from trade_legs l join runs using (run_id) where broker = 'zero') z
        join (select l.*, runs.strategy from trade_legs l join runs using (run_id) where broker = 'rs20') r
          on z.strategy = r.strategy and z.date = r.date and z.leg = r.leg
         and split_part(z.trade_id, '-', -1) = split_part(r.trade_id, '-', -1)
        group by 1 order by 1""", params=[names]).fetchall()
    assert [(s, k) for s, k, *_ in rows] == sorted((n, printed["zero"][n][0]) for n in traded)
    for s, _, lo, hi, same in rows:
        assert lo == pytest.approx(PER_LEG_RS20, abs=1e-9) and hi == pytest.approx(PER_LEG_RS20, abs=1e-9) and same
    # the stress line of each strategy is its own replay under the run's execution (rs20, full fill)
    days = available_days(scratch, "NIFTY", None, None)
    for n in traded:
        cfg = load_config(n)
        cfg.execution = cfg.execution.with_overrides({"broker": "rs20", "queue": {"model": "full_fill"}})
        st = stress_run(scratch, get(n), cfg, "NIFTY", days, 2, 5)
        assert (f"stress (2 jumps of 0.6 % a day, seed 5): {st['trades']} trade legs, net {st['net_pnl']:,.2f} "
                f"(plain {printed['rs20'][n][1]:,.2f})") in out
    conf = scratch.parent / "exec.toml"
    conf.write_text('[execution.fees]\nbroker = "rs20"\n')
    assert main([*base, "--config", str(conf)]) == 0
    assert "  execution: broker rs20 (Rs 20/order); queue full_fill" in capsys.readouterr().out
    conf.write_text('[exits]\ntarget = 2\n')
    assert main([*base, "--config", str(conf)]) == 2
    assert "only an [execution] section applies to every strategy; it also has exits" in capsys.readouterr().err
    assert main([*base, "--sweep", "exits.target=1,2"]) == 2
