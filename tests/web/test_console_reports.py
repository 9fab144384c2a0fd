"""数据报表 pages: the daily/weekly/monthly reports show a seeded month's figures for the viewer's own
scope only (a 业务员 their own, a manager their departments'), targets are set per person/team and
period, a weekly review is saved and listed by week, every report and drill-down exports as xlsx."""
from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from analytics import rollup_store as store
from analytics.models import MetricTarget
from analytics.review_models import WeeklyReview
from tests.analytics.month_seed import Oracle, seeded_month

PASSWORD = "Passw0rd!x"


@pytest.fixture
def month(app_db, admin_user):
    return seeded_month(app_db)


def _as(client, login, name):
    assert login(client, name, PASSWORD if name != "admin" else "Admin12345").status_code == 302


def test_daily_report_shows_the_oracle_values_for_a_team(client, login, month):
    _as(client, login, "admin")
    team = month.depts["top"]
    day = date(2026, 10, 17)
    html = client.get(f"/reports/daily?scope=department:{team}&day={day.isoformat()}").get_data(as_text=True)
    oracle = Oracle(month)
    assert f'data-testid="kpi-new_friends"' in html
    new = oracle.value("new_friends", "department", team, day)
    assert f'<span class="stat-label">新增好友数</span><span class="stat-value">{new:,}</span>' in html
    gmv = oracle.value("gmv_fen", "department", team, day)
    assert f"¥{gmv / 100:,.2f}" in html
    assert 'id="trend-chart"' in html and "有效粉" in html and "指标口径" in html


def test_a_salesperson_sees_only_their_own_figures(client, login, month):
    _as(client, login, "u1")
    u1, u2 = month.users["u1"], month.users["u2"]
    page = client.get("/reports/daily?day=2026-10-17")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "个人：员工u1" in html and "员工u2" not in html and "全公司" not in html
    for url in (f"/reports/daily?scope=user:{u2}", "/reports/daily?scope=company:0",
                f"/reports/monthly?scope=department:{month.depts['top']}", f"/reports/weekly?scope=user:{u2}",
                f"/reports/drill?metric=new_friends&kind=day&at=2026-10-17&scope=user:{u2}",
                f"/reports/drill/export?metric=new_friends&kind=day&at=2026-10-17&scope=user:{u2}"):
        assert client.get(url).status_code == 404, url
    assert client.get("/reports/targets").status_code == 403


def test_a_manager_sees_their_departments_and_people_but_not_others(client, login, month):
    _as(client, login, "mgr")
    assert client.get(f"/reports/daily?scope=department:{month.depts['sub']}").status_code == 200  # sub-team
    assert client.get(f"/reports/daily?scope=user:{month.users['u1']}").status_code == 200
    assert client.get(f"/reports/daily?scope=department:{month.depts['other']}").status_code == 404
    assert client.get(f"/reports/daily?scope=user:{month.users['u3']}").status_code == 404
    assert client.get("/reports/daily?scope=company:0").status_code == 404


