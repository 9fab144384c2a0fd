"""短信推送 (seed 001 图 78) from 客户档案: ticked customers, an SMS template whose ${code} comes from
its event and is typed by the sender, preview, send through the SMS processor (outbox, per-number
caps), a per-customer report, a re-post sending nothing twice, and a 业务员 reaching only their own
customers."""
from __future__ import annotations

import re

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.people import service as people
from crm.sales.models import MessageTemplate
from events.definitions import create_definition
from handlers.models import SmsMessage
from tests.web.conftest import get_csrf_token

PASSWORD = "Sales12345"


@pytest.fixture
def world(app_db):
    people.ensure_builtin_roles(app_db)
    a = people.create_user(app_db, "sales_a", PASSWORD, display_name="业务员甲", roles=["sales"]).id
    b = people.create_user(app_db, "sales_b", PASSWORD, display_name="业务员乙", roles=["sales"]).id
    with app_db.write() as s:
        create_definition(s, {"code": "user.verify", "name": "身份验证", "fields": [
            {"name": "code", "type": "text", "label": "验证码", "required": True}]})
        s.add(MessageTemplate(code="SMS_117610140", name="验证码", channel="sms", event_code="user.verify",
                              body="${name}您好，验证码${code}，请勿告知他人！"))
        s.add(MessageTemplate(code="hello", name="问候", channel="sms", body="${name}您好"))
        rows = {"zhang": Customer(name="张三", mobile="13800138000", owner_id=a),
                "wang": Customer(name="王五", owner_id=a),  # no mobile
                "zhao": Customer(name="赵六", mobile="12345", owner_id=a),  # not a mobile
                "li": Customer(name="李四机密", mobile="13900139000", owner_id=b)}
        s.add_all(rows.values())
        s.flush()
        tpl = s.exec(select(MessageTemplate).where(MessageTemplate.code == "SMS_117610140")).one()
        return {"ids": {k: c.id for k, c in rows.items()}, "tpl": tpl.id, "a": a, "b": b}


def _sms(app_db):
    with app_db.read() as s:
        return list(s.exec(select(SmsMessage).order_by(SmsMessage.id)))


def _signed_in(app, login, username="sales_a"):
    client = app.test_client()
    assert login(client, username, PASSWORD).status_code == 302
    return client, get_csrf_token(client, "/customers")


def _push(client, token, ids, **form):
    return client.post("/customers/sms-push", data={"csrf_token": token, "ids": [str(i) for i in ids], **form})


def test_compose_preview_send_and_report(app, app_db, login, world):
    client, token = _signed_in(app, login)
    ids = world["ids"]
    mine = [ids["zhang"], ids["wang"], ids["zhao"], ids["li"]]  # 李四 is 业务员乙's: silently dropped
    html = _push(client, token, mine).get_data(as_text=True)
    assert "已选 <strong>3</strong> 人" in html and "李四机密" not in html and "业务员甲" in html
    push = re.search(r'name="push" value="([0-9a-f]{32})"', html).group(1)
    html = _push(client, token, mine, template_id=str(world["tpl"]), push=push, var_code="1090").get_data(as_text=True)
    assert 'name="var_code"' in html and "张三您好，验证码1090，请勿告知他人！" in html and push in html

    form = {"csrf_token": token, "ids": [str(i) for i in mine], "template_id": str(world["tpl"]), "push": push}
    missing = client.post("/customers/sms-push/send", data=form)
    assert missing.status_code == 400 and "请填写 验证码" in missing.get_data(as_text=True) and _sms(app_db) == []

    resp = client.post("/customers/sms-push/send", data={**form, "var_code": "1090"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200, html[:500]
    assert "已发送 <strong>1</strong>" in html and "未发送/已拒绝 <strong>2</strong>" in html
    assert "客户没有手机号" in html and "不是有效的中国大陆手机号" in html and "李四机密" not in html
    [sms] = _sms(app_db)
    assert (sms.mobile, sms.content) == ("13800138000", "张三您好，验证码1090，请勿告知他人！")

    again = client.post("/customers/sms-push/send", data={**form, "var_code": "1090"})  # a double click
    assert again.status_code == 302 and again.location.endswith(f"/customers/sms-push/{push}")
    report = client.get(again.location).get_data(as_text=True)
    assert "张三" in report and "已发送" in report and len(_sms(app_db)) == 1


def test_per_number_cap_defers_and_says_why(app, app_db, login, world):
    client, token = _signed_in(app, login)
    zhang = world["ids"]["zhang"]
    with app_db.read() as s:
        hello = s.exec(select(MessageTemplate.id).where(MessageTemplate.code == "hello")).one()
    for push in ("a" * 32, "b" * 32):
        html = client.post("/customers/sms-push/send", data={"csrf_token": token, "ids": [str(zhang)],
                                                             "template_id": str(hello), "push": push}).get_data(as_text=True)
    assert "已延后" in html and "每分钟 1 条" in html
    assert len([m for m in _sms(app_db) if m.status != "queued"]) == 1


def test_another_salespersons_customer_is_never_texted(app, app_db, login, world):
    client, token = _signed_in(app, login)
    li = world["ids"]["li"]
    resp = client.post("/customers/sms-push/send", data={"csrf_token": token, "ids": [str(li)],
                                                         "template_id": str(world["tpl"]), "push": "c" * 32,
                                                         "var_code": "1"})
    assert resp.status_code == 302 and _sms(app_db) == []
    assert "李四机密" not in _push(client, token, [li]).get_data(as_text=True)
    # B's own push report shows nothing of B's customer to A.
    b_client, b_token = _signed_in(app, login, "sales_b")
    b_client.post("/customers/sms-push/send", data={"csrf_token": b_token, "ids": [str(li)],
                                                    "template_id": str(world["tpl"]), "push": "d" * 32, "var_code": "2"})
    assert len(_sms(app_db)) == 1
    assert client.get("/customers/sms-push/" + "d" * 32).status_code == 404
    assert client.get("/customers/sms-push/not-a-token").status_code == 404


def test_too_many_and_disabled_template(app, app_db, login, world, admin_user):
    client, token = _signed_in(app, login)
    with app_db.write() as s:
        s.get(MessageTemplate, world["tpl"]).enabled = False
    resp = client.post("/customers/sms-push/send", data={"csrf_token": token, "ids": [str(world["ids"]["zhang"])],
                                                         "template_id": str(world["tpl"]), "push": "e" * 32})
    assert resp.status_code == 400 and "请选择一个启用的短信模板" in resp.get_data(as_text=True)
    resp = _push(client, token, range(1, 300))
    assert resp.status_code == 302
    assert "一次最多推送 200 位客户" in client.get(resp.location).get_data(as_text=True)


def test_from_the_follow_up_task_list(app, app_db, login, world):
    """图 76 客户跟进任务: tick the tasks' customers, 短信推送 opens with them."""
    from crm.sales.models import Task

    with app_db.write() as s:
        s.add(Task(title="回访张三", kind="follow_up", customer_id=world["ids"]["zhang"], owner_id=world["a"],
                   creator_id=world["a"]))
    client, token = _signed_in(app, login)
    html = client.get("/worktasks/followups").get_data(as_text=True)
    assert 'form="followup-sms"' in html and f'value="{world["ids"]["zhang"]}"' in html
    page = _push(client, token, [world["ids"]["zhang"]]).get_data(as_text=True)
    assert "已选 <strong>1</strong> 人：张三" in page
