"""快捷回复: ${变量} checked at save (unknown ones named), rendered in the sandbox from the customer
and the friend, visibility by department, search over title / text / category, send counts."""
from __future__ import annotations

import pytest

from conversations.errors import ConversationError, ConversationNotFound
from conversations.quick_replies import categories, rendering, service, variables
from conversations.models import Conversation
from crm.customers.models import Company, Customer
from crm.people.models import Department, User, UserDepartment
from crm.scope import Viewer
from devices.models import Friend, WechatAccount

MANAGER = Viewer(1, frozenset({"quick_replies.manage", "conversations.view"}))


@pytest.fixture
def org(db):
    with db.write() as s:
        sales, service_dept = Department(name="销售部"), Department(name="客服部")
        s.add(sales)
        s.add(service_dept)
        owner = User(username="wang", display_name="王经理", password_hash="x")
        s.add(owner)
        s.flush()
        s.add(UserDepartment(user_id=owner.id, department_id=sales.id))
        company = Company(name="星河科技")
        s.add(company)
        s.flush()
        customer = Customer(name="张三", city="杭州", owner_id=owner.id, company_id=company.id, mobile="13800138000")
        s.add(customer)
        acc = WechatAccount(wxid="wx_staff", nickname="客服", owner_user_id=owner.id)
        s.add(acc)
        s.flush()
        friend = Friend(account_id=acc.id, wxid="wx_zs", nickname="阿三", remark="张总", customer_id=customer.id)
        s.add(friend)
        s.flush()
        conv = Conversation(account_id=acc.id, peer_id="wx_zs", friend_id=friend.id, customer_id=customer.id)
        s.add(conv)
        s.flush()
        return {"sales": sales.id, "service": service_dept.id, "owner": owner.id, "conversation": conv.id,
                "customer": customer.id}


def test_unknown_variables_are_refused_naming_them(db, org):
    with db.write() as s:
        with pytest.raises(ConversationError) as exc:
            service.create_reply(s, {"title": "问候", "text": "${nmae}您好，${mobile}"}, 1)
    assert "${mobile}" in exc.value.message and "${nmae}" in exc.value.message
    assert "text" in exc.value.errors


def test_rendered_for_the_conversation_customer(db, org):
    with db.write() as s:
        cat = categories.create_category(s, {"name": "售前"})
        reply = service.create_reply(s, {"title": "价格", "category_id": cat.id,
                                         "text": "${name}您好（${nickname}），${company} 的 ${owner} 为您服务，${city}包邮"}, 1)
    with db.read() as s:
        conv = s.get(Conversation, org["conversation"])
        out = rendering.as_dict(s, s.get(type(reply), reply.id), rendering.conversation_values(s, conv))
    assert out["text"] == "张三您好（张总），星河科技 的 王经理 为您服务，杭州包邮"
    assert out["category"] == "售前"
    # the sandbox: a template cannot reach into Python objects
    with db.write() as s:
        with pytest.raises(ConversationError):
            service.create_reply(s, {"title": "坏", "text": "${name.__class__.__mro__}"}, 1)


def test_visibility_by_department_and_search(db, org):
    with db.write() as s:
        cat = categories.create_category(s, {"name": "售后"})
        service.create_reply(s, {"title": "全员话术", "text": "您好"}, 1)
        service.create_reply(s, {"title": "销售话术", "text": "报价单已发", "visibility": "departments",
                                 "department_ids": [org["sales"]]}, 1)
        hidden = service.create_reply(s, {"title": "客服话术", "text": "退货流程", "visibility": "departments",
                                          "department_ids": [org["service"]], "category_id": cat.id}, 1)
        with pytest.raises(ConversationError) as exc:
            service.create_reply(s, {"title": "x", "text": "y", "visibility": "departments", "department_ids": []}, 1)
        assert "department_ids" in exc.value.errors
    seller = Viewer(org["owner"], frozenset({"conversations.view"}))
    with db.read() as s:
        assert [r.title for r in service.search(s, seller)] == ["全员话术", "销售话术"]
        assert [r.title for r in service.search(s, MANAGER, service.ReplyFilter("售后"))] == ["客服话术"]
        assert [r.title for r in service.search(s, MANAGER, service.ReplyFilter("报价"))] == ["销售话术"]
        with pytest.raises(ConversationNotFound):
            service.get_reply(s, hidden.id, seller)


def test_send_counts_and_category_delete_keeps_replies(db, org):
    with db.write() as s:
        cat = categories.create_category(s, {"name": "活动"})
        reply = service.create_reply(s, {"title": "活动", "text": "活动开始", "category_id": cat.id}, 1)
        service.count_use(s, reply.id)
        service.count_use(s, reply.id, times=2)
    with db.write() as s:
        assert categories.delete_category(s, cat.id) == 1
    with db.read() as s:
        row = service.get_reply(s, reply.id, MANAGER)
        assert (row.send_count, row.category_id) == (3, None)
        assert [r.id for r in service.search(s, MANAGER, service.ReplyFilter(category_id=0))] == [reply.id]


def test_variable_list_hides_contact_fields(db):
    with db.read() as s:
        names = {v["name"] for v in variables.variable_names(s)}
    assert {"name", "nickname", "owner", "company", "city"} <= names
    assert not names & {"mobile", "email", "owner_id", "company_id"}
