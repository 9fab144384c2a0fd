"""Object-level permission, walked like the masking walk: 业务员 A posts to every write route of the
app (console with a CSRF token, /api/v1 with a bearer token) aimed at 业务员 B's customer, lead,
task, follow-up, attachment, saved query and API token — and at A's own stale 跟进任务 on a
customer since handed to B. After each request the database rows that belong to B (every row
that names B's customers, lead, tasks or B as its user) must be exactly as before, and the
answer must not show B's customer or lead names.

The routes come from app.url_map: a write route whose permissions a 业务员 lacks is posted to
blindly (it must refuse); every route a 业务员 can reach must have a plan in REACHABLE, so a new
route fails this test until someone says how to attack it.
"""
from __future__ import annotations

import io

import pytest
from sqlalchemy import or_, select as sa_select
from sqlmodel import SQLModel
from werkzeug.routing.converters import AnyConverter

from analytics.workbench_models import WorkbenchLayout
from crm.customers import attachments
from crm.customers.models import Customer, SavedQuery
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.leads.models import Lead, LeadScene
from crm.people import service as people
from crm.people.permissions import BUILTIN_ROLES
from crm.people.tokens import list_tokens
from crm.sales import followups
from crm.sales.models import Task
from crm.scope import SYSTEM
from tests.web.conftest import get_csrf_token

PASSWORD = "Sales12345"
SALES = next(r for r in BUILTIN_ROLES if r.code == "sales").permissions
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SECRET_NAMES = ("李四机密", "王五旧客", "线索乙方")
# Routes that do not act as a signed-in user (they authenticate otherwise or start a session).
NOT_AS_USER = {"auth.login", "auth.logout", "api_ingest.ingest_events_post", "api_lead_ingest.ingest_leads_post",
               "lead_public.submit_form", "webhooks.receive_webhook", "webhooks.outbound_call_status",
               "mp_callback.receive", "wecom_callback.receive", "koc_public.start_checkin",
               "fission_h5.join_submit"}  # 裂变 H5: a visitor's signed link, no user
STRING_ARGS = {"key": "sms", "adapter_key": "generic", "token": "x", "fmt": "csv", "att_id": "1"}


def _populate(app, app_db) -> dict:
    people.ensure_builtin_roles(app_db)
    a = people.create_user(app_db, "sales_a", PASSWORD, display_name="业务员甲", roles=["sales"]).id
    b = people.create_user(app_db, "sales_b", PASSWORD, display_name="业务员乙", roles=["sales"]).id
    a_token = people.create_token(app_db, "sales_a", "walk")
    people.create_token(app_db, "sales_b", "b's own")
    svc = app.extensions["ckb"].services
    now = svc.now()
    with app_db.write() as s:
        mine = Customer(name="甲的客户", owner_id=a)
        theirs = Customer(name="李四机密", mobile="13900139000", owner_id=b)
        handed = Customer(name="王五旧客", owner_id=b)  # was A's; A's follow-up task on it is stale
        group = CustomerGroup(name="电销二组")
        scene = LeadScene(name="官网", key="site", scene_type="WEB_FORM")
        s.add_all([mine, theirs, handed, group, scene])
        s.flush()
        s.add_all([GroupMember(group_id=group.id, user_id=b, role="member"),
                   GroupLink(group_id=group.id, customer_id=theirs.id, assignee_id=b)])
        lead = Lead(scene_id=scene.id, name="线索乙方", mobile="13700137000", status="ASSIGNED", assignee_user_id=b)
        own_lead = Lead(scene_id=scene.id, name="甲的线索", status="ASSIGNED", assignee_user_id=a)
        b_task = Task(title="乙的回访", kind="follow_up", customer_id=theirs.id, owner_id=b, creator_id=b)
        stale = Task(title="甲的旧任务", kind="follow_up", customer_id=handed.id, owner_id=a, creator_id=a)
        query = SavedQuery(user_id=b, name="乙的方案", query={})
        s.add_all([lead, own_lead, b_task, stale, query, WorkbenchLayout(user_id=b, panels=["my_info"])])
        s.flush()
        att = attachments.save_attachment(s, svc.settings.var_dir, theirs.id, "合同.pdf", io.BytesIO(b"%PDF"), b,
                                          viewer=SYSTEM)
        followups.record_follow_up(s, {"customer_id": theirs.id, "content": "乙的跟进", "way": "phone"}, b, now=now,
                                   viewer=SYSTEM)
        ids = {"mine": mine.id, "customer": theirs.id, "handed": handed.id, "group": group.id, "lead": lead.id,
               "own_lead": own_lead.id, "task": b_task.id, "stale": stale.id, "query": query.id,
               "attachment": att.id}
    ids["b_token"] = list_tokens(app_db, b)[0].id
    ids["handover"] = _b_handover(app_db, b, theirs.id)
    ids["sku"], ids["order"] = _b_order(app_db, theirs.id)
    ids["coupon"] = _b_coupon(app_db, theirs.id)
    ids["conversation"] = _b_conversation(app_db, theirs.id, b)
    return {"a": a, "b": b, "token": a_token, "ids": ids}


