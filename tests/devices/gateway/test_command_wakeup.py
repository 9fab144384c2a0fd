"""A command committed by ANOTHER process reaches the phone at once — on PostgreSQL by
LISTEN/NOTIFY, on SQLite by the file's data_version — not at the delivery loop's next database
poll: the poll here is a minute, the phone waits ten seconds at most."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from devices.gateway import Gateway
from tests.conftest import POSTGRES
from web.devices_ws import configure

ACCOUNT = {"wxid": "wxid_wake01", "nickname": "小李"}
ISSUE = textwrap.dedent("""
    import sys
    from datetime import datetime
    from config.db import Database
    from devices.commands import issue_command
    db = Database(sys.argv[1])
    with db.write() as s:
        cmd = issue_command(s, int(sys.argv[2]), "send_text", {"to": "wxid_cust", "text": "来自另一个进程"},
                            source="manual", now=datetime.fromisoformat(sys.argv[3]))
        print(cmd.id, cmd.status)
    db.dispose()
""")


@pytest.fixture
def gateway(app):  # overrides the package fixture: a one-minute poll, so only NOTIFY can be quick
    runtime = app.extensions["ckb"]
    gw = configure(Gateway(runtime.services, runtime.ingestor, poll_seconds=60))
    app.extensions["ckb_devices"] = gw
    yield gw
    gw.stop()


def test_a_command_from_another_process_wakes_delivery(raw_phone, make_devices, app_db, clock, gateway):
    [(_device_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"]["wxid_wake01"]
    if POSTGRES:
        assert gateway.delivery.listener is not None and gateway.delivery.listener.ready.wait(10)
    else:
        assert gateway.delivery.sqlite_watch is not None
    out = subprocess.run([sys.executable, "-c", ISSUE, app_db.engine.url.render_as_string(hide_password=False),
                          str(account_id), clock.now().isoformat()],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "CKB_SECRET_KEY": "test-secret-key"})
    assert out.returncode == 0, out.stderr
    command_id, status = out.stdout.split()
    assert status == "queued"
    frame = phone.next_command(timeout=10)  # the poll would take a minute
    assert frame["id"] == int(command_id) and frame["payload"]["text"] == "来自另一个进程"


def test_each_database_has_its_own_wakeup(app, gateway):
    delivery = gateway.delivery
    if POSTGRES:
        assert delivery.listener is not None and delivery.sqlite_watch is None
    else:
        assert delivery.listener is None and delivery.sqlite_watch is not None


def test_a_command_from_another_process_waits_for_the_poll_without_the_wakeup(raw_phone, make_devices, app_db,
                                                                               clock, gateway):
    """The control: with the wake-up taken away, the same command is not on the phone within
    the wait above (the one-minute poll has not come round), so the first test proves the wake-up."""
    delivery = gateway.delivery
    if delivery.listener is not None:
        delivery.listener.stop()
        delivery.listener = None
    if delivery.sqlite_watch is not None:
        delivery.sqlite_watch.close()
        delivery.sqlite_watch = None
    [(_device_id, token)] = make_devices()
    phone = raw_phone()
    account_id = phone.login(token, [ACCOUNT])["accounts"]["wxid_wake01"]
    out = subprocess.run([sys.executable, "-c", ISSUE, app_db.engine.url.render_as_string(hide_password=False),
                          str(account_id), clock.now().isoformat()],
                         capture_output=True, text=True, timeout=60, env={**os.environ, "CKB_SECRET_KEY": "test-secret-key"})
    assert out.returncode == 0, out.stderr
    with pytest.raises(TimeoutError):  # no command frame in three seconds
        phone.next_command(timeout=3)
