"""`ticklake gc`: delete what partition switches on an object-store warehouse retired (after the
grace period) and what killed writers uploaded but never switched to; and sweep checkpoint
directories no sweep has written to for a week (or all of them), never one in use
(backtest.sweep_dirs)."""
from __future__ import annotations

import datetime as dt

import click


def _sweep_line(d) -> str:
    when = dt.datetime.fromtimestamp(d.newest, dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return f"{d.path.name}  {d.files} files  {d.bytes / 1e6:,.1f} MB  last written {when}"


def _collect_sweeps(root, older_than_days: float, all_sweeps: bool, dry_run: bool, quiet: bool) -> None:
    from backtest.sweep_dirs import collect

    got = collect(root, None if all_sweeps else older_than_days * 86400.0, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    if dry_run or not quiet:
        for d in got.removed:
            click.echo(f"gc: {verb} sweep {_sweep_line(d)}")
    if got.running:
        click.echo(f"gc: a sweep is running: no sweep checkpoints removed ({len(got.kept)} directories); "
                   f"run gc again when it is done", err=True)
    elif not quiet:
        rule = "all sweeps" if all_sweeps else f"sweeps not written for {older_than_days:g} days"
        click.echo(f"gc: sweep checkpoints ({rule}): {verb} {len(got.removed)} directories, "
                   f"{sum(d.bytes for d in got.removed) / 1e6:,.1f} MB; kept {len(got.kept)}")
        if dry_run:
            for d, why in got.kept:
                click.echo(f"gc: keep sweep {d.path.name}: {why}")


def register(group: click.Group, command) -> None:
    @command(group, "gc", help="object-store warehouse: delete partition files retired longer ago than the grace "
                               "period ($TICKLAKE_GC_GRACE_S, default 3600 s) and unswitched uploads; any "
                               "warehouse: delete sweep checkpoints (<warehouse>/backtests/sweeps) not written "
                               "for --sweeps-older-than days")
    @click.option("--grace", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
                  help="keep files retired less than this long ago (readers may still be on them)")
    @click.option("--sweeps-older-than", type=click.FloatRange(min=0), default=7.0, show_default=True, metavar="DAYS",
                  help="delete sweep checkpoint directories whose newest file is older than this")
    @click.option("--all-sweeps", is_flag=True,
                  help="delete every sweep checkpoint directory (a rerun of a sweep then computes it again)")
    @click.option("--dry-run", is_flag=True, help="list what would be deleted, delete nothing")
    def gc_cmd(s, grace, sweeps_older_than, all_sweeps, dry_run) -> None:
        from warehouse.store import is_remote
        from warehouse.writer import collect_garbage

        root = s.root
        if is_remote(root):         # sweeps checkpoint on a local or shared file system, not here
            n = 0 if dry_run else collect_garbage(root, grace=grace)
            if not s.quiet:
                click.echo(f"gc: {n} files deleted from {root}" + (" (--dry-run: none)" if dry_run else ""))
            return
        collect_garbage(root, grace=grace)
        if not s.quiet:
            click.echo(f"gc: {root} is local: partitions are replaced by rename, nothing to collect")
        _collect_sweeps(root, sweeps_older_than, all_sweeps, dry_run, s.quiet)