def _b_order(app_db, customer_id: int) -> tuple[int, int]:
    """A SKU in stock and an unpaid order of B's customer (商品与订单)."""
    from commerce.orders.service import create_order
    from tests.commerce.order_world import make_sku

    with app_db.write() as s:
        sku = make_sku(s, "WALK-1", 990, 5)
        return sku, create_order(s, {"customer_id": customer_id, "lines": [{"sku_id": sku, "quantity": 1}]}, SYSTEM).order.id


def _b_coupon(app_db, customer_id: int) -> str:
    """An unused coupon code of B's customer (权益: 核销 must not reach it)."""
    from community.rewards import coupons

    with app_db.write() as s:
        batch = coupons.create_batch(s, {"name": "走查券", "kind": "cash", "value": "500"}, valid_from=None, valid_until=None)
        return coupons.issue(s, batch.id, customer_id, source="manual", source_ref="walk", reason="走查")[0].code


def _b_handover(app_db, b: int, customer_id: int) -> int:
    """A 待人工 conversation on B's WeChat account (智能回复 handed it over)."""
    from conversations.models import Conversation
    from devices.models import WechatAccount

    with app_db.write() as s:
        account = WechatAccount(wxid="wx_b_walk", nickname="乙的号", owner_user_id=b)
        s.add(account)
        s.flush()
        conv = Conversation(account_id=account.id, peer_id="wx_secret", title="李四机密", customer_id=customer_id,
                            needs_human=True, needs_human_reason="智能回复转人工")
        s.add(conv)
        s.flush()
        return conv.id


def _b_conversation(app_db, customer_id: int, b: int) -> int:
    """触客宝: a conversation on B's phone account with B's customer (its row names the customer)."""
    from conversations.device_messages import record_device_message
    from devices.models import Friend, WechatAccount

    with app_db.write() as s:
        acc = WechatAccount(wxid="wx_walk_b", nickname="乙的号", owner_user_id=b)
        s.add(acc)
        s.flush()
        s.add(Friend(account_id=acc.id, wxid="wx_walk_f", nickname="乙的好友", customer_id=customer_id))
        s.flush()
        msg, _new = record_device_message(s, acc, {"from_wxid": "wx_walk_f", "text": "在吗", "msg_id": "w1"},
                                          acc.created_at, "walk")
        return msg.conversation_id


