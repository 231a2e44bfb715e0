"""`ticklake gc`: delete what partition switches on an object-store warehouse retired (after the
grace period) and what killed writers uploaded but never switched to. Nothing to do on a local one."""
from __future__ import annotations

import click


def register(group: click.Group, command) -> None:
    @command(group, "gc", help="object-store warehouse: delete partition files retired longer ago than the grace "
                               "period ($TICKLAKE_GC_GRACE_S, default 3600 s) and unswitched uploads")
    @click.option("--grace", type=click.FloatRange(min=0), default=None, metavar="SECONDS",
                  help="keep files retired less than this long ago (readers may still be on them)")
    def gc_cmd(s, grace) -> None:
        from warehouse.store import is_remote
        from warehouse.writer import collect_garbage

        root = s.root
        n = collect_garbage(root, grace=grace)
        if not s.quiet:
            click.echo(f"gc: {n} files deleted from {root}" if is_remote(root) else
                       f"gc: {root} is local: partitions are replaced by rename, nothing to collect")
