"""Times in messages: a stored event time prints as the configured zone's wall clock."""
from datetime import datetime, timezone

import json
import logging

from config.clock import configured_zone_name, install_zone
from config.logging_setup import MaskingJsonFormatter
from events.placeholders import render_message, render_text

STORED = "2026-12-07T06:50:00+00:00"


def test_messages_show_local_time_and_machine_payloads_keep_iso():
    before = configured_zone_name()
    install_zone("Asia/Shanghai")
    try:
        data = {"t": STORED, "d": datetime(2026, 12, 7, 6, 50, tzinfo=timezone.utc), "code": "2026-12-07", "n": 5}
        assert render_message("预约 ${t}，提醒 ${d}，单号 ${code}", data) == "预约 2026-12-07 14:50，提醒 2026-12-07 14:50，单号 2026-12-07"
        assert render_text("${t}", data) == STORED
        install_zone("Europe/Berlin")
        assert render_message("${t}", data) == "2026-12-07 07:50"
    finally:
        install_zone(before)


def test_log_lines_carry_their_zone():
    record = logging.makeLogRecord({"msg": "x", "created": datetime(2026, 12, 7, 6, 50, tzinfo=timezone.utc).timestamp()})
    before = configured_zone_name()
    install_zone("Asia/Shanghai")
    try:
        assert json.loads(MaskingJsonFormatter().format(record))["ts"] == "2026-12-07T14:50:00.000+08:00"
    finally:
        install_zone(before)


def test_why_traces_show_local_time():
    from rules.conditions.values import display

    before = configured_zone_name()
    install_zone("Asia/Shanghai")
    try:
        assert display(datetime(2026, 12, 7, 6, 50, tzinfo=timezone.utc)) == "2026-12-07 14:50:00"
    finally:
        install_zone(before)