def _b_rows(app_db, world) -> dict:
    """Every row belonging to B: naming B's customers, lead or tasks, or B as its user."""
    ids, b = world["ids"], world["b"]
    customers, leads, tasks = {ids["customer"], ids["handed"]}, {ids["lead"]}, {ids["task"], ids["stale"]}
    out = {}
    with app_db.read() as s:
        for table in SQLModel.metadata.sorted_tables:
            cols = table.c
            parts = []
            if "customer_id" in cols:
                parts.append(cols.customer_id.in_(customers))
            if "lead_id" in cols:
                parts.append(cols.lead_id.in_(leads))
            if "user_id" in cols:
                parts.append(cols.user_id == b)
            if table.name == "customer":
                parts.append(cols.id.in_(customers))
            if table.name == "lead":
                parts.append(cols.id.in_(leads))
            if table.name == "task":
                parts.append(cols.id.in_(tasks))
            if not parts:
                continue
            rows = s.execute(sa_select(table).where(or_(*parts))).all()
            out[table.name] = sorted(repr(tuple(r)) for r in rows)
    return out


def _plans(w: dict) -> dict:
    """endpoint → requests (method, url, keyword arguments) aimed at B's objects."""
    i = w["ids"]
    c, h, t, st, ld = i["customer"], i["handed"], i["task"], i["stale"], i["lead"]
    task_form = {"title": "改了", "kind": "follow_up", "owner_id": str(w["a"]), "priority": "high", "status": "done",
                 "progress": "100", "deadline": "", "remind_at": "", "description": ""}
    follow = {"way": "phone", "status": "deal", "maturity": "90", "content": "越权跟进", "next_follow_on": "2026-12-01"}
    bulk = [("POST", f"/customers/bulk/{action}", {"data": {"ids": [str(c), str(h)], "group_id": str(i["group"]),
                                                            "user_id": str(w["a"]), "tag_ids": ["1"]}})
            for action in ("recycle", "group", "assign", "release_group", "release_company", "tag")]
    return {
        "auth.password": [],  # the user's own password: no one else's object to aim at
        "account.tokens": [],  # creates the user's own token
        "account.notifications_read": [("POST", "/notifications/read", {"data": {"all": "1"}})],
        "account.token_revoke": [("POST", f"/account/tokens/{i['b_token']}/revoke", {})],
        "worktasks.task_new": [("POST", "/worktasks/tasks/new", {"data": {**task_form, "customer_id": str(c)}}),
                               ("POST", "/worktasks/tasks/new", {"data": {**task_form, "customer_id": str(h)}})],
        "worktasks.task_edit": [("POST", f"/worktasks/tasks/{tid}", {"data": {**task_form, "customer_id": ""}})
                                for tid in (t, st)],
        "worktasks.task_move": [("POST", f"/worktasks/tasks/{tid}/move",
                                 {"json": {"kind": "status", "column": "done", "position": 0}}) for tid in (t, st)],
        "worktasks.task_status": [("POST", "/worktasks/tasks/status",
                                   {"data": {"ids": [str(t), str(st)], "status": "cancelled"}})],
        "worktasks.followup_new": [("POST", f"/worktasks/followups/new?customer_id={c}", {"data": follow}),
                                   ("POST", "/worktasks/followups/new", {"data": {**follow, "customer_id": str(c)}}),
                                   ("POST", f"/worktasks/followups/new?task_id={st}", {"data": {**follow, "task_id": str(st)}}),
                                   ("POST", f"/worktasks/followups/new?task_id={t}", {"data": {**follow, "task_id": str(t)}})],
        "customers.bulk": bulk,
        "customers.save_query": [],  # saves the user's own query
        # 工作台: the layout is the poster's own; a user_id aimed at B is ignored (B's layout row must stay).
        "dashboard.save_layout": [("POST", "/home/layout", {"data": {"panels": ["tag_top"], "user_id": str(w["b"])}})],
        "dashboard.reset_layout": [("POST", "/home/layout/reset", {"data": {"user_id": str(w["b"])}})],
        "customers.delete_query": [("POST", f"/customers/saved/{i['query']}/delete", {})],
        "customers.new": [("POST", "/customers/new", {"data": {"name": "新客户", "mobile": "13900139000"}})],
        "customers.edit": [("POST", f"/customers/{cid}/edit", {"data": {"name": "改名", "mobile": "", "email": ""}})
                           for cid in (c, h)],
        "customers.upload": [("POST", f"/customers/{c}/attachments",
                              {"data": {"file": (io.BytesIO(b"x"), "a.txt")}, "content_type": "multipart/form-data"})],
        "customers.delete_attachment": [("POST", f"/customers/{c}/attachments/{i['attachment']}/delete", {}),
                                        ("POST", f"/customers/{i['mine']}/attachments/{i['attachment']}/delete", {})],
        "groups.request_more": [("POST", f"/groups/{i['group']}/request", {})],
        "groups.recycle_restore": [("POST", "/groups/recycle-bin/restore", {"data": {"ids": [str(c), str(h)]}})],
        # Shared 获客 configuration, not a salesperson's object; posted to with B's ids all the same.
        "lead_home.set_status": [("POST", f"/leads/plans/{ld}/status", {"data": {"status": "paused"}})],
        "lead_home.delete_plan": [],
        "lead_deadletters.redrive": [("POST", "/leads/deadletters/redrive", {"data": {"ids": [str(ld)]}})],
        "lead_deadletters.discard": [("POST", "/leads/deadletters/discard", {"data": {"ids": [str(ld)]}})],
        "leads.change_status": [("POST", f"/leads/{ld}/status", {"data": {"status": "PROCESSING"}})],
        "leads.add_note": [("POST", f"/leads/{ld}/notes", {"data": {"note": "越权备注"}})],
        "api_leads.update_lead_put": [
            ("PUT", f"/api/v1/leads/{ld}", {"json": {"notes": "越权", "status": "PROCESSING"}}),
            ("PUT", f"/api/v1/leads/{i['own_lead']}", {"json": {"related_customer_id": c}}),
            ("PUT", f"/api/v1/leads/{i['own_lead']}", {"json": {"related_customer_id": h}})],
        # 智能回复 待人工: B's handed-over conversation stays B's (404 like an unknown id).
        "kb.take_over": [("POST", f"/kb/pending/{i['handover']}/done", {})],
        "orders.new": [("POST", "/orders/new", {"data": {"customer_id": str(cid), "sku_0": str(i["sku"]), "qty_0": "1"}})
                       for cid in (c, h)],
        "orders.act": [("POST", f"/orders/{i['order']}/{a}", {}) for a in ("pay", "ship", "complete", "cancel")],
        "api_orders.create_order_post": [("POST", "/api/v1/orders", {"json": {"customer_id": c, "lines": [
            {"sku_id": i["sku"], "quantity": 1}]}})],
        "rewards.redeem": [("POST", "/rewards/redeem", {"data": {"code": i["coupon"]}})],
        "api_rewards.redeem_coupon_post": [("POST", "/api/v1/rewards/coupons/redeem", {"json": {"code": i["coupon"]}})],
        # 触客宝: B's conversation answers 404 to A on every write route
        **{ep: [("POST", f"/chat/{i['conversation']}/{path}", {"data": form})] for ep, path, form in (
            ("chat.mark_read", "read", {}), ("chat.send", "send", {"text": "越权"}),
            ("chat.transfer", "transfer", {"to_user_id": str(w["a"])}), ("chat.tag", "tags", {"tag_ids": "1"}),
            ("chat.follow_up", "follow-up", {"content": "越权"}), ("chat.task", "task", {"title": "越权"}),
            ("chat.link", "link", {"customer_id": str(i["mine"])}))},
        "api_conversations.send_message_post": [("POST", f"/api/v1/conversations/{i['conversation']}/messages",
                                                 {"json": {"text": "越权"}})],
        "api_conversations.transfer_conversation_post": [("POST", f"/api/v1/conversations/{i['conversation']}/transfer",
                                                          {"json": {"to_user_id": w["a"]}})],
        "api_orders.transition_post": [("POST", f"/api/v1/orders/{i['order']}/transitions", {"json": {"action": a}})
                                       for a in ("pay", "cancel")],
        # 快捷回复 use count: aimed at a conversation the 业务员 may not use (B's customer id as its id)
        "quick_replies.used": [("POST", f"/quick-replies/{c}/used", {"json": {"conversation_id": c}})],
        # 好友详情 (needs accounts.view besides the 业务员's rights): B's customer offered to a friend, unlink.
        "friends.link": [("POST", f"/friends/{fid}/link", {"data": {"customer_id": str(cid)}}) for fid in (1, 2)
                         for cid in (c, h)],
        "friends.unlink": [("POST", f"/friends/{fid}/unlink", {}) for fid in (1, 2)],
        **_customer_api_plans(w),
        # 给好友发消息 (API): B's friends answer 404 to A, nothing is sent on B's account.
        "api_friends.send_friend_message_post": [("POST", f"/api/v1/friends/{fid}/messages", {"json": {"text": "越权"}})
                                                 for fid in (1, 2)],
        # 短信推送 and the detail page's 打电话/打标签 (seed 001): B's customers are dropped or 404.
        "customer_actions.compose": [("POST", "/customers/sms-push", {"data": {"ids": [str(c), str(h)]}})],
        "customer_actions.send": [("POST", "/customers/sms-push/send", {"data": {
            "ids": [str(c), str(h)], "template_id": "1", "push": "f" * 32}})],
        "customer_actions.log_call": [("POST", f"/customers/{cid}/call", {"data": {"status": "deal", "content": "越权"}})
                                      for cid in (c, h)],
        "customer_actions.add_tags": [("POST", f"/customers/{cid}/tags", {"data": {"tag_ids": "1"}}) for cid in (c, h)],
        "customer_actions.remove_tag": [("POST", f"/customers/{cid}/tags/1/remove", {}) for cid in (c, h)],
        # 个人标签 and 复制 (tag 1 is global, not a 业务员's to copy; another's personal tag is 404)
        "tags.copy": [("POST", "/tags/copy", {"data": {"ids": ["1"]}})],
        "tags.personal": [("POST", "/tags/personal", {"data": {"name": "我的", "category_id": "1"}})],
        "tags.personal_delete": [("POST", "/tags/personal/1/delete", {})],
    }


