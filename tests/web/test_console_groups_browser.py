"""Browser story: a manager opens a group, clicks 立即分配, watches the job finish and sees the
customers assigned (headless Chromium, no CSP violations)."""
from __future__ import annotations

import pytest
from sqlalchemy import insert, select

from crm.customers.models import Customer
from crm.groups import allocation, membership
from crm.groups.models import CustomerGroup, GroupLink, GroupMember
from crm.jobs.runner import JobRunner
from crm.people import service as people


@pytest.mark.browser
def test_allocation_run_from_the_console(page, browser_login, app, app_db, admin_user):
    li = people.create_user(app_db, "lisi", "Passw0rd123", display_name="李四", roles=["sales"])
    with app_db.write() as s:
        s.execute(insert(Customer), [dict(id=i, name=f"客户{i}", status="active", tag_score=i, follow_count=0, attrs={})
                                     for i in range(1, 4)])
        grp = CustomerGroup(name="电销组")
        s.add(grp)
        s.flush()
        s.add(GroupMember(group_id=grp.id, user_id=li.id, role="sales"))
        s.flush()
        membership.add_to_group(s, [1, 2, 3], grp.id, None)
        allocation.create_rule(s, grp.id, {"name": "跟进次数为0", "rule": {
            "mode": "conditions", "rows": [{"field": "follow_count", "op": "eq", "value": 0}]}})
        group_id = grp.id
    browser_login()
    page.goto(f"/groups/{group_id}")
    assert page.locator("text=跟进次数为0").count() == 1
    page.click("[data-testid=allocate-now]")
    page.wait_for_selector("[data-job-text][data-status=queued]")
    JobRunner(app.extensions["ckb"].services).run_pending()
    page.wait_for_selector("[data-testid=job-row]:has-text('分配客户 3 个')", timeout=15_000)
    with app_db.read() as s:
        assert set(s.scalars(select(GroupLink.assignee_id).where(GroupLink.group_id == group_id))) == {li.id}
    page.goto("/crm-logs?kind=allocation&since=2000-01-01&until=2100-01-01")
    assert page.locator("text=自动分配").count() == 3
