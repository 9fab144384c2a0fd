"""线索列表, 线索详情, 线索死信 and 获客统计 pages: filters, the detail page of a lead processed by
the real pipeline (submit → engine tick), status changes (refused in Chinese when the flow does not
allow them), notes, manual assignment by name, masking for a user without pii.view, dead-letter
re-drive and discard, and the statistics page with its SVG charts and CSV export."""
from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from sqlmodel import select

from config.clock import UTC
from crm.leads.intake import Submission, dead_letter, submit
from crm.leads.models import Lead, LeadChannel, LeadDeadLetter, LeadLog, LeadScene, WebhookRejection
from crm.people import service as people
from crm.people.permissions import ALL_PERMISSIONS
from crm.tags.categories import create_category
from crm.tags.service import create_tag
from engine.lead_scenes import save_scene
from tests.web.conftest import get_csrf_token

MOBILE = "13800138000"
OTHER_MOBILE = "13900139000"


def _clock_utc(app) -> datetime:
    return app.extensions["ckb"].services.now()


@pytest.fixture
def admin(client, admin_user, login):
    assert login(client).status_code == 302
    return get_csrf_token(client, "/leads/stats")


@pytest.fixture
def world(app, app_db):
    """A real scene (its event and pipeline strategy) with one lead processed by the engine, two
    salespeople, a team, tags, a channel, and a few leads inserted as they would be stored."""
    rt = app.extensions["ckb"]
    people.ensure_builtin_roles(app_db)
    alice = people.create_user(app_db, "alice", "Passw0rd123", display_name="王小丽").id
    bob = people.create_user(app_db, "bob", "Passw0rd123", display_name="李大伟").id
    with app_db.write() as s:
        cat = create_category(s, {"name": "线索标签"})
        hot = create_tag(s, {"name": "高意向", "category_id": cat.id, "kind": "manual"}, None).id
        cold = create_tag(s, {"name": "价格敏感", "category_id": cat.id, "kind": "manual"}, None).id
        douyin = LeadChannel(name="抖音广告", channel_type="PAID_SOCIAL", code="dy01")
        s.add(douyin)
        s.flush()
        scene, _ = save_scene(s, {
            "name": "官网咨询表单", "scene_type": "WEB_FORM", "dedup_strategy": "BY_PHONE",
            "default_channel_id": douyin.id,
            "mapping_rules": [{"source": "name", "target": "name"},
                              {"source": "phone", "target": "mobile", "transform": "phone"},
                              {"source": "message", "target": "message"}],
            "tagging_rules": [{"name": "高意向", "rows": [{"lparen": 0, "field": "message", "op": "contains",
                                                           "value": "报价", "rparen": 0, "join": "and"}], "tags": [hot]}],
            "assignment_rules": {"rules": [{"name": "全部", "rows": [], "method": "round_robin", "user_ids": [alice]}]},
        }, registry=rt.registry, box=rt.services.secret_box, author="test")
        scene_id, channel_id = scene.id, douyin.id
        from crm.groups.models import CustomerGroup

        team = CustomerGroup(name="华东销售组")
        s.add(team)
        s.flush()
        team_id = team.id
    rt.invalidate()
    now = _clock_utc(app)
    [accepted] = submit(app_db, scene_id, [Submission(raw={"name": "张三", "phone": "+86 138-0013-8000",
                                                            "message": "请尽快给我报价"}, external_id="web-1",
                                                       meta={"ip_address": "10.1.2.3"})], now=now)
    rt.tick()
    with app_db.write() as s:
        other = Lead(scene_id=scene_id, channel_id=None, name="李四", mobile=OTHER_MOBILE, status="NEW",
                     lead_data={"name": "李四", "mobile": OTHER_MOBILE, "message": "随便看看"}, tag_ids=[cold],
                     created_at=now - timedelta(days=2))
        closed = Lead(scene_id=scene_id, channel_id=channel_id, name="王五", mobile="13700137000", status="CLOSED",
                      created_at=now - timedelta(days=1))
        s.add_all([other, closed])
        s.flush()
        from crm.leads.models import LeadTag

        s.add(LeadTag(lead_id=other.id, tag_id=cold))
        ids = {"other": other.id, "closed": closed.id}
    return {"scene": scene_id, "channel": channel_id, "lead": accepted.lead_id, "alice": alice, "bob": bob,
            "team": team_id, "hot": hot, "cold": cold, **ids}