def _customer_api_plans(w: dict) -> dict:
    """/api/v1/customers: B's customers by path and in batches (with one of A's own), B's 查询方案."""
    i = w["ids"]
    c, h, mine, g = i["customer"], i["handed"], i["mine"], i["group"]
    batch = {"ids": [mine, c, h], "group_id": g, "user_id": w["a"], "tag_ids": [1]}
    act = {"add_tags": ("tags/add", ("ids", "tag_ids")), "remove_tags": ("tags/remove", ("ids", "tag_ids")),
           "add_to_group": ("group", ("ids", "group_id")), "assign": ("assign", ("ids", "group_id", "user_id")),
           "recycle": ("recycle", ("ids",)), "restore": ("restore", ("ids",))}
    plans = {f"api_customer_actions.{ep}_post": [("POST", f"/api/v1/customers/{path}",
                                                  {"json": {k: batch[k] for k in keys}})]
             for ep, (path, keys) in act.items()}
    plans["api_customer_actions.release_post"] = [
        ("POST", "/api/v1/customers/release", {"json": {"ids": [mine, c, h], "to": "group_pool", "group_id": g}}),
        ("POST", "/api/v1/customers/release", {"json": {"ids": [c, h], "to": "company_pool"}})]
    return {**plans,
            "api_customers.create_customer_post": [("POST", "/api/v1/customers", {"json": {
                "name": "新客户", "mobile": "13900139000", "owner_id": w["b"], "invited_by_id": c}})],
            "api_customers.update_customer_put": [("PUT", f"/api/v1/customers/{cid}", {"json": {"name": "改名"}})
                                                  for cid in (c, h)],
            "api_customers.delete_customer_delete": [("DELETE", f"/api/v1/customers/{cid}", {}) for cid in (c, h)],
            "api_customer_search.search_customers_post": [
                ("POST", "/api/v1/customers/search", {"json": {"rows": [{"field": "name", "op": "contains", "value": "李四"}]}}),
                ("POST", "/api/v1/customers/search", {"json": {"saved_query_id": i["query"]}})],
            "api_customer_search.save_query_post": [],  # saves the user's own query
            "api_customer_search.delete_saved_query_delete": [("DELETE", f"/api/v1/customers/saved-queries/{i['query']}", {})],
            "api_customer_work.add_follow_up_post": [("POST", f"/api/v1/customers/{cid}/follow-ups", {"json": {
                "content": "越权跟进", "next_follow_on": "2030-01-01"}}) for cid in (c, h)] + [
                ("POST", f"/api/v1/customers/{mine}/follow-ups", {"json": {"content": "借任务", "task_id": i["task"]}}),
                ("POST", f"/api/v1/customers/{mine}/follow-ups", {"json": {"content": "借旧任务", "task_id": i["stale"]}})],
            "api_customer_work.create_task_post": [("POST", f"/api/v1/customers/{cid}/tasks", {"json": {
                "title": "越权任务", "owner_id": w["b"]}}) for cid in (c, h)]}


