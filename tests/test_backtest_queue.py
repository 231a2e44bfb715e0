"""Queue position and partial fills of resting LIMIT orders (issue #18, backtest.kernels.queue), on
hand-built seconds whose displayed quantity at the order's price, LTP and volume the test writes.
Every expected fill is worked out by hand in the test's docstring (units: lot 25)."""
import numpy as np

from backtest.enums import EVENT_KINDS, Quote
from backtest.models import ConstantLatency, Execution, FullFillQueue, ProbQueue, RiskAverseQueue
from backtest.strategies.base import Exits, Leg, Order, Plan, PositionRules, Risk, StrategyConfig, Strike
from tests.backtest_paths import NO_FILTERS, book, day_of, engine

LOT = 25


def market(bid_qty, ltp, vol, bid=100.0):
    """One contract at bid 100.00 / ask 100.10 every second; the displayed bid quantity, LTP and
    volume per second as given (the levels below the touch keep 1,000 units)."""
    n = len(bid_qty)
    t, Q, B = book([[bid] * n])
    B[:, 0, 5] = bid_qty
    Q[:, 0, Quote.ltp] = ltp
    Q[:, 0, Quote.vol] = vol
    return day_of(Q, B, t, lot=LOT)


def buy_limit(lots, queue, timeout_s=None) -> StrategyConfig:
    """Buy `lots` at the touch (joins the bid, 100.00), decided at second 0, at the market at 1."""
    leg = Leg("x", "CE", strike=Strike("atm"), side=1, order=Order("limit", "touch", 0.0, timeout_s=timeout_s))
    return StrategyConfig("q", legs=[leg], exits=Exits(), position=PositionRules(),
                          risk=Risk(entry_windows=[("00:00:00", "23:59:59")], max_entries=1, qty_lots=lots),
                          filters=NO_FILTERS, execution=Execution(latency=ConstantLatency(1), queue=queue))


def first_second(n) -> Plan:
    ok = np.zeros(n, bool)
    ok[0] = True
    return Plan.every_second(ok)


def run(day, cfg):
    legs, _, ev = engine(day, cfg, first_second(len(day.t_s)))
    fills = [(int(e["i"]), EVENT_KINDS[e["code"]], float(e["qty"]), float(e["queue_ahead"])) for e in ev
             if EVENT_KINDS[e["code"]] in ("fill", "cancel")]
    return legs, fills


def test_queue_models_fill_only_what_trades_after_the_queue_ahead():
    """One compile for the four scenarios of the issue.

    1. Behind 500 lots (12,500 units displayed at 100.00 when placed at second 1), 1 lot: trades at
       100.00 of 5,000 + 5,000 + 2,500 units (seconds 2-4) only exhaust the queue ahead; the 25
       units traded at 5 fill it. The full-fill rule never fills it (nothing trades through).
    2. A partial fill: 4 lots behind 50 units; 100 trade at 2 -> 50 ahead, 50 fill (2 lots); 30
       trade at 3 -> 1 whole lot (25) fills; the 3-second timeout (arrived 1, expires 4) cancels
       the last 25: the leg holds 75 units, flagged partial.
    3. Cancellations: 1,000 ahead at placement; 1,000 join behind (2,000 shown), then 500 and 500
       are cancelled with no trade (1,500, 1,000 shown), then 600 and 500 trade at 100.00.
       Risk-averse: cancellations never advance it -> 1,000 ahead until the trades: 400 after 600,
       -100 after 500: the 4 lots (100) fill at 6. Probability model (power, n = 3): a
       cancellation of 500 with 1,000 ahead and 1,000 behind is half ahead (p = 0.5): 750, then
       750 ahead / 750 behind: 500; 600 trade -> -100: the 4 lots fill at 5, a second earlier.
    4. The 5th-in-queue skip (typical order 1 lot): 100 units ahead are 4 orders -> place 5: the
       order is cancelled when placed; 75 ahead (place 4) rests and fills when 100 trade.
    """
    # 1. behind 500 lots
    day = market([12500.0] * 7, [100.0] * 7, [0, 0, 5000, 5000, 2500, 25, 0])
    (leg,), fills = run(day, buy_limit(1, RiskAverseQueue()))
    assert (int(leg["entry_i"]), float(leg["qty"]), float(leg["entry_px"])) == (5, 25.0, 100.0)
    assert fills == [(5, "fill", 25.0, 0.0)]
    legs, _ = run(day, buy_limit(1, FullFillQueue()))
    assert len(legs) == 0

    # 2. a partial fill, the rest cancelled by the timeout
    day = market([50.0] * 7, [100.0] * 7, [0, 0, 100, 30, 0, 0, 0])
    (leg,), fills = run(day, buy_limit(4, RiskAverseQueue(), timeout_s=3))
    assert (int(leg["entry_i"]), float(leg["qty"]), bool(leg["partial"])) == (2, 75.0, True)
    assert fills == [(2, "fill", 50.0, 0.0), (3, "fill", 25.0, 0.0), (4, "cancel", 25.0, 0.0)]

    # 3. a cancellation-heavy book under each model
    shown = [1000.0, 1000.0, 2000.0, 1500.0, 1000.0, 400.0, 400.0, 400.0]
    day = market(shown, [100.0] * 8, [0, 0, 0, 0, 0, 600, 500, 0])
    (leg,), fills = run(day, buy_limit(4, RiskAverseQueue()))
    assert (int(leg["entry_i"]), float(leg["qty"])) == (6, 100.0) and fills == [(6, "fill", 100.0, 0.0)]
    (leg,), fills = run(day, buy_limit(4, ProbQueue(func="power", n=3.0)))
    assert (int(leg["entry_i"]), float(leg["qty"])) == (5, 100.0) and fills == [(5, "fill", 100.0, 0.0)]

    # 4. skip when 5th or worse
    day = market([100.0] * 5, [100.0] * 5, [0, 0, 100, 100, 0])
    legs, fills = run(day, buy_limit(1, RiskAverseQueue(skip_from_rank=5)))
    assert len(legs) == 0 and fills == [(1, "cancel", 25.0, 100.0)]
    day = market([75.0] * 5, [100.0] * 5, [0, 0, 100, 100, 0])
    (leg,), fills = run(day, buy_limit(1, RiskAverseQueue(skip_from_rank=5)))
    assert int(leg["entry_i"]) == 2 and fills == [(2, "fill", 25.0, 0.0)]