# -- 获客统计 -----------------------------------------------------------------------------------
def _seed_stats(app_db, now):
    with app_db.write() as s:
        scene = LeadScene(name="400热线", key="hotline", scene_type="PHONE_CALL")
        ch = LeadChannel(name="百度推广", channel_type="PAID_SEARCH", code="bd01")
        s.add_all([scene, ch])
        s.flush()
        s.add_all([Lead(scene_id=scene.id, channel_id=ch.id, status="CONVERTED", created_at=now - timedelta(days=1)),
                   Lead(scene_id=scene.id, channel_id=ch.id, status="NEW", created_at=now - timedelta(days=3)),
                   Lead(scene_id=scene.id, channel_id=None, status="NEW", created_at=now - timedelta(days=30)),
                   WebhookRejection(adapter="douyin", reason="signature", created_at=now),
                   LeadDeadLetter(scene_id=scene.id, reason="手机号格式不正确", created_at=now)])


def _option(html: str, chart_id: str) -> dict:
    """The ECharts option a ui.chart placed beside its <div> (the JSON the browser draws)."""
    found = re.search(rf'<script type="application/json" id="{chart_id}-option">(.*?)</script>', html, re.S)
    assert found, chart_id
    return json.loads(unescape(found.group(1)))


def test_stats_page_renders_cards_and_charts(app, client, admin, app_db):
    _seed_stats(app_db, _clock_utc(app))
    resp = client.get("/leads/stats")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    assert "2026-11-07" in html and "2026-11-20" in html  # the last 14 days by default
    cards = html[html.index('data-testid="stats-cards"'):html.index("每日线索")]
    assert re.search(r'线索总数</span><span class="stat-value">2<', cards)
    assert "50.0%" in cards  # one of two converted
    daily = _option(html, "chart-daily")
    assert daily["xAxis"]["data"][0] == "11-07" and daily["xAxis"]["data"][-1] == "11-20"
    assert [s["name"] for s in daily["series"]] == ["400热线"]
    assert [d["value"] for d in daily["series"][0]["data"]] == [0] * 10 + [1, 0, 1, 0]  # 11-17 and 11-19
    link = daily["series"][0]["data"][10]["link"]  # a segment opens the leads of that scene and day
    assert link.startswith("/leads?") and "start=2026-11-17" in link and "end=2026-11-17" in link
    assert "link" not in daily["series"][0]["data"][0]  # an empty day opens nothing
    assert client.get(link).get_data(as_text=True).count('data-testid="lead-row"') == 1
    channels = _option(html, "chart-channels")
    assert channels["yAxis"]["data"] == ["百度推广"] and channels["series"][0]["data"][0]["value"] == 2
    funnel = _option(html, "chart-funnel")["series"][0]
    assert funnel["type"] == "funnel" and funnel["data"][0]["value"] == 2 and funnel["data"][-1]["value"] == 1
    assert funnel["data"][-1]["name"].endswith("（50.0%）")
    assert "lp-chart" not in html and "400热线" in html and "百度推广" in html and "签名错误 1" in html
    by_channel = client.get("/leads/stats?daily=channel").get_data(as_text=True)
    assert [s["name"] for s in _option(by_channel, "chart-daily")["series"]] == ["百度推广"]
    wider = client.get("/leads/stats?start=2026-10-01&end=2026-11-20").get_data(as_text=True)
    assert re.search(r'线索总数</span><span class="stat-value">3<', wider) and "未指定渠道" in wider
    wide_channels = _option(wider, "chart-channels")["series"][0]["data"]
    assert [("link" in d) for d in wide_channels] == [False, True]  # 未指定渠道 has no list of its own


def test_stats_series_beyond_seven_are_summed_as_other(app):
    from crm.leads.stats import make_period
    from web.console.lead_stats import daily_option

    days = [datetime(2026, 11, d).date() for d in (1, 2)]
    series = [(i, f"场景{i}", [i, 1]) for i in range(1, 10)]
    with app.test_request_context():
        option = daily_option(days, series, "scene", make_period(days[0], days[1], "Asia/Shanghai"))
    names = [s["name"] for s in option["series"]]
    assert names == ["场景1", "场景2", "场景3", "场景4", "场景5", "场景6", "其他"]
    assert [d["value"] for d in option["series"][-1]["data"]] == [7 + 8 + 9, 3]
    assert all("link" not in d for d in option["series"][-1]["data"])