def _blind_url(rule, ids: dict) -> str:
    """A URL for a route the 业务员 may not use: int arguments get B's customer id."""
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif type(converter).__name__ == "IntegerConverter":
            values[name] = ids["customer"]
        else:
            values[name] = STRING_ARGS.get(name, "1")
    return rule.build(values, append_unknown=False)[1]


@pytest.fixture
def world(app, app_db, login):
    w = _populate(app, app_db)
    console = app.test_client()
    assert login(console, "sales_a", PASSWORD).status_code == 302
    w["console"], w["csrf"] = console, get_csrf_token(console, "/worktasks")
    w["api"] = app.test_client()
    return w


def _send(w, method, url, kwargs):
    kwargs = dict(kwargs)
    if url.startswith("/api/"):
        return w["api"].open(url, method=method, headers={"Authorization": f"Bearer {w['token']}"}, **kwargs)
    if "json" in kwargs:
        kwargs["headers"] = {"X-CSRFToken": w["csrf"]}
    else:
        kwargs["data"] = {**kwargs.get("data", {}), "csrf_token": w["csrf"]}
    return w["console"].open(url, method=method, **kwargs)


def test_a_salesperson_changes_nothing_of_another_on_any_write_route(app, app_db, world):
    plans = _plans(world)
    unplanned, changed, leaks, walked = [], [], [], 0
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods & WRITE_METHODS)
        if not methods or rule.endpoint in NOT_AS_USER:
            continue
        required = getattr(app.view_functions[rule.endpoint], "required_permissions", None)
        if required is None:
            unplanned.append(f"{rule.rule}（未用 permission_required/login_required/api_auth 保护）")
            continue
        if required <= SALES:
            if rule.endpoint not in plans:
                unplanned.append(f"{rule.rule} ({rule.endpoint})")
                continue
            requests = plans[rule.endpoint]
        else:
            requests = [(m, _blind_url(rule, world["ids"]), {}) for m in methods]
        for method, url, kwargs in requests:
            before = _b_rows(app_db, world)
            resp = _send(world, method, url, kwargs)
            body = resp.get_data(as_text=True)
            walked += 1
            assert resp.status_code < 500, (url, resp.status_code, body[:300])
            if _b_rows(app_db, world) != before:
                changed.append(f"{method} {url} ({resp.status_code})")
            leaks += [f"{method} {url}: {name}" for name in SECRET_NAMES if name in body]
            if not required <= SALES:
                assert resp.status_code == 403, (url, resp.status_code)
    assert not unplanned, "业务员可用的写入路由没有越权检查方案，请在 _plans 中补上：\n" + "\n".join(unplanned)
    assert not changed, "业务员改动了别人的数据：\n" + "\n".join(changed)
    assert not leaks, "回应中出现了别人的客户/线索名称：\n" + "\n".join(leaks)
    assert walked > 100


