"""The one time-window type: every HH:MM window of the project reads the end minute the same way."""
from datetime import datetime, time, timezone

import pytest

from config.errors import ClockError
from config.timewindow import ALL_DAY, TimeWindow, clock_time, normalize_clock, parse_clock
from crm.leads.assign_methods import in_working_hours
from devices.autoaccept import in_window as autoaccept_in_window
from devices.budget import quiet_until
from devices.models import AutoAcceptRule
from handlers.builtin.workbench_base import in_window as workbench_in_window
from config.settings import Settings

TZ = "Asia/Shanghai"  # a fixed test zone, not a product default


def test_parse_and_validate():
    assert parse_clock("9:05") == 545 and normalize_clock("9:05") == "09:05"
    assert parse_clock("24:00", end=True) == 1440
    for bad in ("24:00", "12:60", "noon", "", None, "7"):
        with pytest.raises(ClockError):
            parse_clock(bad)
    with pytest.raises(ClockError):
        TimeWindow.of("08:00", "08:00")
    assert clock_time("05:30") == time(5, 30)
    assert str(TimeWindow.parse("22:00–08:00")) == "22:00-08:00"


def test_end_minute_never_counts_and_overnight():
    day, night = TimeWindow.of("09:00", "18:00"), TimeWindow.of("22:00", "08:00")
    assert day.contains(time(9, 0)) and day.contains(time(17, 59, 59)) and not day.contains(time(18, 0))
    assert night.overnight and night.contains(time(23, 0)) and night.contains(time(7, 59))
    assert not night.contains(time(8, 0)) and not night.contains(time(21, 59))
    assert TimeWindow.of("00:00", "24:00") == ALL_DAY and ALL_DAY.contains(time(23, 59, 30))
    assert TimeWindow.of("22:00", "00:00").contains(time(23, 59)) and not TimeWindow.of("22:00", "00:00").contains(time(0, 0))
    local = datetime(2026, 12, 8, 3, 0)
    assert night.opened_on(local).day == 7 and night.closes_after(local) == datetime(2026, 12, 8, 8, 0)
    assert night.opens_after(local) == datetime(2026, 12, 8, 22, 0)


def test_every_window_check_agrees_on_the_end_minute():
    """autoaccept, lead working hours, quiet hours and the workbench once disagreed about 18:00."""
    at_end = datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc)  # 18:00 UTC; tests below use UTC walls
    utc = "UTC"
    rule = AutoAcceptRule(name="r", start_time="09:00", end_time="18:00")
    hours = {"enabled": True, "weekdays": [1, 2, 3, 4, 5, 6, 7], "start": "09:00", "end": "18:00"}
    settings = Settings(timezone=utc, budget_quiet_hours="09:00-18:00")
    answers = {autoaccept_in_window(rule, at_end), in_working_hours(hours, at_end, utc),
               workbench_in_window(at_end, "09:00", "18:00"), quiet_until(at_end, settings) is not None}
    assert answers == {False}
    just_before = at_end.replace(hour=17, minute=59, second=59)
    answers = {autoaccept_in_window(rule, just_before), in_working_hours(hours, just_before, utc),
               workbench_in_window(just_before, "09:00", "18:00"), quiet_until(just_before, settings) is not None}
    assert answers == {True}
