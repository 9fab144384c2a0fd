"""智能回复 console: entries CRUD with Chinese field errors, import from .json and .xlsx (all or
nothing), the 试一试 box, 已解决/未解决 and the 解决率, the 待人工 list per owner, permissions."""
from __future__ import annotations

import io
import json

import pytest
from openpyxl import Workbook
from sqlmodel import select

from community.kb.models import KbAnswerLog, KbEntry, KbPassage
from conversations.models import Conversation
from crm.people import service as people
from devices.models import WechatAccount
from tests.web.conftest import get_csrf_token


@pytest.fixture
def admin(app, client, admin_user, login):
    assert login(client).status_code == 302
    return {"client": client, "csrf": get_csrf_token(client, "/kb")}


def post(w, url, data, **kw):
    return w["client"].post(url, data={**data, "csrf_token": w["csrf"]}, **kw)


def test_entry_crud_try_it_and_errors(admin, app_db):
    bad = post(admin, "/kb/entries", {"kind": "qa", "question": "", "answer": ""})
    assert bad.status_code == 400 and "问题（文档标题）不能为空" in bad.get_data(as_text=True)
    ok = post(admin, "/kb/entries", {"kind": "qa", "topic": "物流", "question": "运费多少", "alternatives": "包邮吗\n满多少包邮",
                                     "answer": "全场满 99 元包邮。", "enabled": "1"})
    assert ok.status_code == 302
    doc = post(admin, "/kb/entries", {"kind": "doc", "topic": "门店", "question": "门店须知", "enabled": "1",
                                      "answer": "门店营业时间 9:30-21:30。周末照常营业。\n\n停车：商场地下车库，消费满 200 元免费停车 2 小时。"})
    assert doc.status_code == 302
    with app_db.read() as s:
        entries = {e.question: e for e in s.exec(select(KbEntry))}
        assert entries["运费多少"].alternatives == ["包邮吗", "满多少包邮"]
        assert len(s.exec(select(KbPassage).where(KbPassage.entry_id == entries["门店须知"].id)).all()) >= 1
    page = admin["client"].get("/kb?q=满多少钱包邮").get_data(as_text=True)
    assert "自动回答" in page and "全场满 99 元包邮" in page
    page = admin["client"].get("/kb?q=停车收费吗").get_data(as_text=True)
    assert "免费停车" in page
    page = admin["client"].get("/kb?q=你们老板是谁").get_data(as_text=True)
    assert "转人工" in page
    eid = entries["运费多少"].id
    assert post(admin, f"/kb/entries/{eid}", {"kind": "qa", "question": "运费怎么算", "answer": "满 99 包邮",
                                              "enabled": "1"}).status_code == 302
    assert post(admin, f"/kb/entries/{eid}/delete", {}).status_code == 302
    assert post(admin, "/kb/entries/99999/delete", {}).status_code == 404
    with app_db.read() as s:
        assert [e.question for e in s.exec(select(KbEntry))] == ["门店须知"]


def test_import_json_and_xlsx_all_or_nothing(admin, app_db):
    rows = [{"key": "a", "topic": "积分", "question": "积分怎么用", "answer": "100 积分抵 1 元"},
            {"key": "b", "topic": "积分", "question": "积分会过期吗", "alternatives": ["积分有效期"], "answer": "12 个月"}]
    files = {"file": (io.BytesIO(json.dumps({"entries": rows}, ensure_ascii=False).encode()), "kb.json")}
    assert post(admin, "/kb/import", files, content_type="multipart/form-data").status_code == 302
    again = {"file": (io.BytesIO(json.dumps(rows[:1] + [{"key": "c", "question": "", "answer": "x"}]).encode()), "kb.json")}
    refused = post(admin, "/kb/import", again, content_type="multipart/form-data")
    assert refused.status_code == 400 and "第 2 条" in refused.get_data(as_text=True)
    wb = Workbook()
    ws = wb.active
    ws.append(["编号", "主题", "类型", "问题", "相似问法", "答案"])
    ws.append(["a", "积分", "问答", "积分怎么抵现", "积分抵钱|积分能当钱用吗", "100 积分抵 1 元，最多抵 30%"])
    raw = io.BytesIO()
    wb.save(raw)
    raw.seek(0)
    assert post(admin, "/kb/import", {"file": (raw, "kb.xlsx")}, content_type="multipart/form-data").status_code == 302
    bad = post(admin, "/kb/import", {"file": (io.BytesIO(b"x"), "kb.csv")}, content_type="multipart/form-data")
    assert bad.status_code == 400 and "只支持" in bad.get_data(as_text=True)
    with app_db.read() as s:
        by_key = {e.key: e for e in s.exec(select(KbEntry))}
    assert set(by_key) == {"a", "b"}  # key a updated in place, the refused file wrote nothing
    assert by_key["a"].question == "积分怎么抵现" and by_key["a"].alternatives == ["积分抵钱", "积分能当钱用吗"]