def test_the_walk_can_see_a_change(app, app_db, world):
    """Guards the walk against passing vacuously: B's own note on B's lead is a change it sees."""
    before = _b_rows(app_db, world)
    b = app.test_client()
    from tests.web.conftest import get_csrf_token as token

    b.post("/login", data={"username": "sales_b", "password": PASSWORD, "csrf_token": token(b)})
    resp = b.post(f"/leads/{world['ids']['lead']}/notes", data={"note": "乙自己的备注", "csrf_token": token(b, "/leads")})
    assert resp.status_code == 302
    assert _b_rows(app_db, world) != before
    page = b.get(f"/customers/{world['ids']['customer']}").get_data(as_text=True)
    assert "李四机密" in page


def test_a_stale_task_no_longer_opens_the_customer(app, app_db, world):
    """A's 跟进任务 on a customer handed to B: gone from A's lists and a 404 to open."""
    console = world["console"]
    assert console.get(f"/worktasks/tasks/{world['ids']['stale']}").status_code == 404
    for page in ("/worktasks?view=list", "/worktasks/followups", "/worktasks"):
        html = console.get(page).get_data(as_text=True)
        assert "甲的旧任务" not in html and "王五旧客" not in html
    assert console.get(f"/worktasks/followups/new?customer_id={world['ids']['customer']}").status_code == 404
    with app_db.read() as s:
        assert s.get(Task, world["ids"]["stale"]).status == "todo"


