"""The recorder on its own: rows only inside an audit context with an actor, in the change's own
transaction (a rollback leaves none), bulk and text statements with their rowcount, quiet
bookkeeping columns skipped, secrets and sealed columns never written, phones masked."""
from __future__ import annotations

import pytest
from sqlalchemy import text, update
from sqlmodel import select

from crm.audit import recorder
from crm.audit.masking import REDACTED, loggable, sensitive_name
from crm.audit.models import OperationLog
from crm.customers.models import Customer
from crm.people.models import ApiToken, User


@pytest.fixture
def audited():
    recorder.install()
    ctx = recorder.AuditContext(request_id="r1", method="POST", endpoint="test.write", path="/t", ip="10.0.0.1",
                                via="console", actor=lambda: (7, "tester"))
    token = recorder.activate(ctx)
    yield ctx
    recorder.deactivate(token)


def _logs(db):
    with db.read() as s:
        return list(s.exec(select(OperationLog).order_by(OperationLog.id)).all())


def test_object_changes_are_logged_masked_in_the_same_transaction(db, audited):
    with db.write() as s:
        c = Customer(name="张三", source="电话 13900139000")
        s.add(c)
        s.flush()
        c.name = "张三丰"
    [insert, update_row] = _logs(db)
    assert insert.action == "insert" and insert.table_name == "customer" and insert.object_id == str(c.id)
    assert insert.changes["source"] == [None, "电话 139****9000"]
    assert update_row.action == "update" and update_row.changes["name"] == ["张三", "张三丰"]
    assert insert.username == "tester" and insert.ip == "10.0.0.1" and insert.request_id == "r1"


def test_a_rollback_leaves_no_log(db, audited):
    with pytest.raises(RuntimeError):
        with db.write() as s:
            s.add(Customer(name="回滚"))
            s.flush()
            raise RuntimeError("refused")
    assert _logs(db) == [] and audited.committed == 0
    with db.write() as s:
        s.add(Customer(name="提交"))
    assert audited.committed == 1  # the web layer adds no request-level row then


def test_nothing_is_logged_outside_a_context_or_without_an_actor(db, audited):
    audited.actor = lambda: None
    with db.write() as s:
        s.add(Customer(name="匿名"))
    recorder.deactivate(recorder.activate(None))
    assert _logs(db) == []


def test_bulk_and_text_statements_are_logged_with_rowcount(db, audited):
    with db.write() as s:
        s.add_all([Customer(name="甲"), Customer(name="乙")])
    with db.write() as s:
        s.execute(update(Customer).where(Customer.name == "甲").values(source="批量"))
        s.execute(text("DELETE FROM customer WHERE name = :n"), {"n": "乙"})
        s.execute(update(Customer).where(Customer.name == "无此人").values(source="x"))  # matched nothing
    bulk = [r for r in _logs(db) if r.action.startswith("bulk_")]
    assert [(r.action, r.table_name, r.rowcount) for r in bulk] == [("bulk_update", "customer", 1),
                                                                      ("bulk_delete", "customer", 1)]
    assert "批量" in bulk[0].summary and "乙" in bulk[1].summary


def test_secrets_and_sealed_columns_are_never_written(db, audited):
    with db.write() as s:
        user = User(username="u1", password_hash="argon-secret-hash", mobile="13800138000")
        s.add(user)
        s.flush()
        s.add(ApiToken(user_id=user.id, name="t", token_hash="deadbeef" * 8, prefix="ckb_abcd"))
    rows = _logs(db)
    text_of_all = repr([r.changes for r in rows])
    assert "argon-secret-hash" not in text_of_all and "deadbeef" not in text_of_all and "13800138000" not in text_of_all
    user_row = next(r for r in rows if r.table_name == "user_account")
    assert user_row.changes["password_hash"][1] == REDACTED and user_row.changes["mobile"][1] == REDACTED


def test_quiet_bookkeeping_updates_are_not_operations(db, audited):
    with db.write() as s:
        user = User(username="u2", password_hash="x")
        s.add(user)
        s.flush()
        token = ApiToken(user_id=user.id, name="t", token_hash="ab" * 32, prefix="ckb_x")
        s.add(token)
    before = len(_logs(db))
    with db.write() as s:
        s.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=token.created_at))
    assert len(_logs(db)) == before


def test_masking_rules():
    assert sensitive_name("app_secret") and sensitive_name("token_hash") and sensitive_name("mobile_bidx")
    assert sensitive_name("encoding_aes_key") and sensitive_name("access_token_sealed")
    assert not sensitive_name("access_token_expires_at") and not sensitive_name("must_change_password")
    assert not sensitive_name("name") and not sensitive_name("app_key")
    assert loggable({"password": "p", "to": "a.b@example.com"}) == {"password": REDACTED, "to": "a***@example.com"}
    assert loggable("x" * 600).endswith("…")
