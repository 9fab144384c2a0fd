"""站内通知 and 写日志."""
from __future__ import annotations

import logging

import pytest
from sqlmodel import select

from crm.people.models import Notification, User
from handlers.builtin.log import LogProcessor
from handlers.builtin.notify import NotifyProcessor
from handlers.errors import PermanentError


@pytest.fixture
def users(db):
    with db.write() as session:
        for name, admin, enabled in [("alice", True, True), ("bob", False, True), ("carol", True, True),
                                     ("dave", True, False)]:
            session.add(User(username=name, password_hash="x", is_admin=admin, enabled=enabled))
    with db.read() as session:
        return {u.username: u.id for u in session.exec(select(User)).all()}


def notes(db):
    with db.read() as session:
        return session.exec(select(Notification).order_by(Notification.user_id)).all()


def test_notify_listed_users(make_ctx, db, users):
    config = {"usernames": "bob，alice", "title": "新线索：${name}", "body": "手机 ${mobile}", "link": "/crm/leads"}
    outcome = NotifyProcessor().run(make_ctx({"name": "李四", "mobile": "13800138000"}), config)
    rows = notes(db)
    assert [r.user_id for r in rows] == sorted([users["alice"], users["bob"]])
    assert {r.title for r in rows} == {"新线索：李四"} and rows[0].body == "手机 13800138000"
    assert rows[0].link == "/crm/leads" and rows[0].source == "strategy:7" and not rows[0].read
    assert sorted(outcome.response["recipients"]) == ["alice", "bob"]


def test_notify_all_admins_skips_disabled(make_ctx, db, users):
    NotifyProcessor().run(make_ctx({}), {"to_admins": True, "usernames": ["bob"], "title": "日报"})
    assert sorted(r.user_id for r in notes(db)) == sorted([users["alice"], users["bob"], users["carol"]])


def test_unknown_usernames_are_named_and_nothing_is_written(make_ctx, db, users):
    with pytest.raises(PermanentError, match="找不到这些用户：zed、yan"):
        NotifyProcessor().run(make_ctx({}), {"usernames": "alice, zed, yan", "title": "x"})
    assert notes(db) == []


def test_notify_needs_recipients():
    errors = NotifyProcessor().validate_config({"title": "x"})
    assert errors == ["请填写「接收用户」或勾选「发送给全部管理员」"]


def test_log_masks_pii_and_returns_line(make_ctx, caplog):
    config = {"message": "线索 ${name} ${mobile} ${email}", "level": "warning"}
    with caplog.at_level(logging.DEBUG, logger="cunkebao.strategy"):
        outcome = LogProcessor().run(make_ctx({"name": "李四", "mobile": "13800138000", "email": "li@example.com"}), config)
    assert outcome.request == {"level": "WARNING", "message": "线索 李四 138****8000 l***@example.com"}
    [record] = caplog.records
    assert record.levelno == logging.WARNING and record.getMessage() == outcome.request["message"]
    assert record.strategy_id == 7 and record.event_code == "lead.created"


def test_log_dry_run_writes_nothing(make_ctx, caplog):
    with caplog.at_level(logging.DEBUG, logger="cunkebao.strategy"):
        LogProcessor().run(make_ctx({}, dry_run=True), {"message": "hi"})
    assert caplog.records == []