def test_targets_give_achievement_and_week_falls_back_to_daily_times_days(client, login, csrf_token, month, app_db):
    _as(client, login, "admin")
    u1 = month.users["u1"]
    token = csrf_token(client, "/reports/targets")
    bad = client.post(f"/reports/targets?scope=user:{u1}&period=day",
                      data={"csrf_token": token, "new_friends": "-3", "gmv_fen": "abc"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "取值超出范围" in text and "请输入数字" in text
    with app_db.read() as s:
        assert s.exec(select(MetricTarget)).all() == []  # nothing half-written
    ok = client.post(f"/reports/targets?scope=user:{u1}&period=day",
                     data={"csrf_token": token, "new_friends": "2", "gmv_fen": "1000.5", "effective_rate": "60"})
    assert ok.status_code == 302
    with app_db.read() as s:
        rows = {t.metric: t.value for t in s.exec(select(MetricTarget).where(
            MetricTarget.dim == "user", MetricTarget.dim_id == u1, MetricTarget.period == "day"))}
    assert rows == {"new_friends": 2, "gmv_fen": 100050, "effective_rate": 60}
    html = client.get(f"/reports/weekly?scope=user:{u1}&week=2026-W42").get_data(as_text=True)
    assert "目标 14 ·" in html  # 2 per day × 7 days


def test_weekly_review_is_prefilled_saved_and_listed(client, login, csrf_token, month, app_db):
    _as(client, login, "mgr")
    team = month.depts["top"]
    form = client.get(f"/reports/weekly/review?scope=department:{team}&week=2026-W42").get_data(as_text=True)
    assert "本周目标：" in form and "实际结果：新增好友数" in form
    token = csrf_token(client, "/reports/daily")
    empty = client.post(f"/reports/weekly/review?scope=department:{team}&week=2026-W42",
                        data={"csrf_token": token})
    assert "复盘内容不能全部为空" in empty.get_data(as_text=True) or "请至少填写一个部分" in empty.get_data(as_text=True)
    saved = client.post(f"/reports/weekly/review?scope=department:{team}&week=2026-W42",
                        data={"csrf_token": token, "goals": "目标 700", "summary": "加强朋友圈", "actions": "每天5条"})
    assert saved.status_code == 302
    with app_db.read() as s:
        review = s.exec(select(WeeklyReview)).one()
    assert (review.dim, review.dim_id, review.iso_year, review.iso_week) == ("department", team, 2026, 42)
    assert review.summary == "加强朋友圈" and review.figures and review.author_id == month.users["mgr"]
    page = client.get(f"/reports/weekly?scope=department:{team}&week=2026-W43").get_data(as_text=True)
    assert "2026年第42周" in page and "加强朋友圈" in page
    _as(client, login, "u1")  # a 业务员 cannot write a team's review
    assert client.get(f"/reports/weekly/review?scope=department:{team}&week=2026-W42").status_code == 403


def test_exports_are_xlsx_with_the_figures(client, login, month):
    _as(client, login, "admin")
    u1 = month.users["u1"]
    oracle = Oracle(month)
    for url in (f"/reports/daily/export?scope=user:{u1}&day=2026-10-17", f"/reports/weekly/export?scope=user:{u1}",
                f"/reports/monthly/export?scope=user:{u1}&month=2026-10"):
        res = client.get(url)
        assert res.status_code == 200 and res.mimetype.endswith("spreadsheetml.sheet"), url
    book = load_workbook(io.BytesIO(client.get(f"/reports/monthly/export?scope=user:{u1}&month=2026-10").data))
    rows = {r[0]: r for r in book["报表"].iter_rows(min_row=3, values_only=True)}
    days = [date(2026, 10, d) for d in range(1, 32)]
    assert rows["新增好友数"][2] == sum(oracle.value("new_friends", "user", u1, d) for d in days)
    drill = client.get(f"/reports/drill/export?metric=new_friends&kind=day&at=2026-10-10&scope=user:{u1}")
    sheet = load_workbook(io.BytesIO(drill.data))["明细"]
    labels = [r[2] for r in sheet.iter_rows(min_row=3, values_only=True)]
    assert "wx_p0" in labels and "wx_p1" not in labels  # 23:59:59 on the 10th, 00:00:00 on the 11th


def test_drill_lists_exactly_the_people_counted(client, login, month, app_db):
    _as(client, login, "admin")
    team = month.depts["top"]
    day = date(2026, 10, 17)
    for metric in ("new_friends", "consulted", "buyers", "gmv_fen"):
        html = client.get(f"/reports/drill?metric={metric}&kind=day&at={day}&scope=department:{team}").get_data(as_text=True)
        with app_db.read() as s:
            counted = store.totals(s, metric, "department", day, day, [team]).get(team, 0)
        shown = int(html.split("共 ")[1].split(" 条")[0])
        if metric == "gmv_fen":
            assert shown == Oracle(month).value("orders_paid", "department", team, day)
        else:
            assert shown == counted, metric


def test_a_friend_linked_to_a_customer_opens_the_customer(client, login, month, app_db):
    from devices.models import Friend

    with app_db.write() as s:
        friend = s.exec(select(Friend).where(Friend.wxid == "wx_p0", Friend.account_id == min(month.owner))).one()
        friend.customer_id = month.customers[0][0]
        s.add(friend)
    _as(client, login, "admin")
    html = client.get(f"/reports/drill?metric=new_friends&kind=day&at=2026-10-10&scope=user:{month.users['u1']}")
    assert f'<a href="/customers/{month.customers[0][0]}">wx_p0</a>' in html.get_data(as_text=True)
