"""PII: a token without pii.view never sees a customer's full mobile number or e-mail address in
any GET answer of /api/v1 (every GET route is walked and its JSON grepped); an admin does."""
from __future__ import annotations

import re

from crm.people import roles as role_service
from crm.people.permissions import ALL_PERMISSIONS
from crm.leads.intake import Submission, submit
from web.api import definitions, lead_ingest, leads, operations, scenes, strategies  # noqa: F401 - registers ROUTES
from web.api import customer_followups, customers, customers_search  # noqa: F401,E402
from web.api.spec import ROUTES
from tests.web.api_helpers import (EMAIL, MOBILE, PASSWORD_EVENT, Api, api, row, runtime, token_for,  # noqa: F401
                                   viewer_api, world)

GETS = [r for r in ROUTES if r.method == "get"]
# call-record routes name their id `record_id`, like event records do: map it to the call's id.
CALL_IDS = {p: {"record_id": "record_id_call"} for p in ("/api/v1/call-records/<int:record_id>",
                                                          "/api/v1/call-records/<int:record_id>/recording")}
# A seat sees only their own calls: the viewer (no leads.view_all) gets 404 for this admin-seated call.
OWN_CALLS = frozenset(CALL_IDS)


def populate(api, world, runtime) -> dict:
    """Records and tasks full of PII: matched, unmatched (with a trace over mobile/e-mail), rejected."""
    sid = world.strategy(name="短信", steps=[{"processor": "sms", "config": {"mobile": "${mobile}",
                                                                          "content": "您好 ${email} ${mobile}"}}])["id"]
    world.strategy(name="按手机号", conditions=[row("mobile", "eq", "13900000000"), row("email", "contains", "@")])
    world.strategy(name="延迟邮件", steps=[{"processor": "email", "config": {"to": "${email}", "subject": "${mobile}",
                                                                           "body": "${customerName}"},
                                         "timing": {"mode": "delay", "hours": 3}}])
    accepted = world.ingest({"id": "p1", "event": "password_changed", "data": PASSWORD_EVENT})
    world.ingest({"id": "p2", "event": "customer_trade",
                  "data": {"customerName": "张三", "mobile": MOBILE, "email": EMAIL, "amount": MOBILE + "元"}})
    scene = api.post("/api/v1/scenes/configurations", {"scene_name": "官网表单", "scene_type": "WEB_FORM"}).get_json()
    [lead] = submit(runtime.services.db, scene["scene_config_id"], [Submission(raw={"submission_data": {
        "name": "张三", "phone": "+86 138-0013-8000", "email": EMAIL, "message": f"请回电 {MOBILE}"}})])
    runtime.tick()
    record_id = accepted.payload["accepted"][0]["record_id"]
    channel = api.post("/api/v1/channels", {"name": "官网"}).get_json()["channel_id"]
    return {"definition_id": world.event_id(), "strategy_id": sid, "version": 1, "record_id": record_id,
            "lead_id": lead.lead_id, "scene_config_id": scene["scene_config_id"], "channel_id": channel,
            **_outbound_call(runtime), **_customer(runtime)}


def _outbound_call(runtime) -> dict:
    """电话外呼: a task and a call to MOBILE with a stored recording (its number must come back masked)."""
    from crm.leads.call_models import CallRecord, CallTask

    folder = runtime.services.settings.var_dir / "recordings"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pii.mp3").write_bytes(b"ID3" + b"\x00" * 64)
    with runtime.services.db.write() as s:
        task = CallTask(name="回访", seat_user_ids=[1])
        s.add(task)
        s.flush()
        record = CallRecord(call_id="pii-1", task_id=task.id, seat_user_id=1, mobile=MOBILE, status="ended",
                            result="answered", notes="客户说不用再打", recording_path="pii.mp3", recording_type="audio/mpeg")
        s.add(record)
        s.flush()
        return {"task_id": task.id, "record_id_call": record.id}