def test_marking_answers_shows_the_resolution_rate(admin, app_db):
    with app_db.write() as s:
        rows = [KbAnswerLog(question=f"问题{i}", score=0.5, answer="答", source="strategy") for i in range(4)]
        s.add_all(rows)
        s.flush()
        ids = [r.id for r in rows]
    for log_id, verdict in zip(ids, ["resolved", "resolved", "resolved", "unresolved"]):
        assert post(admin, f"/kb/logs/{log_id}/{verdict}", {}).status_code == 302
    assert post(admin, "/kb/logs/99999/resolved", {}).status_code == 404
    page = admin["client"].get("/kb").get_data(as_text=True)
    assert "75.0%" in page and "目标 ≥ 70%" in page


def test_pending_list_is_per_owner_and_needs_permission(app, app_db, admin_user, login):
    people.ensure_builtin_roles(app_db)
    a = people.create_user(app_db, "sales_a", "Sales12345", roles=["sales"]).id
    with app_db.write() as s:
        acc = WechatAccount(wxid="wx_a", nickname="甲的号", owner_user_id=a)
        other = WechatAccount(wxid="wx_b", nickname="别人的号")
        s.add_all([acc, other])
        s.flush()
        mine = Conversation(account_id=acc.id, peer_id="wx_c1", title="甲的顾客", needs_human=True, needs_human_reason="智能回复转人工：匹配度低")
        theirs = Conversation(account_id=other.id, peer_id="wx_c2", title="别人的顾客", needs_human=True)
        s.add_all([mine, theirs])
        s.flush()
        mine_id, theirs_id = mine.id, theirs.id
    sales = app.test_client()
    assert login(sales, "sales_a", "Sales12345").status_code == 302
    page = sales.get("/kb/pending").get_data(as_text=True)
    assert "甲的顾客" in page and "别人的顾客" not in page
    assert sales.get("/kb").status_code == 403
    csrf = get_csrf_token(sales, "/kb/pending")
    assert sales.post(f"/kb/pending/{theirs_id}/done", data={"csrf_token": csrf}).status_code == 404
    assert sales.post(f"/kb/pending/{mine_id}/done", data={"csrf_token": csrf}).status_code == 302
    with app_db.read() as s:
        assert not s.get(Conversation, mine_id).needs_human and s.get(Conversation, theirs_id).needs_human


def test_topics_rename_and_delete_keep_their_entries(admin, app_db):
    from community.kb.models import KbTopic

    post(admin, "/kb/entries", {"kind": "qa", "topic": "物流", "question": "运费多少", "answer": "满 99 包邮", "enabled": "1"})
    post(admin, "/kb/entries", {"kind": "qa", "topic": "售后", "question": "能退货吗", "answer": "7 天无理由", "enabled": "1"})
    with app_db.read() as s:
        topics = {t.name: t.id for t in s.exec(select(KbTopic))}
    clash = post(admin, f"/kb/topics/{topics['物流']}", {"name": "售后"})
    assert clash.status_code == 400 and "已有主题「售后」" in clash.get_data(as_text=True)
    assert post(admin, f"/kb/topics/{topics['物流']}", {"name": "配送"}).status_code == 302
    assert "配送" in admin["client"].get(f"/kb?topic={topics['物流']}").get_data(as_text=True)
    assert post(admin, f"/kb/topics/{topics['售后']}/delete", {}).status_code == 302
    assert post(admin, "/kb/topics/99999/delete", {}).status_code == 404
    with app_db.read() as s:
        assert {t.name for t in s.exec(select(KbTopic))} == {"配送"}
        assert s.exec(select(KbEntry).where(KbEntry.question == "能退货吗")).one().topic_id is None
