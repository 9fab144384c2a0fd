"""The zone comes from settings (CKB_TIMEZONE): no product code names a zone of its own."""
from datetime import datetime, timezone

from config.clock import configured_zone_name, install_zone, to_local
from config.settings import DEFAULT_TIMEZONE, PROJECT_ROOT
from events.field_types import parse_datetime

PACKAGES = ("config", "events", "rules", "engine", "handlers", "devices", "crm", "web", "migrations")
SUFFIXES = (".py", ".html", ".js", ".md", ".txt")


def test_the_default_zone_is_written_once():
    found = []
    for package in PACKAGES:
        for path in (PROJECT_ROOT / package).rglob("*"):
            if path.suffix in SUFFIXES and path.is_file() and DEFAULT_TIMEZONE in path.read_text(errors="replace"):
                found.append(str(path.relative_to(PROJECT_ROOT)))
    assert found == ["config/settings.py"]


def test_functions_given_no_zone_follow_the_configured_one():
    before = configured_zone_name()
    try:
        install_zone("Europe/Berlin")
        assert to_local(datetime(2026, 12, 7, 6, 50, tzinfo=timezone.utc)).hour == 7
        # what CRM events rely on: a naive event time is read in the configured zone
        assert parse_datetime("2026-12-07 07:50:00") == datetime(2026, 12, 7, 6, 50, tzinfo=timezone.utc)
    finally:
        install_zone(before)
