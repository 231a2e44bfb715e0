"""`ticklake strategies` (the catalogue: id, family, shape, status) and `ticklake strategies show ID`
(one card, with its runnable strategies' default parameters); registered on the CLI group by
orchestration.cli."""
from __future__ import annotations

import json

import click


def _table() -> str:
    from tabulate import tabulate

    from backtest.strategies.cards import cards

    rows = [(c.id, c.name, c.family, c.shape, c.status, ", ".join(c.strategies) or "-") for c in cards()]
    counts: dict[str, int] = {}
    for c in cards():
        counts[c.status] = counts.get(c.status, 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    return tabulate(rows, headers=("id", "name", "family", "shape", "status", "strategy"), tablefmt="plain") + \
        f"\n{len(rows)} cards: {summary}"


def show(key: str) -> str:
    """The card as text, then each strategy's default config sections the trader tunes."""
    from backtest.strategies import get
    from backtest.strategies.cards import card

    c = card(key)
    lines = [f"{c.id}  {c.name}  ({c.family}, {c.shape})", f"status: {c.status}" + (f" - {c.reason}" if c.reason else ""),
             f"lines: {c.lines}"]
    for label in ("legs", "entry", "exits", "position", "inputs", "proxy", "trades_per_day"):
        value = getattr(c, label)
        if value:
            lines.append(f"{label}: {value}")
    if c.features:
        lines.append(f"features: {', '.join(c.features)}")
    for name in c.strategies:
        cfg = get(name).default()
        d = cfg.to_dict()
        lines.append(f"\n[{name}] defaults (override with --config: sections legs, exits, position, risk, params)")
        lines.append("  legs: " + "; ".join(f"{leg['name']} {leg['instrument']} {leg['strike']['by']} side {leg['side']} "
                                            f"x{leg['lots']:g}" for leg in d["legs"]))
        lines.append(f"  entry windows: {', '.join(f'{a}-{b}' for a, b in cfg.risk.entry_windows)}")
        lines.append(f"  exits: {json.dumps({k: v for k, v in d['exits'].items() if v not in (None, [], True, False)}, default=str)}")
        lines.append(f"  params: {json.dumps(cfg.params)}")
    return "\n".join(lines)


def register(group: click.Group) -> None:
    @group.group("strategies", invoke_without_command=True, help="the strategy catalogue: every card and its status")
    @click.pass_context
    def strategies(ctx: click.Context) -> None:
        if ctx.invoked_subcommand is None:
            click.echo(_table())

    @strategies.command("show", help="print one strategy's card (by id, e.g. '#4', C-1, T-6, or strategy name)")
    @click.argument("key")
    def show_cmd(key: str) -> None:
        click.echo(show(key))


def catalogue_jobs(family: str | None) -> list:
    """(strategy, default config) of every runnable strategy, or of one card family."""
    from backtest.strategies import get
    from backtest.strategies.cards import cards, families

    if family is not None and family not in families():
        raise click.UsageError(f"--family {family!r}: one of {', '.join(families())}")
    names = [n for c in cards() if family is None or c.family == family for n in c.strategies]
    return [(get(n), get(n).default()) for n in names]


def backtest_catalogue(root, family: str | None, underlyings: list[str], start, end, log_events: bool,
                       options=None) -> None:
    """Many strategies over a date range, each day read once (backtest.run.run_many); one line each.
    `options` (orchestration.backtest_options.ExecutionOptions): the command's execution options,
    applied to every strategy as to a single run; the execution line is printed once when every
    strategy ran with the same models (else under each), the stress line under each."""
    from backtest.run import available_days, run_many
    from orchestration.backtest_options import ExecutionOptions

    options = options or ExecutionOptions()
    jobs = [(s, options.apply(cfg)) for s, cfg in catalogue_jobs(family)]
    lines = {cfg.name: options.execution_line(cfg) for _, cfg in jobs}
    shared = len(set(lines.values())) == 1
    for u in underlyings:
        days = available_days(root, u, start, end)
        if not days:
            raise RuntimeError(f"no feature partitions for {u} in the range; run `ticklake materialize` first")
        results = run_many(root, jobs, u, days, log_events=log_events)
        click.echo(f"{u} {days[0]}..{days[-1]} ({len(days)} days): {len(results)} strategies, each day read once")
        if shared and lines:
            click.echo(f"  {next(iter(lines.values()))}")
        for (strategy, cfg), res in zip(jobs, results):
            m = res.metrics
            click.echo(f"  {res.strategy:28s} {m['trades']:5d} legs  net {m['net_pnl']:12,.2f}  "
                       f"fees {m['fees']:10,.2f}  "
                       f"engine {res.contract_seconds / max(res.engine_s, 1e-9) / 1e6:8.1f} M contract-s/s")
            if not shared:
                click.echo(f"    {lines[cfg.name]}")
            stress = options.stress_line(root, strategy, cfg, u, days, m)
            if stress:
                click.echo(f"    {stress}")
