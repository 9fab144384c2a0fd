"""Encrypted callbacks over the real endpoint: an add with a State creates the customer and fires a
strategy (欢迎语 + 打标签) through the real engine; forged and replayed ones are refused and counted;
out-of-order/lost callbacks are settled by re-fetching."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.tags.models import CustomerTag, Tag
from engine.authoring import create_strategy
from engine.lifecycle import set_enabled
from events.definitions import get_by_code
from events.models import EventRecord
from integrations import wxcrypto
from integrations.wecom.callbacks import counts
from integrations.wecom.events import ensure_definitions
from integrations.wecom.models import WecomContact, WecomGroupChat
from integrations.wecom.sync import run_sync
from rules.groups import create_group
from tests.engine.conftest import row
from tests.handlers.crm_kit import step


def _strategy(rt, code, conditions, steps):
    svc = rt.services
    with svc.db.write() as s:
        ensure_definitions(s)
        group = create_group(s, "企业微信")
        st = create_strategy(s, {"name": "新客欢迎", "group_id": group.id, "event_id": get_by_code(s, code).id,
                                 "conditions": conditions, "steps": steps}, rt.registry, svc.settings.timezone, "test")
        set_enabled(s, [st.id], True)
    rt.invalidate()


@pytest.fixture
def rt(wecom_app):
    return wecom_app.extensions["ckb"]


def test_add_with_state_creates_customer_and_fires_welcome_and_tag(wecom_app, rt, fake_corp, app_corp_pk):
    client = wecom_app.test_client()
    fake_corp.add_user("u01", "员工01", [1])
    fake_corp.add_tag_group("渠道", ["春季活动"])
    run_sync(rt.services, app_corp_pk, "tags")  # 春季活动 ↔ the corp tag, in 「企业微信·渠道」
    _strategy(rt, "wecom.contact_added", [row("state", "eq", "spring")],
              [step("wecom.welcome", text="${name}您好，欢迎来到春季活动！"), step("crm.add_tag", tags="春季活动"),
               step("wecom.mark_tag", tags="春季活动")])

    callback = fake_corp.add_external_contact("u01", "wm_new01", name="王五", state="spring", welcome_code="WC-1")
    answer = callback.post(client, fake_corp.corp_id)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "success")
    rt.tick()

    with rt.services.db.read() as s:
        contact = s.exec(select(WecomContact).where(WecomContact.external_userid == "wm_new01")).one()
        customer = s.get(Customer, contact.customer_id)
        assert (customer.name, customer.source, contact.linked_by) == ("王五", "企业微信", "created")
        assert contact.follow_users[0]["state"] == "spring"
        tag = s.exec(select(Tag).where(Tag.name == "春季活动")).one()
        assert s.get(CustomerTag, (customer.id, tag.id)) is not None
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "wecom.contact_added")).one()
        assert event.data["welcome_code"] == "WC-1" and event.data["customer_created"] is True
    assert fake_corp.welcome_messages == [{"welcome_code": "WC-1", "text": {"content": "王五您好，欢迎来到春季活动！"}}]
    assert fake_corp.marked == [{"userid": "u01", "external_userid": "wm_new01", "add_tag": [fake_corp.tag_id("春季活动")]}]
    assert [t["tag_name"] for t in fake_corp.contacts["wm_new01"]["follow_user"][0]["tags"]] == ["春季活动"]

    # The same bytes again are a replay (403); WeCom's own retry (same event, new nonce) is stored once.
    assert callback.post(client, fake_corp.corp_id).status_code == 403
    retry = fake_corp.add_external_contact("u01", "wm_new01", name="王五", state="spring", welcome_code="WC-1")
    assert retry.post(client, fake_corp.corp_id).status_code == 200
    rt.tick()
    with rt.services.db.read() as s:
        assert len(s.exec(select(EventRecord).where(EventRecord.event_code == "wecom.contact_added",
                                                    EventRecord.status == "accepted")).all()) == 1
    other_state = fake_corp.add_external_contact("u01", "wm_new02", name="赵六", state="autumn", welcome_code="WC-2")
    assert other_state.post(client, fake_corp.corp_id).status_code == 200
    rt.tick()
    assert len(fake_corp.welcome_messages) == 1  # the condition on State held the strategy back


def test_forged_callbacks_are_refused_and_counted(wecom_app, rt, fake_corp, app_corp_pk, clock):
    client = wecom_app.test_client()
    corp = fake_corp.corp_id
    good = fake_corp.add_external_contact("u01", "wm_forged", name="假客户", state="spring")
    forged = [
        ("bad_signature", good.with_query(msg_signature="0" * 40)),
        ("bad_signature", fake_corp.callback({"Event": "change_external_contact"}, token="wrongtoken")),
        ("wrong_receiver", fake_corp.callback({"Event": "change_external_contact"}, receiver="wwSOMEONEELSE")),
        ("bad_padding", fake_corp.callback({"Event": "change_external_contact"}, aes_key=wxcrypto.new_aes_key())),
        ("stale_timestamp", fake_corp.callback({"Event": "change_external_contact"},
                                               timestamp=int((clock.now() - timedelta(minutes=10)).timestamp()))),
    ]
    for reason, callback in forged:
        answer = callback.post(client, corp)
        assert (answer.status_code, answer.get_data(as_text=True)) == (403, f"refused: {reason}"), reason
    assert good.post(client, corp).status_code == 200
    assert good.post(client, corp).get_data(as_text=True) == "refused: replay"
    assert client.post(f"/wecom/callback/wwunknown?{'timestamp=1'}", data=b"<xml/>").status_code == 404
    with rt.services.db.read() as s:
        tally = counts(s, app_corp_pk)
        assert tally == {"accepted": 1, "refused": 6,
                         "reasons": {"bad_signature": 2, "wrong_receiver": 1, "bad_padding": 1, "stale_timestamp": 1,
                                     "replay": 1}}
        assert s.exec(select(WecomContact).where(WecomContact.external_userid == "wm_forged")).all()  # only the good one


def test_url_verification_echoes_the_decrypted_echostr(wecom_app, fake_corp, app_corp_pk):
    client = wecom_app.test_client()
    args = fake_corp.verify_url("echo-42")
    answer = client.get(f"/wecom/callback/{fake_corp.corp_id}", query_string=args)
    assert (answer.status_code, answer.get_data(as_text=True)) == (200, "echo-42")
    args["msg_signature"] = "f" * 40
    assert client.get(f"/wecom/callback/{fake_corp.corp_id}", query_string=args).status_code == 403


def test_out_of_order_and_lost_callbacks_settle_by_refetching(wecom_app, rt, fake_corp, app_corp_pk):
    client = wecom_app.test_client()
    corp = fake_corp.corp_id
    fake_corp.add_user("u01", "员工01", [1])
    fake_corp.add_user("u02", "员工02", [1])
    add1 = fake_corp.add_external_contact("u01", "wm_x", name="钱七")
    add2 = fake_corp.add_external_contact("u02", "wm_x", name="钱七")  # a second employee adds them too
    gone = fake_corp.remove_follow("u01", "wm_x", "del_follow_user")
    # Delivered out of order, and add2 is lost: the delete arrives first.
    assert gone.post(client, corp).status_code == 200
    assert add1.post(client, corp).status_code == 200
    with rt.services.db.read() as s:
        contact = s.exec(select(WecomContact).where(WecomContact.external_userid == "wm_x")).one()
        assert [f["userid"] for f in contact.follow_users] == ["u02"]  # WeCom's truth, not the callbacks' order
        codes = [e.event_code for e in s.exec(select(EventRecord).where(EventRecord.source == "wecom"))]
        assert sorted(codes) == ["wecom.contact_added", "wecom.contact_deleted"]
    fake_corp.add_chat("wr_1", "春季群", "u01", ["u01", "wm_x"])
    assert fake_corp.change_chat("wr_1", "create", "").post(client, corp).status_code == 200
    fake_corp.chats["wr_1"]["member_list"].append({"userid": "wm_y", "type": 2, "join_time": 1, "join_scene": 3})
    assert fake_corp.change_chat("wr_1", "update", "add_member").post(client, corp).status_code == 200
    assert fake_corp.change_chat("wr_1", "dismiss", "").post(client, corp).status_code == 200
    with rt.services.db.read() as s:
        chat = s.exec(select(WecomGroupChat).where(WecomGroupChat.chat_id == "wr_1")).one()
        assert chat.member_count == 3 and chat.dismissed_at is not None
        assert len(s.exec(select(EventRecord).where(EventRecord.event_code == "wecom.chat_changed")).all()) == 3


def test_add_still_creates_the_customer_when_wecom_is_unreachable(wecom_app, rt, fake_corp, app_corp_pk):
    from tests.support.fake_http import Reply

    client = wecom_app.test_client()
    callback = fake_corp.add_external_contact("u01", "wm_down", name="孙八", state="spring", welcome_code="WC-9")
    fake_corp.fail_next = [Reply(503, "down")]  # the re-fetch fails (one short attempt)
    assert callback.post(client, fake_corp.corp_id).status_code == 200
    with rt.services.db.read() as s:
        contact = s.exec(select(WecomContact).where(WecomContact.external_userid == "wm_down")).one()
        assert contact.customer_id and contact.follow_users[0]["state"] == "spring"
        event = s.exec(select(EventRecord).where(EventRecord.event_code == "wecom.contact_added")).one()
        assert event.data["welcome_code"] == "WC-9"
