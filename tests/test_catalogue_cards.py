"""The strategy cards (issue #17): every strategy of the catalogue has one, every card that runs
names strategies that compile, the others say why not; `ticklake strategies` lists them and
`ticklake strategies show` prints one."""
import pytest

from backtest.compile import leg_matrix, required_features, rules_vector
from backtest.strategies import CATALOGUE, get
from backtest.strategies.cards import STATUSES, _card, card, card_of_strategy, cards
from orchestration.cli import main


def test_every_catalogue_strategy_has_a_card_and_every_runnable_card_compiles():
    assert [n for n in CATALOGUE if card_of_strategy(n) is None] == []
    for c in cards():
        assert c.status in STATUSES
        for name in c.strategies:
            cfg = get(name).default()
            assert cfg.name == name
            leg_matrix(cfg), rules_vector(cfg), required_features(cfg)
        if c.status != "runs":
            assert c.reason and not c.strategies


def test_the_catalogue_covers_strategies_md_by_id():
    ids = {c.id for c in cards()}
    want = ({f"#{k}" for k in range(1, 21)} | {f"C-{k}" for k in range(1, 21)} | {f"S-{k}" for k in range(1, 11)}
            | {f"T-{k}" for k in range(1, 7)} | {f"P-{k}" for k in range(1, 13)} | {"DGS", "GSS", "DTS"})
    assert ids == want


def test_a_card_is_found_by_id_or_strategy_and_bad_cards_fail_naming_the_file():
    assert card("#16").strategies == ("volume_spike_ladder", "volume_spike_ladder_stepped")
    assert card("volume_spike_ladder_stepped").id == "#16" and card("c-1").strategy == "orb_5min"
    assert card("GSS").expected_trades() == (2.0, 4.0) and card("#4").expected_trades() == (12.0, 20.0)
    row = {f: "" for f in ("id", "name", "family", "strategy", "lines", "shape", "legs", "entry", "exits", "position",
                           "inputs", "proxy", "trades_per_day")}
    with pytest.raises(ValueError, match="x.toml: card #99: status 'maybe'"):
        _card({**row, "id": "#99", "features": [], "status": "maybe"}, "x.toml")
    with pytest.raises(ValueError, match="needs a reason"):
        _card({**row, "id": "#99", "features": [], "status": "not_testable"}, "x.toml")
    with pytest.raises(ValueError, match="runs exactly when it names its strategy"):
        _card({**row, "id": "#99", "features": [], "status": "runs"}, "x.toml")


def test_ticklake_strategies_lists_and_shows_cards(capsys):
    assert main(["strategies"]) == 0
    out = capsys.readouterr().out
    n = len(cards())
    runs = sum(c.status == "runs" for c in cards())
    assert f"{n} cards: {runs} runs" in out
    assert any(line.split()[:1] == ["C-17"] and "not_testable" in line for line in out.splitlines())
    assert any(line.split()[:1] == ["C-20"] and "correlation_divergence" in line for line in out.splitlines())
    assert "missing" not in {c.status for c in cards()}
    assert main(["strategies", "show", "T-6"]) == 0
    out = capsys.readouterr().out
    assert "T-6  Theta-Waterfall" in out and "[theta_waterfall] defaults" in out and '"max_spread": 0.25' in out
    assert "entry windows: 10:00:00-10:01:00, 11:00:00-11:01:00, 12:00:00-12:01:00" in out
    assert main(["strategies", "show", "S-9"]) == 0
    assert "status: not_testable - overnight by design" in capsys.readouterr().out
    assert main(["strategies", "show", "nope"]) == 1
    assert "no strategy card 'nope'" in capsys.readouterr().err
