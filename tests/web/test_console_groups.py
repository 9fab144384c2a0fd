"""客户分组 console pages: they render, forms save through the services, refusals come back in
Chinese, 立即执行 submits a job, and 操作日志 filters by kind and defaults to today."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from crm.customers.models import Customer, CustomField
from crm.groups import membership
from crm.groups.models import AllocationRule, CrmLog, CustomerGroup, GroupLink, GroupRule, RecycleRule
from crm.jobs.runner import JobRunner
from crm.people import service as people
from tests.web.conftest import get_csrf_token


@pytest.fixture
def signed_in(client, admin_user, login):
    login(client)
    return client


@pytest.fixture
def team(app_db, admin_user):
    li = people.create_user(app_db, "lisi", "Passw0rd123", display_name="李四", roles=["sales"])
    zhang = people.create_user(app_db, "zhang", "Passw0rd123", display_name="张三", roles=["sales"])
    with app_db.write() as s:
        s.add(CustomField(key="assets", label="可投资资产", type="number"))
        s.execute(insert(Customer), [dict(id=i, name=f"客户{i}", mobile=f"1380000{i:04d}", status="active",
                                          tag_score=i, follow_count=0 if i % 2 else 3, attrs={"assets": i * 1_000_000})
                                     for i in range(1, 9)])
    return {"li": li.id, "zhang": zhang.id}


def _post(client, path, data):
    token = get_csrf_token(client, "/groups")
    return client.post(path, data={**data, "csrf_token": token})


def test_group_pages_render_and_group_crud(signed_in, team, app_db):
    client = signed_in
    assert "客户分组管理" in client.get("/groups").get_data(as_text=True)
    bad = _post(client, "/groups/new", {"name": ""})
    assert bad.status_code == 400 and "请填写分组名称" in bad.get_data(as_text=True)
    answer = _post(client, "/groups/new", {"name": "VIP客户组", "managers": "1", "sales": [str(team["li"]), str(team["zhang"])],
                                           "allow_requests": "1", "requests_per_day": "3", "customers_per_request": "50"})
    assert answer.status_code == 302
    with app_db.read() as s:
        group = s.scalars(select(CustomerGroup)).one()
    assert (group.allow_requests, group.requests_per_day, group.customers_per_request) == (True, 3, 50)
    for tab in ("members", "allocation", "recycle"):
        page = client.get(f"/groups/{group.id}?tab={tab}")
        assert page.status_code == 200
    assert "李四" in client.get(f"/groups/{group.id}?tab=members").get_data(as_text=True)
    for path in (f"/groups/{group.id}/edit", f"/groups/{group.id}/allocation/new", f"/groups/{group.id}/recycle/new",
                 "/groups/rules", "/groups/rules/new", "/groups/transfer", "/groups/recycle-bin", "/groups/mine",
                 "/crm-logs"):
        assert client.get(path).status_code == 200, path


def test_seed_rules_through_the_console(signed_in, team, app_db, app):
    client = signed_in
    with app_db.write() as s:
        vip = CustomerGroup(name="VIP客户组")
        s.add(vip)
        s.flush()
        vip_id = vip.id
    answer = _post(client, "/groups/rules/new", {
        "name": "可投资资产500万以上为vip客户", "source": "company_pool", "target_group_id": str(vip_id), "enabled": "1",
        "mode": "conditions", "cond_lparen": "", "cond_field": "assets", "cond_op": "gt", "cond_value": "5000000",
        "cond_rparen": "", "cond_join": "and"})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    with app_db.read() as s:
        rule = s.scalars(select(GroupRule)).one()
    assert rule.rule["rows"][0]["field"] == "assets"
    token = get_csrf_token(client, "/groups/rules")
    run = client.post("/groups/rules/run", json={}, headers={"X-CSRFToken": token})
    assert run.status_code == 200 and run.get_json()["job"]["status"] == "queued"
    JobRunner(app.extensions["ckb"].services).run_pending()
    status = client.get(f"/groups/jobs/{run.get_json()['job']['id']}").get_json()
    assert status["status"] == "done" and "移动客户 3 个" in status["message"]
    with app_db.read() as s:
        assert sorted(s.scalars(select(GroupLink.customer_id).where(GroupLink.group_id == vip_id))) == [6, 7, 8]

    # 分配规则 "跟进次数 = 0 → 李四"
    with app_db.write() as s:
        from crm.groups.models import GroupMember

        s.add(GroupMember(group_id=vip_id, user_id=team["li"], role="sales"))
    bad = _post(client, f"/groups/{vip_id}/allocation/new", {"name": "", "mode": "conditions"})
    assert bad.status_code == 400 and "请填写规则名称" in bad.get_data(as_text=True)
    ok = _post(client, f"/groups/{vip_id}/allocation/new", {
        "name": "跟进次数为0", "salespeople": str(team["li"]), "enabled": "1", "create_task": "1", "mode": "conditions",
        "cond_field": "follow_count", "cond_op": "eq", "cond_value": "0", "cond_lparen": "", "cond_rparen": "",
        "cond_join": "and"})
    assert ok.status_code == 302
    with app_db.read() as s:
        assert s.scalars(select(AllocationRule)).one().salespeople == [team["li"]]
    token = get_csrf_token(client, f"/groups/{vip_id}")
    job = client.post(f"/groups/{vip_id}/allocate", json={}, headers={"X-CSRFToken": token}).get_json()["job"]
    JobRunner(app.extensions["ckb"].services).run_pending()
    assert "分配客户 1 个" in client.get(f"/groups/jobs/{job['id']}").get_json()["message"]  # only 7 has 0 follow-ups

    ok = _post(client, f"/groups/{vip_id}/recycle/new", {"name": "7天未跟进", "days_without_follow": "7",
                                                         "enabled": "1", "reassign_to_other": "1"})
    assert ok.status_code == 302
    with app_db.read() as s:
        assert s.scalars(select(RecycleRule)).one().days_without_follow == 7
    # The job runner gives handlers no clock: the run is stamped with the wall clock, not the test clock.
    logs = client.get("/crm-logs?kind=allocation&since=2000-01-01&until=2100-01-01").get_data(as_text=True)
    assert "跟进次数为0" in logs and "自动分配" in logs


def test_transfer_restore_and_logs(signed_in, team, app_db):
    client = signed_in
    with app_db.write() as s:
        grp = CustomerGroup(name="测试组")
        s.add(grp)
        s.flush()
        from crm.groups.models import GroupMember

        s.add_all([GroupMember(group_id=grp.id, user_id=team["li"]), GroupMember(group_id=grp.id, user_id=team["zhang"])])
        s.flush()
        membership.assign(s, [1, 2, 3], grp.id, team["li"], None)
        membership.move_to_recycle_bin(s, [8], None, "空号")
    page = client.get(f"/groups/transfer?from_user_id={team['li']}").get_data(as_text=True)
    assert "全部转移（3 位客户）" in page and "客户3" in page
    refused = _post(client, "/groups/transfer", {"from_user_id": team["li"], "to_user_id": team["zhang"], "mode": "all",
                                                 "reason": ""})
    assert refused.status_code == 302
    _post(client, "/groups/transfer", {"from_user_id": team["li"], "to_user_id": team["zhang"], "mode": "selected",
                                       "customer_ids": ["1"], "reason": "调岗"})
    _post(client, "/groups/transfer", {"from_user_id": team["li"], "to_user_id": team["zhang"], "mode": "all",
                                       "reason": "业务员离职"})
    with app_db.read() as s:
        assert set(s.scalars(select(GroupLink.assignee_id))) == {team["zhang"]}
    history = client.get("/groups/transfer").get_data(as_text=True)
    assert "业务员离职" in history and "2 个客户" in history and "部分转移" in history
    assert "转移记录" in client.get("/crm-logs?kind=transfer").get_data(as_text=True)

    assert "客户8" in client.get("/groups/recycle-bin").get_data(as_text=True)
    _post(client, "/groups/recycle-bin/restore", {"ids": "8"})
    with app_db.read() as s:
        assert s.get(Customer, 8).status == "active"
    recycled = client.get("/crm-logs?kind=recycle").get_data(as_text=True)
    assert "回回收站" in recycled and "退回公海" in recycled
    # filters: a customer name narrows, a period without records empties the list
    assert "客户2" not in client.get("/crm-logs?kind=recycle&customer=客户8").get_data(as_text=True)
    old = client.get("/crm-logs?kind=recycle&since=2020-01-01&until=2020-01-02").get_data(as_text=True)
    assert "没有回收记录" in old
    with app_db.read() as s:
        assert s.scalar(select(CrmLog.id).where(CrmLog.kind == "transfer").limit(1))


def test_salesperson_requests_customers_from_their_page(client, team, app_db, login):
    with app_db.write() as s:
        grp = CustomerGroup(name="电销组", allow_requests=True, requests_per_day=1, customers_per_request=2)
        s.add(grp)
        s.flush()
        from crm.groups.models import GroupMember

        s.add(GroupMember(group_id=grp.id, user_id=team["li"], role="sales"))
        s.flush()
        membership.add_to_group(s, [1, 2, 3], grp.id, None)
    login(client, "lisi", "Passw0rd123")
    page = client.get("/groups/mine").get_data(as_text=True)
    assert "请求客户" in page
    token = get_csrf_token(client, "/groups/mine")
    client.post(f"/groups/{grp.id}/request", data={"csrf_token": token})
    with app_db.read() as s:
        assert sorted(s.scalars(select(GroupLink.customer_id).where(GroupLink.assignee_id == team["li"]))) == [2, 3]
    assert "请先完成手上的 2 个跟进任务" in client.get("/groups/mine").get_data(as_text=True)
    assert client.get("/groups").status_code == 403  # 业务员 cannot manage groups
