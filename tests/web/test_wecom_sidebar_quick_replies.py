"""The WeCom sidebar's 快捷回复: the sidebar session (or a console sign-in) lists the replies its user may
use, rendered for the contact's customer; anonymous is 401; another salesperson's customer is 404."""
from __future__ import annotations

from conversations.quick_replies import service
from crm.customers.models import Customer
from crm.people import service as people


def _seed(app_db, admin_id, sales_id):
    with app_db.write() as s:
        mine, theirs = Customer(name="王小美", owner_id=sales_id), Customer(name="别人的客户", owner_id=admin_id)
        s.add_all([mine, theirs])
        s.flush()
        service.create_reply(s, {"title": "价格咨询", "text": "${name}您好，这款现在活动价 199 元"}, admin_id)
        return mine.id, theirs.id


def test_sidebar_quick_replies_rendered_for_the_contact(client, app_db, admin_user, login):
    sales = people.create_user(app_db, "sales1", "Sales12345", roles=["sales"])
    mine, theirs = _seed(app_db, admin_user.id, sales.id)
    assert client.get(f"/wecom/sidebar/quick-replies?customer_id={mine}").status_code == 401
    login(client, "sales1", "Sales12345")
    items = client.get(f"/wecom/sidebar/quick-replies?q=价格&customer_id={mine}").get_json()["items"]
    assert [i["text"] for i in items] == ["王小美您好，这款现在活动价 199 元"]
    assert client.get(f"/wecom/sidebar/quick-replies?customer_id={theirs}").status_code == 404
    assert client.get("/wecom/sidebar/quick-replies?customer_id=x").status_code == 400
