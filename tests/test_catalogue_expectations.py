"""Trades a day against the conversation's expectations (issue #17): every card whose strategy the
conversation gives a frequency for carries it, and the leaderboard flags a run far from it using the
card's data alone (backtest.reports.leaderboard.render reads `expected` from the card)."""
import pytest

from backtest.reports.leaderboard import COLUMNS, far_off, render
from backtest.strategies.cards import card, card_of_strategy, cards

# typed from the conversation, not from the cards: the ranking table (L792-814, "avg trades / BN
# weekly", a normal session on one weekly strike), the guarded straddle "2-4 straddles a day"
# (L5955, STRATEGIES.md section 5)
CONVERSATION = {"#1": (4, 8), "#2": (15, 25), "#3": (6, 10), "#4": (12, 20), "#5": (2, 4), "#6": (6, 12),
                "#7": (1, 3), "#8": (4, 7), "#9": (0, 1), "#10": (3, 8), "#11": (5, 8), "#12": (1, 3),
                "#13": (2, 6), "#14": (1, 2), "#15": (1, 2), "#16": (10, 18), "#17": (8, 12), "#18": (3, 6),
                "#19": (2, 5), "#20": (0, 2), "GSS": (2, 4)}


def test_every_card_the_conversation_gives_a_frequency_for_carries_it():
    assert {i: card(i).expected_trades() for i in CONVERSATION} == {i: (float(a), float(b))
                                                                   for i, (a, b) in CONVERSATION.items()}
    # each variant of a card (the stepped ladder, the guarded 2A-2D) reads its card's expectation
    assert card_of_strategy("volume_spike_ladder_stepped").expected_trades() == (10.0, 18.0)
    assert card_of_strategy("guarded_ladder_2d").expected_trades() == (2.0, 4.0)
    # a card without one says nothing rather than a made-up number
    assert all(c.expected_trades() is None for c in cards() if c.id in {"C-4", "S-8", "DTS"})


def _row(strategy: str, per_day: float) -> dict:
    c = card_of_strategy(strategy)
    row = {k: 0.0 for k, _ in COLUMNS}
    row.update(strategy=strategy, card=c.id, family=c.family, underlying="NIFTY", days=2, trades=int(2 * per_day),
               net_pnl=1.0, trades_per_day=per_day, expected=c.expected_trades(), report=f"{strategy}.html")
    return row


def test_the_leaderboard_flags_trade_counts_far_from_the_card_for_every_strategy_with_an_expectation():
    # half the low .. twice the high is in range; 12-20 a day for #4: 40.5 is far off, 6 is not,
    # 5.9 is; the guarded straddle's 2-4: 8.5 is far off; a strategy without an expectation never is
    assert far_off(40.5, card("#4").expected_trades()) and not far_off(6.0, card("#4").expected_trades())
    assert far_off(5.9, card("#4").expected_trades()) and far_off(8.5, card("GSS").expected_trades())
    runnable = [n for c in cards() if c.id in CONVERSATION for n in c.strategies]
    assert len(runnable) == 24   # #1-#8 and #11-#20 (18), the stepped ladder, the five guarded straddles
    for name in runnable:
        lo, hi = card_of_strategy(name).expected_trades()
        far, near = _row(name, 2 * hi + 1), _row(name, (lo + hi) / 2)
        page = render([far, near])
        assert page.count("(far off)") == 1, name
        cells = page.split("</tr>")
        far_row = next(r for r in cells if f"{2 * hi + 1:,.2f}" in r)
        assert "(far off)" in far_row and f"{lo:g}-{hi:g}" in far_row, name


def test_the_leaderboard_counts_trades_a_day_in_positions_not_legs(landed):
    """'2-4 straddles a day' counts straddles: a two-leg position is one trade. backtest_runs counts
    legs (its metrics are per leg), so the leaderboard counts each run's trade ids itself."""
    from backtest.reports.leaderboard import load_rows
    from warehouse.catalog import connect

    root = landed[1]
    rows = load_rows(root)
    con = connect(root)
    counts = dict(con.sql("select run_id, count(distinct trade_id) from trade_legs group by 1").fetchall())
    legs = dict(con.sql("select run_id, count(*) from trade_legs group by 1").fetchall())
    for r in rows:
        n = counts.get(r["run_id"], 0)
        assert r["trades"] == n and r["trades_per_day"] == pytest.approx(n / r["days"]), r["strategy"]
    # the session's runs include multi-leg positions (the guarded straddle and its variants), so the two differ
    multi = [r for r in rows if legs.get(r["run_id"], 0) > counts.get(r["run_id"], 0)]
    assert any(r["strategy"].startswith("guarded_") for r in multi), [(r["strategy"], r["trades"]) for r in rows]
