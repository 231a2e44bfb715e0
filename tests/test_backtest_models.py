"""Execution models: small objects with one-method protocols, named in configs, stored with runs."""
import json

import numpy as np
import pytest

from backtest.compile import rules_vector
from backtest.config import apply_overrides, config_of_run
from backtest.enums import Param
from backtest.models import (AtmBandSlippage, BookFill, ConstantLatency, Execution, FeeModel, FillModel,
                             FullFillQueue, LatencyModel, NseFees, RiskAverseQueue, SlippageModel)
from backtest.strategies import get


def test_each_default_model_keeps_its_protocol():
    e = Execution()
    assert isinstance(e.latency, LatencyModel) and isinstance(e.fill, FillModel)
    assert isinstance(e.slippage, SlippageModel) and isinstance(e.fees, FeeModel)
    assert not isinstance(e.fees, SlippageModel)


def test_a_config_names_its_models_and_a_run_rebuilds_them():
    cfg = apply_overrides(get("micro_ema_flip").default(), {"execution": {
        "latency": {"seconds": 2}, "fees": {"model": "nse", "brokerage_per_order": 0}}})
    assert cfg.execution == Execution(ConstantLatency(2), BookFill(), RiskAverseQueue(), AtmBandSlippage(), NseFees(0))
    stored = json.loads(json.dumps(cfg.to_dict()))
    assert stored["execution"] == {"latency": {"model": "constant", "seconds": 2},
                                   "fill": {"model": "book", "beyond_book": "partial"},
                                   "queue": {"model": "risk_averse", "skip_from_rank": None, "typical_order_lots": 1.0},
                                   "slippage": {"model": "atm_band", "atm": 0.15, "otm": 0.3, "atm_band": 1},
                                   "fees": {"model": "nse", "brokerage_per_order": 0, "broker": "zero"}}
    assert config_of_run("micro_ema_flip", stored).execution == cfg.execution
    P = rules_vector(cfg)
    assert (P[Param.latency_s], P[Param.partial_beyond_book]) == (2.0, 1.0)
    # runs stored before models were named keep loading
    old = {"execution": {"latency": {"seconds": 3}, "fill": {"beyond_book": "reject"},
                         "slippage": {"atm": 0.1, "otm": 0.2, "atm_band": 1}, "fees": {"brokerage_per_order": 20.0}}}
    assert config_of_run("micro_ema_flip", old).execution == Execution(ConstantLatency(3), BookFill("reject"),
                                                                        FullFillQueue(), AtmBandSlippage(0.1, 0.2),
                                                                        NseFees(20.0))


def test_unknown_models_keys_and_values_fail_loudly():
    base = get("orb_2min").default()
    with pytest.raises(KeyError, match="execution.fees: unknown model 'flat'; known: nse"):
        apply_overrides(base, {"execution": {"fees": {"model": "flat"}}})
    with pytest.raises(KeyError, match="execution.latency: unknown keys ms"):
        apply_overrides(base, {"execution": {"latency": {"ms": 10}}})
    with pytest.raises(KeyError, match="execution: unknown sections latency2"):
        apply_overrides(base, {"execution": {"latency2": {}}})
    with pytest.raises(KeyError, match="unknown broker 'dhan'; known: rs20, zero"):
        apply_overrides(base, {"execution": {"broker": "dhan"}})
    with pytest.raises(ValueError, match="execution.queue.func: 'cube' is not one of power, log"):
        rules_vector(apply_overrides(base, {"execution": {"queue": {"model": "prob", "func": "cube"}}}))
    with pytest.raises(ValueError, match="beyond_book: 'drop' is not 'partial' or 'reject'"):
        apply_overrides(base, {"execution": {"fill": {"beyond_book": "drop"}}})


def test_the_slippage_model_charges_atm_and_the_rest_by_distance():
    s = AtmBandSlippage(atm=0.05, otm=0.15, atm_band=1)
    np.testing.assert_array_equal(s.per_unit(np.array([[0.0, 1.0, 2.0, np.nan]])), [[0.05, 0.05, 0.15, 0.15]])
