"""Index of every field of the float64 parameter vector the engine kernels read (numba-friendly).

backtest.config builds the vector from a strategy's declarative config; NaN means "rule off".
"""
from __future__ import annotations

FIELDS = (
    # execution (from backtest.models.ExecParams)
    "latency_s", "partial_beyond_book", "slip_atm", "slip_otm", "atm_band",
    # entries and risk
    "qty_lots", "entry_timeout_s", "entry_start_s", "entry_end_s", "max_open", "daily_loss_r",
    "cooldown_losers", "cooldown_s",
    # exits (rupees per unit unless *_pct; pct of the entry premium)
    "target", "stop", "target_pct", "stop_pct", "time_stop_s", "session_exit_s",
    "trail_activate", "trail_offset", "trail_on_ltp", "atr_mult", "ema_gap",
    "lock1_at", "lock1_to", "lock2_at", "lock2_to", "lock3_at", "lock3_to", "max_entries",
    # multi-leg
    "combined_stop", "leg_diff_exit", "spot_roc_exit", "credit_capture", "leg_stop",
    "roll_after_s", "roll_score_mult",
)
N_LOCKS = 3
IDX = {name: i for i, name in enumerate(FIELDS)}
globals().update({name.upper(): i for i, name in enumerate(FIELDS)})

# exit reasons (codes in trade records; names in the trades table)
EXIT_REASONS = ("", "target", "stop", "trailing_stop", "time_stop", "session_exit", "signal_exit", "ema_gap",
                "combined_stop", "leg_divergence", "spot_move", "credit_captured", "leg_stop", "roll",
                "end_of_data")
R = {name: i for i, name in enumerate(EXIT_REASONS)}

# trade events
EVENTS = ("", "signal", "order", "fill", "cancel", "stop_move", "exit_signal", "exit_order", "exit_fill",
          "partial", "stop_and_target_same_second", "wait_no_quote", "reject")
E = {name: i for i, name in enumerate(EVENTS)}
# integer constants for the kernels (numba cannot read dicts): R_TARGET, R_STOP, ..., E_SIGNAL, ...
globals().update({f"R_{name.upper()}": i for i, name in enumerate(EXIT_REASONS) if name})
globals().update({f"E_{name.upper()}": i for i, name in enumerate(EVENTS) if name})
