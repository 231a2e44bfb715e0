"""A run stored without trade events (`backtest --no-events`) is another run than the events-logged
one of the same config, and the audit reports it as not fully auditable (one warning), not as
exit_timing errors. Found on the one-day archive (seed 21, ATM+-1): the no-events run took the
events run's id, replaced its rows, and `ticklake audit` reported 167 false exit_timing errors for
gamma_clip_scalper."""
import shutil

from orchestration.cli import main
from warehouse.catalog import connect


def test_a_no_events_run_is_its_own_run_and_audits_with_a_warning_not_errors(landed, tmp_path, capsys):
    root = tmp_path / "wh"          # a copy: the session's warehouse is shared
    shutil.copytree(landed[1], root, ignore=shutil.ignore_patterns(".dagster"))
    base = ["--warehouse", str(root), "backtest", "--strategy", "gamma_clip_scalper", "--underlying", "NIFTY"]
    assert main(base) == 0
    logged = capsys.readouterr().out.split()[0]
    assert main([*base, "--no-events"]) == 0
    bare = capsys.readouterr().out.split()[0]
    assert logged != bare and logged.startswith("gamma_clip_scalper-") and bare.startswith("gamma_clip_scalper-")
    con = connect(root)
    legs = dict(con.sql("select run_id, count(*) from trade_legs group by 1").fetchall())
    events = dict(con.sql("select run_id, count(*) from trade_events group by 1").fetchall())
    con.close()
    assert legs[logged] == legs[bare] > 0                 # the same trades, both runs kept
    assert events[logged] > 0 and events.get(bare, 0) == 0

    for run, want in ((logged, "clean"), (bare, "events_not_logged/warning: 1")):
        assert main(["--warehouse", str(root), "audit", "--run", run]) == 0       # exit 1 on any error finding
        row = next(line for line in capsys.readouterr().out.splitlines() if run in line)
        assert row.endswith(want), row