def _customer(runtime) -> dict:
    """客户 API: a customer with MOBILE/EMAIL, a follow-up and a task naming them, owned by the viewer
    token's user when there is one (a token without 查看全部客户 sees its own customers only)."""
    from sqlalchemy import select

    from crm.customers.models import Customer
    from crm.people.models import User
    from crm.sales.followups import record_follow_up
    from crm.sales.models import Task
    from crm.scope import SYSTEM

    with runtime.services.db.write() as s:
        owner = s.scalar(select(User.id).where(User.username == "viewer1")) or 1
        customer = Customer(name="客户API", mobile=MOBILE, email=EMAIL, owner_id=owner,
                            attrs={"note": f"备用 {MOBILE}"})
        s.add(customer)
        s.flush()
        record_follow_up(s, {"customer_id": customer.id, "content": f"回电 {MOBILE} / {EMAIL}"}, owner,
                         viewer=SYSTEM)
        s.add(Task(title=f"联系 {MOBILE}", customer_id=customer.id, owner_id=owner, creator_id=owner,
                   description=EMAIL))
        return {"customer_id": customer.id}


def walk(client: Api, ids: dict, hidden: frozenset = frozenset()) -> dict[str, str]:
    """Every GET route's answer (list routes with all=1 so nothing hides behind the date filter);
    `hidden` routes answer 404 to this client (a lead not assigned to a user without 查看全部线索)."""
    answers = {}
    for route in GETS:
        path = re.sub(r"<int:(\w+)>", lambda m: str(ids[CALL_IDS.get(route.path, {}).get(m.group(1), m.group(1))]),
                      route.path)
        resp = client.get(path + ("?all=1" if route.path.endswith("event-records") else ""))
        expected = 404 if route.path in hidden else 200
        assert resp.status_code == expected, (path, resp.status_code, resp.get_data(as_text=True)[:300])
        answers[path] = resp.get_data(as_text=True)
    return answers


def leaks(answers: dict[str, str]) -> list[str]:
    return [f"{path}: {value}" for path, text in answers.items() for value in (MOBILE, EMAIL)
            if value in text]


def test_without_pii_view_no_get_answer_shows_a_full_mobile_or_email(api, viewer_api, world, runtime, app, app_db):
    ids = populate(api, world, runtime)
    role_service.create_role(app_db, "ops_no_pii", "运营（无敏感信息）", ALL_PERMISSIONS - {"pii.view"} -
                             {"users.view", "users.manage", "roles.manage"})
    no_pii = Api(app.test_client(), token_for(app_db, "ops2", ["ops_no_pii"]))
    for client, hidden in ((viewer_api, frozenset({"/api/v1/leads/<int:lead_id>"}) | OWN_CALLS), (no_pii, frozenset())):
        answers = walk(client, ids, hidden)
        assert not leaks(answers), leaks(answers)
        assert "138****8000" in answers["/api/v1/event-records"] and "z***@example.com" in answers["/api/v1/event-records"]


def test_admin_with_pii_view_sees_them(api, world, runtime):
    ids = populate(api, world, runtime)
    answers = walk(api, ids)
    for path in ("/api/v1/event-records", f"/api/v1/event-records/{ids['record_id']}", "/api/v1/tasks"):
        assert MOBILE in answers[path] and EMAIL in answers[path], path


def test_post_answers_built_from_stored_events_are_masked_too(api, world, runtime, app, app_db):
    """Backtest examples are stored customer data: a tester without pii.view sees them masked."""
    populate(api, world, runtime)
    runtime.services.clock.advance(seconds=1)
    role_service.create_role(app_db, "tester", "测试员", {"strategies.view", "strategies.test"})
    tester = Api(app.test_client(), token_for(app_db, "tester1", ["tester"]))
    body = {"strategy": world.strategy_body(conditions=[])}
    answer = tester.post("/api/v1/strategies/backtest", body).get_data(as_text=True)
    assert MOBILE not in answer and EMAIL not in answer and "138****8000" in answer
    assert MOBILE in api.post("/api/v1/strategies/backtest", body).get_data(as_text=True)