def test_a_salesperson_reads_nothing_of_another_on_any_get_route(app, world):
    """Every GET route, its id arguments filled with B's objects (and 1–3), shows A none of B's names."""
    from tests.web.test_masking_walk import _urls

    i = world["ids"]
    known = {"customer_id": i["customer"], "lead_id": i["lead"], "task_id": i["task"], "attachment_id": i["attachment"],
             "query_id": i["query"], "token_id": i["b_token"], "group_id": i["group"]}
    with app.app_context():
        urls = list(_urls(app, known))
    urls += [("worktasks.task_edit", f"/worktasks/tasks/{i['stale']}"),
             ("worktasks.followup_new", f"/worktasks/followups/new?customer_id={i['customer']}"),
             ("worktasks.followup_new", f"/worktasks/followups/new?task_id={i['stale']}"),
             ("worktasks.task_new", f"/worktasks/tasks/new?customer_id={i['customer']}")]
    leaks, crashes = [], []
    for endpoint, url in urls:
        client = world["api"] if url.startswith("/api/") else world["console"]
        headers = {"Authorization": f"Bearer {world['token']}"} if url.startswith("/api/") else {}
        resp = client.get(url, headers=headers)
        body = resp.get_data(as_text=True) if resp.mimetype.startswith(("text/", "application/json")) else ""
        resp.close()
        if resp.status_code >= 500:
            crashes.append(f"{url} ({resp.status_code})")
        leaks += [f"{url}: {name}" for name in SECRET_NAMES if name in body]
    assert not crashes, crashes
    assert not leaks, "别人的客户/线索名称出现在页面上：\n" + "\n".join(leaks)
    assert len(urls) > 200, len(urls)


def test_company_contacts_list_only_customers_in_scope(app, app_db, login):
    """公司详情 lists the company's contacts the user may see, not every customer of the company."""
    from crm.customers.models import Company

    people.ensure_builtin_roles(app_db)
    people.create_role(app_db, "company_clerk", "公司维护", {"companies.manage", "customers.view"})
    clerk = people.create_user(app_db, "clerk", PASSWORD, roles=["company_clerk"]).id
    with app_db.write() as s:
        company = Company(name="星辰科技")
        s.add(company)
        s.flush()
        s.add_all([Customer(name="自己的联系人", company_id=company.id, owner_id=clerk),
                   Customer(name="李四机密", company_id=company.id)])
        company_id = company.id
    client = app.test_client()
    login(client, "clerk", PASSWORD)
    page = client.get(f"/companies/{company_id}").get_data(as_text=True)
    assert "自己的联系人" in page and "李四机密" not in page