def test_a_limit_quoted_or_traded_through_fills_its_rest_in_full_and_one_improving_the_touch_is_first():
    """Quoted through: the ask comes down to the buy limit at 3 (a crossed book cannot hold the
    order): all 4 lots fill there, 1,000 ahead or not. Traded through: the LTP prints 99.95 at 3
    (price priority swept the level): the same. Improving the touch (bid + 0.05 = 100.05, nobody
    shown there): first in its queue, the 30 units traded at 100.05 at 2 fill one lot."""
    day = market([1000.0] * 5, [100.05] * 5, [0] * 5)
    day.book[2 * 5, day.book_row[3, 0]] = 100.0           # ask_px0 at second 3
    (leg,), fills = run(day, buy_limit(4, RiskAverseQueue()))
    assert (int(leg["entry_i"]), float(leg["qty"]), float(leg["entry_px"])) == (3, 100.0, 100.0)
    day = market([1000.0] * 5, [100.05, 100.05, 100.05, 99.95, 100.05], [0, 0, 0, 10, 0])
    (leg,), _ = run(day, buy_limit(4, RiskAverseQueue()))
    assert (int(leg["entry_i"]), float(leg["qty"])) == (3, 100.0)
    day = market([1000.0] * 5, [100.05] * 5, [0, 0, 30, 0, 0])
    cfg = buy_limit(4, RiskAverseQueue(), timeout_s=2)
    cfg.legs[0].order = Order("limit", "touch", 0.05, timeout_s=2)
    (leg,), fills = run(day, cfg)
    assert (int(leg["entry_i"]), float(leg["qty"]), float(leg["entry_px"])) == (2, 25.0, 100.05)
    assert fills[0] == (2, "fill", 25.0, 0.0)


def test_stress_jumps_gap_the_index_and_move_each_option_by_its_greeks_deterministically():
    """One 0.6 % jump on a 25,000 index: D = +-150 from the jump second on. A CE with delta 0.5 and
    gamma 0.001 moves by 0.5 x 150 + 0.5 x 0.001 x 150^2 = 86.25 up (or -75 + 11.25 = -63.75 down);
    a Rs 10 PE with delta -0.4 moves -60 + 11.25 up -> floored at the tick, 0.05. Same seed: the
    same bytes; the seconds before the jump keep their quotes."""
    from backtest.stress import stress_day

    n = 50
    t, Q, B = book([[200.0] * n, [10.0] * n])
    F = {"delta": np.tile([0.5, -0.4], (n, 1)), "gamma": np.full((n, 2), 0.001)}
    day = day_of(Q, B, t, strikes=(25000, 25000), opt_types=("CE", "PE"), features=F, spot=np.full(n, 25000.0))
    a, b = stress_day(day, 1, seed=7), stress_day(day, 1, seed=7)
    assert np.array_equal(a.Q, b.Q, equal_nan=True) and np.array_equal(a.book, b.book, equal_nan=True)
    k = int(np.flatnonzero(a.spot != 25000.0)[0])
    D = a.spot[k] - 25000.0
    assert abs(D) == 150.0 and (a.spot[k:] == 25000.0 + D).all()
    ce = 86.25 if D > 0 else -63.75
    assert np.allclose(a.Q[k:, 0, Quote.bid], 200.0 + ce) and np.allclose(a.Q[:k, 0, Quote.bid], 200.0)
    assert np.allclose(a.book[0, a.book_row[k:, 0]], 200.0 + ce)          # the book's bid moves too
    pe = max(10.0 + (-0.4 * D + 11.25), 0.05)
    assert np.allclose(a.Q[k:, 1, Quote.bid], pe)
    other = stress_day(day, 1, seed=8)
    assert not np.array_equal(other.spot, a.spot)