def test_stats_bad_period_is_refused_in_chinese(client, admin):
    html = client.get("/leads/stats?start=2026-11-20&end=2026-11-01").get_data(as_text=True)
    assert "结束日期不能早于开始日期" in html
    assert "请输入正确的日期" in client.get("/leads/stats?start=abc").get_data(as_text=True)


def test_stats_csv_export(app, client, admin, app_db):
    _seed_stats(app_db, _clock_utc(app))
    resp = client.get("/leads/stats/export?start=2026-11-15&end=2026-11-20")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(resp.get_data().decode("utf-8-sig"))))
    assert rows[0][:5] == ["维度", "名称", "线索数", "已转化", "转化率"] and rows[0][-1] == "2026-11-20"
    assert rows[1][:5] == ["场景", "400热线", "2", "1", "50.0%"]
    assert rows[1][8:] == ["0", "0", "1", "0", "1", "0"]
    assert rows[-1][:3] == ["合计", "", "2"]


# -- 线索死信 -----------------------------------------------------------------------------------
def test_dead_letters_redrive_discard_and_rejections(app, client, admin, app_db, world):
    with app_db.write() as s:
        bad = dead_letter(s, world["scene"], "webhook", Submission(raw={"name": "赵六", "phone": "12345"}),
                          "手机号格式不正确", {"mobile": "手机号格式不正确"})
        good = dead_letter(s, world["scene"], "api", Submission(raw={"name": "钱七", "phone": "13600136000"},
                                                                external_id="dl-2"), "场景已停用", {})
        junk = dead_letter(s, world["scene"], "api", Submission(raw={"x": 1}), "无法识别", {})
        s.add(WebhookRejection(adapter="douyin", scene_id=world["scene"], reason="replay", client_ip="1.2.3.4"))
        ids = (bad.id, good.id, junk.id)
    html = client.get("/leads/deadletters").get_data(as_text=True)
    assert "手机号格式不正确" in html and "136****6000" in html or "13600136000" in html
    resp = client.post("/leads/deadletters/redrive", data={"csrf_token": admin, "ids": [ids[0], ids[1]]},
                       follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert "已重新处理 1 条死信" in page and f"死信 #{ids[0]} 仍无法处理" in page
    with app_db.read() as s:
        redriven = s.get(LeadDeadLetter, ids[1])
        assert redriven.status == "redriven" and redriven.lead_id
        assert s.get(LeadDeadLetter, ids[0]).status == "open" and s.get(LeadDeadLetter, ids[0]).attempts == 1
    done = client.get("/leads/deadletters?status=redriven").get_data(as_text=True)
    assert f'href="/leads/{redriven.lead_id}"' in done
    client.post("/leads/deadletters/discard", data={"csrf_token": admin, "ids": [ids[2]]})
    with app_db.read() as s:
        assert s.get(LeadDeadLetter, ids[2]).status == "discarded"
    twice = client.post("/leads/deadletters/discard", data={"csrf_token": admin, "ids": [ids[1]]}, follow_redirects=True)
    assert f"死信 #{ids[1]} 已是「已重新处理」，不能丢弃" in twice.get_data(as_text=True)
    nothing = client.post("/leads/deadletters/discard", data={"csrf_token": admin}, follow_redirects=True)
    assert "请先勾选要丢弃的死信" in nothing.get_data(as_text=True)
    tab = client.get("/leads/deadletters?tab=rejections").get_data(as_text=True)
    assert "重放请求" in tab and "1.2.3.4" in tab and "官网咨询表单" in tab


# -- 线索列表 / 线索详情 ---------------------------------------------------------------------------
def _rows(html: str) -> int:
    return html.count('data-testid="lead-row"')


def test_list_filters(client, admin, world):
    html = client.get("/leads").get_data(as_text=True)
    assert _rows(html) == 3 and "张三" in html and "李四" in html and "王五" in html
    assert MOBILE in html  # the admin holds pii.view
    assert "王小丽" in html and "高意向" in html and "已分配" in html
    assert _rows(client.get("/leads?status=ASSIGNED").get_data(as_text=True)) == 1
    assert _rows(client.get("/leads?status=CLOSED").get_data(as_text=True)) == 1
    assert _rows(client.get(f"/leads?channel={world['channel']}").get_data(as_text=True)) == 2
    assert _rows(client.get(f"/leads?assignee={world['alice']}").get_data(as_text=True)) == 1
    only = client.get(f"/leads?tags={world['cold']}").get_data(as_text=True)
    assert _rows(only) == 1 and "李四" in only
    assert _rows(client.get(f"/leads?tags={world['cold']}&tags={world['hot']}").get_data(as_text=True)) == 2
    assert _rows(client.get("/leads?q=王五").get_data(as_text=True)) == 1
    assert _rows(client.get(f"/leads?q={OTHER_MOBILE}").get_data(as_text=True)) == 1
    # Received (Beijing): 张三 2026-11-20 10:00 (the clock), 王五 the 19th, 李四 the 18th.
    assert _rows(client.get("/leads?start=2026-11-18&end=2026-11-18").get_data(as_text=True)) == 1
    assert _rows(client.get("/leads?start=2026-11-19&end=2026-11-20").get_data(as_text=True)) == 2
    assert _rows(client.get("/leads?start=2026-11-20").get_data(as_text=True)) == 1
    oldest = client.get("/leads?sort=created_at").get_data(as_text=True)
    assert oldest.index("李四") < oldest.index("王五")
    assert _rows(client.get(f"/leads?scene={world['scene']}&status=NEW").get_data(as_text=True)) == 1


def test_list_paging_keeps_the_filters(client, admin, world, app_db):
    with app_db.write() as s:
        s.add_all([Lead(scene_id=world["scene"], name=f"批量{i:02d}", status="NEW", tag_ids=[world["cold"]])
                   for i in range(25)])
        s.flush()
        from crm.leads.models import LeadTag

        s.add_all([LeadTag(lead_id=lead.id, tag_id=world["cold"]) for lead in
                   s.exec(select(Lead).where(Lead.name.like("批量%"))).all()])
    first = client.get(f"/leads?status=NEW&tags={world['cold']}").get_data(as_text=True)
    assert _rows(first) == 20 and "共 26 条" in first
    assert f"page=2&amp;status=NEW&amp;tags={world['cold']}" in first or f"status=NEW&amp;tags={world['cold']}&amp;page=2" in first
    second = client.get(f"/leads?status=NEW&tags={world['cold']}&page=2").get_data(as_text=True)
    assert _rows(second) == 6


def test_detail_of_a_lead_processed_by_the_pipeline(client, admin, world, app_db):
    html = client.get(f"/leads/{world['lead']}").get_data(as_text=True)
    assert "请尽快给我报价" in html and MOBILE in html and "10.1.2.3" in html
    assert "高意向" in html and "王小丽" in html and "轮询" in html
    log = html[html.index('data-testid="lead-log"'):]
    for stage in ("接收", "客户识别", "自动打标签", "分配"):
        assert stage in log, stage
    with app_db.read() as s:
        lead = s.get(Lead, world["lead"])
    assert f'href="/customers/{lead.customer_id}"' in html and "新建潜在客户" in html
    assert client.get("/leads/99999").status_code == 404


def test_status_change_allowed_and_refused_in_chinese(client, admin, world, app_db):
    lead_id = world["lead"]
    ok = client.post(f"/leads/{lead_id}/status", data={"csrf_token": admin, "status": "PROCESSING"})
    assert ok.status_code == 302
    refused = client.post(f"/leads/{lead_id}/status", data={"csrf_token": admin, "status": "NEW"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "线索状态不能从「跟进中」改为「新线索」" in text
    closed = client.post(f"/leads/{world['closed']}/status", data={"csrf_token": admin, "status": "CONVERTED"})
    assert closed.status_code == 422 and "不能从「已关闭」改为「已转化」" in closed.get_data(as_text=True)
    with app_db.read() as s:
        assert s.get(Lead, lead_id).status == "PROCESSING" and s.get(Lead, world["closed"]).status == "CLOSED"
        assert s.exec(select(LeadLog).where(LeadLog.lead_id == lead_id, LeadLog.stage == "status")).one()
    page = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    form = page[page.index('data-testid="status-form"'):page.index("</form>", page.index('data-testid="status-form"'))]
    assert "已转化" in form and "新线索" not in form  # only the allowed next statuses are offered


def test_notes(client, admin, world):
    lead_id = world["lead"]
    empty = client.post(f"/leads/{lead_id}/notes", data={"csrf_token": admin, "note": "  "})
    assert empty.status_code == 422 and "备注不能为空" in empty.get_data(as_text=True)
    client.post(f"/leads/{lead_id}/notes", data={"csrf_token": admin, "note": "客户要求周五回电"})
    html = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    notes = html[html.index('data-testid="lead-notes"'):]
    assert "客户要求周五回电" in notes and "系统管理员" in notes


def test_manual_assign_and_bulk_assign_by_name(client, admin, world, app_db):
    html = client.get(f"/leads/{world['lead']}").get_data(as_text=True)
    assert f'<option value="{world["bob"]}">李大伟</option>' in html and "华东销售组" in html
    resp = client.post(f"/leads/{world['lead']}/assign", data={"csrf_token": admin, "user_id": world["bob"]})
    assert resp.status_code == 302
    again = client.post(f"/leads/{world['lead']}/assign", data={"csrf_token": admin, "user_id": world["bob"]})
    assert again.status_code == 422 and "线索已经分配给" in again.get_data(as_text=True)
    none = client.post(f"/leads/{world['lead']}/assign", data={"csrf_token": admin})
    assert none.status_code == 422 and "请选择要分配给的销售或团队" in none.get_data(as_text=True)
    detail = client.get(f"/leads/{world['lead']}").get_data(as_text=True)
    history = detail[detail.index('data-testid="lead-assignments"'):]
    assert "王小丽 → 李大伟" in history and "手动分配" in history
    bulk = client.post("/leads/assign", data={"csrf_token": admin, "ids": [world["other"], world["closed"]],
                                              "group_id": world["team"], "next": "/leads"}, follow_redirects=True)
    assert "已分配 2 条线索" in bulk.get_data(as_text=True)
    with app_db.read() as s:
        assert s.get(Lead, world["lead"]).assignee_user_id == world["bob"]
        assert {s.get(Lead, i).assignee_group_id for i in (world["other"], world["closed"])} == {world["team"]}
    nothing = client.post("/leads/assign", data={"csrf_token": admin, "user_id": world["bob"]}, follow_redirects=True)
    assert "请先勾选要分配的线索" in nothing.get_data(as_text=True)


def test_masked_for_a_user_without_pii_view(app, client, app_db, login, world):
    people.ensure_builtin_roles(app_db)
    people.create_role(app_db, "lead_ops", "线索运营", {"leads.view", "leads.view_all", "leads.manage", "leads.assign"})
    people.create_user(app_db, "ops", "Masked12345", display_name="线索运营", roles=["lead_ops"])
    with app_db.write() as s:
        dead_letter(s, world["scene"], "api", Submission(raw={"phone": OTHER_MOBILE}), f"号码 {OTHER_MOBILE} 已拉黑", {})
    assert login(client, "ops", "Masked12345").status_code == 302
    for url in ("/leads", f"/leads/{world['lead']}", f"/leads/{world['other']}", "/leads/deadletters"):
        html = client.get(url).get_data(as_text=True)
        assert MOBILE not in html and OTHER_MOBILE not in html, url
        assert "138-0013-8000" not in html, url  # the raw payload as the form sent it
    found = client.get(f"/leads?q={OTHER_MOBILE}").get_data(as_text=True)  # searching by the full number works
    assert _rows(found) == 1 and "139****9000" in found[found.index('data-testid="lead-table"'):]
    detail = client.get(f"/leads/{world['lead']}").get_data(as_text=True)
    assert "138****8000" in detail[detail.index('data-testid="lead-raw"'):]
    assert "139****9000" in client.get("/leads/deadletters").get_data(as_text=True)


def test_a_salesperson_sees_only_their_own_leads(client, app_db, login, world):
    people.create_role(app_db, "lead_sales", "线索销售", {"leads.view"})  # no leads.view_all
    with app_db.write() as s:
        from crm.people.models import UserRole, Role

        role = s.exec(select(Role).where(Role.code == "lead_sales")).one()
        s.add(UserRole(user_id=world["alice"], role_id=role.id))
    assert login(client, "alice", "Passw0rd123").status_code == 302
    html = client.get("/leads").get_data(as_text=True)
    assert _rows(html) == 1 and "张三" in html
    assert client.get(f"/leads/{world['other']}").status_code == 404
    assert client.get("/leads/deadletters").status_code == 403


def test_pages_need_permissions(client, app_db, login, world):
    people.create_user(app_db, "nobody", "Nobody12345")
    assert login(client, "nobody", "Nobody12345").status_code == 302
    for url in ("/leads", f"/leads/{world['lead']}", "/leads/stats", "/leads/deadletters", "/leads/stats/export"):
        assert client.get(url).status_code == 403, url
