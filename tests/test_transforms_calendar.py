import datetime as dt

from tests.realdata import realdata
from transforms.calendar import (is_expiry_eligible, is_trading_day, previous_expiry_day, session_bounds,
                                 session_seconds, session_segments, trading_days)

D = dt.date


def test_regular_session_has_22501_one_second_snapshots():
    assert session_seconds(D(2025, 11, 4)) == 22501
    start, end = session_bounds(D(2025, 11, 4))
    assert (start.time(), end.time()) == (dt.time(9, 15), dt.time(15, 30))
    assert str(start.utcoffset()) == "5:30:00"


def test_weekends_and_holidays_have_no_session():
    assert not is_trading_day(D(2025, 11, 8))          # Saturday
    assert not is_trading_day(D(2025, 11, 5))          # Guru Nanak Jayanti
    assert not is_trading_day(D(2024, 1, 22))          # declared late, in NSE's final 2024 list
    assert is_trading_day(D(2023, 6, 29))              # Bakri Id moved to 06-28; 06-29 traded
    assert not is_trading_day(D(2023, 6, 28))


def test_special_sessions_replace_the_regular_day():
    assert is_trading_day(D(2024, 1, 20)) and session_seconds(D(2024, 1, 20)) == 22501  # Saturday session
    drill = session_segments(D(2024, 3, 2))
    assert [(s.start, s.end) for s in drill] == [(dt.time(9, 15), dt.time(10)), (dt.time(11, 30), dt.time(12, 30))]
    muhurat = session_segments(D(2024, 11, 1))
    assert muhurat[0].kind == "muhurat" and is_trading_day(D(2024, 11, 1)) and not is_expiry_eligible(D(2024, 11, 1))


def test_holiday_shift_goes_to_the_previous_normal_session():
    assert previous_expiry_day(D(2024, 12, 25)) == D(2024, 12, 24)
    assert previous_expiry_day(D(2026, 3, 31)) == D(2026, 3, 30)


def test_trading_days_skip_holidays():
    assert list(trading_days(D(2025, 11, 3), D(2025, 11, 7))) == [D(2025, 11, 3), D(2025, 11, 4), D(2025, 11, 6),
                                                                 D(2025, 11, 7)]


def _official(name: str) -> set[dt.date]:
    text = realdata("nse_calendars", name).read_text().split()
    return {dt.datetime.strptime(t, "%d-%b-%Y").date() for t in text}


def test_calendar_matches_nse_fo_holiday_lists_2024_to_2026():
    """Every weekday holiday of NSE's own F&O lists is closed here (real data; skips without it)."""
    for name in ("nse_fo_holidays_2024_final_citadel-hq_f5730c7.csv", "nse_fo_holidays_2025_citadel-hq_15f1585.csv",
                 "nse_fo_holidays_2026_citadel-hq_e297a22.csv"):
        for day in _official(name):
            if day.weekday() < 5:
                assert not is_expiry_eligible(day), (name, day)
