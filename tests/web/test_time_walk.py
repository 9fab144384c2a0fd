"""Times are stored in UTC and shown in the configured zone on every page.

On a host whose process zone is UTC, with CKB_TIMEZONE left at its default (UTC+8) and the clock
stopped at 2026-12-07 06:50:17 UTC, an admin walks every console GET route (the masking walk's
route list: list pages with every date filter open, detail pages of the seeded rows) plus the
demo data, and no page may show the UTC wall time 06:50 or an ISO "+00:00" string; the local
14:50 must appear (the walk saw the rows).
"""
from __future__ import annotations

import io
import os
import re
import zipfile
import time
from datetime import datetime

import pytest

import config.clock
from config.clock import UTC, ManualClock
from crm.customers import service as customers
from engine.authoring import create_strategy
from engine.lifecycle import set_enabled
from events.definitions import get_by_code
from rules.groups import create_group
from tests.web.test_masking_walk import _populate, _urls
from web.demo import seed_demo
from web.demo_leads import seed_demo_leads

INSTANT = datetime(2026, 12, 7, 6, 50, 17, tzinfo=UTC)
UTC_WALL = re.compile(r"(?<![\d:])06:50(?![\d])")
ISO_UTC = re.compile(r"\+00:00|\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z")


class _Frozen(datetime):
    """config.clock.utcnow() (the default of every created_at) stopped at INSTANT too."""

    @classmethod
    def now(cls, tz=None):
        return INSTANT.astimezone(tz) if tz else INSTANT.replace(tzinfo=None)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(config.clock, "datetime", _Frozen)
    return ManualClock(INSTANT)


def _people_text(data: bytes) -> str:
    """What a person reads: an .xlsx's sheets (its docProps carry the writer's own UTC stamp)."""
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            data = b"".join(archive.read(n) for n in archive.namelist() if not n.startswith("docProps/"))
    return data.decode("utf-8", "replace")


@pytest.fixture
def utc_host():
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


def _message_with_a_time(app, app_db) -> None:
    """An SMS whose text carries the event's created_at: the outbox must show it in local time (to a
    number nothing else texts, so the per-number SMS cap does not hold it back)."""
    runtime = app.extensions["ckb"]
    with app_db.write() as s:
        event = get_by_code(s, "crm.customer_created")
        group = create_group(s, "时间")
        strategy = create_strategy(s, {"name": "建档时间", "group_id": group.id, "event_id": event.id, "conditions": [],
                                       "steps": [{"processor": "sms", "config": {"mobile": "13700137000",
                                                                                 "content": "建档于 ${created_at}"}}]},
                                   runtime.registry, runtime.services.settings.timezone, "test")
        set_enabled(s, [strategy.id], True)
    runtime.invalidate()
    with app_db.write() as s:
        customers.create_customer(s, {"name": "李四", "mobile": "13900139000"})
    runtime.tick()


def test_no_page_shows_a_utc_wall_time(utc_host, app, app_db, admin_user, login):
    world = _populate(app, app_db)
    _message_with_a_time(app, app_db)
    seed_demo(app.extensions["ckb"])
    seed_demo_leads(app.extensions["ckb"])
    app.extensions["ckb"].tick()  # the lead pipelines: identified, assigned, answered — more stamped rows
    console = app.test_client()
    assert login(console).status_code == 302
    with app.app_context():
        urls = [(e, u) for e, u in _urls(app, world["ids"]) if not u.startswith("/api/")]
    wrong, local_seen = [], set()
    for endpoint, url in urls:
        try:
            resp = console.get(url)
        except Exception:  # noqa: BLE001 - a crashing view is the masking walk's finding, not this one's
            continue
        text = _people_text(resp.get_data())
        resp.close()
        for pattern in (UTC_WALL, ISO_UTC):
            match = pattern.search(text)
            if match:
                wrong.append(f"{url}: …{text[max(0, match.start() - 80):match.end() + 20]!r}…")
        if "14:50" in text:
            local_seen.add(endpoint)
    assert not wrong, "UTC 时间出现在页面上：\n" + "\n".join(wrong)
    assert {"customers.index", "customers.show", "history.index", "crmlogs.index", "leads.index",
            "outbox.index"} <= local_seen, sorted(local_seen)
    assert "建档于 2026-12-07 14:50" in console.get("/outbox").get_data(as_text=True)  # the message itself
