"""线索分配: every method on real rows (轮询 cycles, 3:1 weights give exactly 75/25, 随机 is seeded by
the lead, 按负载/地区/技能标签/线索价值), caps spilling to the next person and then the backups,
working hours with a manual clock, disabled people skipped, condition rows choosing the rule,
validation naming the rule, manual reassign logged from → to, and the customer's owner."""
from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import func, select

from config.clock import UTC
from crm.customers.models import Customer
from crm.customers.service import create_customer
from crm.groups import service as groups
from crm.groups.models import GroupLink
from crm.leads import assignment
from crm.leads.assign_methods import in_working_hours, smooth_sequence
from crm.leads.assign_rules import clean_assignment_rules
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.fields import lead_event_fields
from crm.leads.models import Lead, LeadAssignment, LeadLog, LeadScene
from crm.people import service as people
from crm.people.models import Notification
from crm.tags.categories import create_category
from crm.tags.service import create_tag

TZ = "Asia/Shanghai"
# The clock fixture starts on Friday 2026-11-20 10:00 in Beijing (02:00 UTC).
FRIDAY_EVENING = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # 20:00 Beijing
SATURDAY_MORNING = datetime(2026, 11, 21, 2, 0, tzinfo=UTC)  # 10:00 Beijing


@pytest.fixture
def staff(db):
    """张三, 李四, 王五 sell; 赵六 is the backup."""
    return [people.create_user(db, login, "Passw0rd1", display_name=name).id
            for login, name in (("zhang", "张三"), ("li", "李四"), ("wang", "王五"), ("zhao", "赵六"))]


def make_scene(db, config: dict, name: str = "官网表单") -> int:
    """A scene whose rules went through the same check the console uses."""
    with db.write() as s:
        scene = LeadScene(name=name, key=f"k{abs(hash(name)) % 10**8}", scene_type="WEB_FORM")
        scene.assignment_rules = clean_assignment_rules(s, config, lead_event_fields(scene), TZ)
        s.add(scene)
        s.flush()
        return scene.id


def arrive(db, services, scene_id: int, **fields):
    """One lead through decide + apply in one write transaction, as the pipeline step does."""
    data = fields.pop("data", {})
    with db.write() as s:
        lead = Lead(scene_id=scene_id, lead_data=data, **{"created_at": services.now(), **fields})
        s.add(lead)
        s.flush()
        scene = s.get(LeadScene, scene_id)
        facts = {**data, "lead_id": lead.id, "scene_id": scene_id, "scene_type": scene.scene_type}
        decision = assignment.decide(s, lead, scene, facts, services.now(), TZ)
        row = assignment.apply_assignment(s, lead, decision, actor="strategy:1", now=services.now())
        return lead.id, decision, (row.id if row else None)


def assignees(db, services, scene_id, count, **fields) -> list:
    return [arrive(db, services, scene_id, **fields)[1].user_id for _ in range(count)]


def rows(db, stmt):
    with db.read() as s:
        return s.execute(stmt).all()


def one_rule(**rule) -> dict:
    return {"rules": [{"name": "全部", **rule}]}


def test_round_robin_cycles_exactly_and_records_everything(db, services, clock, staff):
    a, b, c, _ = staff
    scene = make_scene(db, one_rule(method="round_robin", user_ids=[a, b, c]))
    clock.advance(minutes=5)
    results = [arrive(db, services, scene, name=f"客户{i}", created_at=datetime(2026, 11, 20, 2, 0, tzinfo=UTC))
               for i in range(6)]
    assert [d.user_id for _, d, _ in results] == [a, b, c, a, b, c]
    assert results[0][1].reason == "规则「全部」按轮询分配给 张三"
    lead_id = results[0][0]
    with db.read() as s:
        lead = s.get(Lead, lead_id)
        assert (lead.status, lead.assignee_user_id, lead.assignee_group_id) == ("ASSIGNED", a, None)
        record = s.scalars(select(LeadAssignment).where(LeadAssignment.lead_id == lead_id)).one()
        assert (record.method, record.rule_name, record.actor, record.latency_seconds) == (
            "round_robin", "全部", "strategy:1", 300.0)
        log = s.scalars(select(LeadLog).where(LeadLog.lead_id == lead_id)).one()
        assert (log.stage, log.ok, log.message, log.detail["user_id"]) == ("assigned", True, record.reason, a)
        note = s.scalars(select(Notification).where(Notification.user_id == a)).first()
        assert note.title == "新线索分配给你：客户0" and note.link == f"/leads/{lead_id}"
        assert s.scalar(select(func.count()).select_from(Notification)) == 6


def test_weighted_three_to_one_is_exact_over_400(db, services, staff):
    a, b, _, _ = staff
    scene = make_scene(db, one_rule(method="weighted", user_ids=[a, b], weights={str(a): 3, str(b): 1}))
    picks = assignees(db, services, scene, 400)
    assert picks[:4] == [a, a, b, a]  # smooth: the light one is not left to the end
    assert Counter(picks) == {a: 300, b: 100}
    assert smooth_sequence((5, 1, 1)) == (0, 0, 1, 0, 2, 0, 0)


def test_random_is_seeded_by_the_lead(db, services, staff):
    a, b, c, _ = staff
    scene = make_scene(db, one_rule(method="random", user_ids=[a, b, c]))
    results = [arrive(db, services, scene) for _ in range(30)]
    assert set(d.user_id for _, d, _ in results) == {a, b, c}
    lead_id, first, _ = results[0]
    with db.write() as s:  # deciding again for the same lead draws the same person
        lead, scene_row = s.get(Lead, lead_id), s.get(LeadScene, scene)
        again = assignment.decide(s, lead, scene_row, {}, services.now(), TZ)
    assert again.user_id == first.user_id and again.reason.startswith("规则「全部」随机分配给")


def test_load_picks_fewest_open_leads(db, services, staff):
    a, b, c, _ = staff
    scene = make_scene(db, one_rule(method="load", user_ids=[a, b, c]))
    with db.write() as s:
        for user, status in ((a, "ASSIGNED"), (a, "PROCESSING"), (b, "NEW"), (b, "CONVERTED"), (b, "CLOSED"),
                             (b, "DISQUALIFIED"), (c, "QUALIFIED"), (c, "ASSIGNED")):
            s.add(Lead(scene_id=scene, assignee_user_id=user, status=status))
    _, decision, _ = arrive(db, services, scene)
    assert decision.user_id == b and decision.reason == "规则「全部」按负载分配给 李四（未完成线索 1 条）"
    # b now holds two open leads like a and c: the configured order breaks the tie
    assert arrive(db, services, scene)[1].user_id == a


def test_region_exact_then_longest_prefix_then_the_rules_own_people(db, services, staff):
    a, b, c, d = staff
    scene = make_scene(db, one_rule(method="region", user_ids=[d], regions=[
        {"region": "广东", "user_ids": [a]}, {"region": "广东深圳", "user_ids": [b]}, {"region": "北京", "user_ids": [c]}]))
    assert arrive(db, services, scene, region="广东深圳南山")[1].user_id == b
    assert arrive(db, services, scene, region="广东广州")[1].user_id == a
    assert arrive(db, services, scene, data={"region": "北京"})[1].user_id == c  # from the event data
    _, other, _ = arrive(db, services, scene, region="海南")
    assert other.user_id == d and other.reason == "规则「全部」：地区「海南」没有对应的负责人，按轮询分配给 赵六"
    assert arrive(db, services, scene, region="广东")[1].reason == "规则「全部」按地区「广东」分配给 张三"


def test_skill_by_tag_in_the_configured_order(db, services, staff):
    a, b, _, _ = staff
    with db.write() as s:
        category = create_category(s, {"name": "意向"})
        vip, product = (create_tag(s, {"name": n, "kind": "manual", "category_id": category.id}, None).id
                        for n in ("VIP", "产品A"))
    scene = make_scene(db, one_rule(method="skill", skills=[{"tag_id": vip, "user_ids": [a]},
                                                             {"tag_id": product, "user_ids": [b]}]))
    assert arrive(db, services, scene, tag_ids=[product])[1].user_id == b
    _, both, _ = arrive(db, services, scene, tag_ids=[product, vip])
    assert both.user_id == a and both.reason == "规则「全部」按技能标签「VIP」分配给 张三"
    lead_id, untagged, row = arrive(db, services, scene)
    assert untagged.held and row is None
    assert untagged.reason == "规则「全部」：线索没有规则里的技能标签，没有可分配的人员，且没有可用的备用分配人"
    with db.read() as s:
        log = s.scalars(select(LeadLog).where(LeadLog.lead_id == lead_id)).one()
        assert (log.stage, log.ok, s.get(Lead, lead_id).status) == ("held", False, "NEW")


def test_value_tiers(db, services, staff):
    a, b, c, _ = staff
    scene = make_scene(db, one_rule(method="value", tiers=[
        {"min_value": 0, "user_ids": [a]}, {"min_value": 10000, "user_ids": [b]},
        {"min_value": "50000", "user_ids": [c]}]))
    assert arrive(db, services, scene, value=500)[1].user_id == a
    assert arrive(db, services, scene, value=10000)[1].user_id == b
    _, big, _ = arrive(db, services, scene, data={"value": 80000})
    assert big.user_id == c and big.reason == "规则「全部」按线索价值 80000 元（≥ 50000 元档）分配给 王五"


def test_cap_spills_to_the_next_person_then_to_backups_and_resets_next_day(db, services, clock, staff):
    a, b, c, d = staff
    scene = make_scene(db, {**one_rule(method="round_robin", user_ids=[a, b], cap_per_day=2), "backup_user_ids": [d]})
    with db.write() as s:  # a took two leads by hand today: they count towards the cap
        for _ in range(2):
            lead = Lead(scene_id=scene)
            s.add(lead)
            s.flush()
            assignment.manual_assign(s, lead.id, user_id=a, actor="admin", now=services.now())
    _, first, _ = arrive(db, services, scene)
    assert first.user_id == b and first.reason == "规则「全部」按轮询分配给 李四（跳过：张三 今日已达上限 2 条）"
    assert arrive(db, services, scene)[1].user_id == b
    _, spill, _ = arrive(db, services, scene)
    assert (spill.user_id, spill.method, spill.group_id, spill.rule_name) == (d, "backup", None, "全部")
    assert spill.reason == ("规则「全部」：分配人员都不可用（跳过：张三 今日已达上限 2 条、李四 今日已达上限 2 条），"
                            "由备用分配人 赵六 接收")
    clock.set(datetime(2026, 11, 20, 16, 0, tzinfo=UTC))  # 00:00 Saturday in Beijing: a new day
    assert assignees(db, services, scene, 2) == [a, b]


def test_working_hours_backup_or_hold(db, services, clock, staff):
    a, _, _, d = staff
    hours = {"enabled": True, "weekdays": [1, 2, 3, 4, 5], "start": "9:00", "end": "18:00"}
    backup = make_scene(db, {**one_rule(user_ids=[a]), "working_hours": hours, "backup_user_ids": [d]}, "白天")
    hold = make_scene(db, {**one_rule(user_ids=[a]), "working_hours": hours, "outside_hours": "hold"}, "暂存")
    assert arrive(db, services, backup)[1].user_id == a  # Friday 10:00
    clock.set(FRIDAY_EVENING)
    _, night, _ = arrive(db, services, backup)
    assert night.user_id == d and night.reason == "非工作时间（周一至周五 09:00–18:00），由备用分配人 赵六 接收"
    lead_id, held, row = arrive(db, services, hold)
    assert held.held and row is None and held.reason == "非工作时间（周一至周五 09:00–18:00），线索暂不分配，等待人工处理"
    with db.read() as s:
        assert s.get(Lead, lead_id).assignee_user_id is None
    clock.set(SATURDAY_MORNING)
    assert arrive(db, services, backup)[1].user_id == d


def test_night_shift_runs_past_midnight():
    shift = {"enabled": True, "weekdays": [5], "start": "22:00", "end": "06:00"}
    friday_23 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    saturday_05 = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)
    saturday_23 = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
    assert in_working_hours(shift, friday_23, TZ) and in_working_hours(shift, saturday_05, TZ)
    assert not in_working_hours(shift, saturday_23, TZ)
    assert in_working_hours({"enabled": False}, saturday_23, TZ)


def test_disabled_people_are_skipped(db, services, staff):
    a, b, c, _ = staff
    scene = make_scene(db, one_rule(user_ids=[a, b, c]))
    people.set_enabled(db, b, False)
    results = [arrive(db, services, scene)[1] for _ in range(3)]
    assert [d.user_id for d in results] == [a, c, a]
    assert results[1].reason == "规则「全部」按轮询分配给 王五（跳过：李四 已停用）"


def test_team_salespeople_are_the_candidates(db, services, staff):
    a, b, c, _ = staff
    with db.write() as s:
        team = groups.create_group(s, {"name": "销售一组", "members": [
            {"user_id": a, "role": "manager"}, {"user_id": b, "role": "sales"}, {"user_id": c, "role": "sales"}]}).id
    scene = make_scene(db, one_rule(group_id=team))
    results = [arrive(db, services, scene)[1] for _ in range(3)]
    assert [(d.user_id, d.group_id) for d in results] == [(b, team), (c, team), (b, team)]


def test_condition_rows_choose_the_rule(db, services, staff):
    a, b, _, _ = staff
    product_a = {"name": "产品A线索", "rows": [{"field": "product", "op": "eq", "value": "产品A"}], "user_ids": [a]}
    scene = make_scene(db, {"rules": [product_a, {"name": "大单", "user_ids": [b], "rows": [
        {"field": "value", "op": "gte", "value": "10000"}]}]})
    _, first, _ = arrive(db, services, scene, data={"product": "产品A", "value": 20000})
    assert (first.user_id, first.rule_name) == (a, "产品A线索")
    _, second, _ = arrive(db, services, scene, data={"product": "产品B", "value": "20000"})
    assert (second.user_id, second.rule_name) == (b, "大单")
    _, none, _ = arrive(db, services, scene, data={"product": "产品B", "value": 5})
    assert none.held and none.reason == "没有匹配的分配规则"


def test_no_rules_at_all_holds_the_lead(db, services, staff):
    scene = make_scene(db, {})
    _, decision, row = arrive(db, services, scene)
    assert decision.held and decision.reason == "没有匹配的分配规则" and row is None


def test_validation_names_the_rule(db, staff):
    a, b, c, _ = staff
    people.set_enabled(db, c, False)
    with db.write() as s:
        team = groups.create_group(s, {"name": "销售一组", "members": [{"user_id": a, "role": "sales"}]}).id
    bad = {"rules": [
        {"name": "产品A线索", "method": "round_robin", "user_ids": [a, 999]},
        {"name": "大单", "method": "weighted", "user_ids": [a, b], "weights": {str(a): 0}},
        {"name": "按金额", "method": "value", "tiers": [{"min_value": 5000, "user_ids": [a]},
                                                       {"min_value": 100, "user_ids": [b]}]},
        {"name": "停用", "user_ids": [c], "rows": [{"field": "nope", "op": "eq", "value": "x"}]},
        {"name": "团队", "group_id": team, "user_ids": [b]},
        {"name": "大单", "method": "teleport", "user_ids": [a]},
        {"name": "空", "method": "load"},
    ], "working_hours": {"enabled": True, "start": "25:00"}}
    with db.write() as s, pytest.raises(LeadsError) as caught:
        clean_assignment_rules(s, bad, lead_event_fields(LeadScene(name="x", key="x", scene_type="WEB_FORM")), TZ)
    errors = caught.value.errors
    assert caught.value.message.startswith("分配规则有误：规则「产品A线索」：用户 #999 不存在")
    assert errors["assignment_rules.rules[0].user_ids"] == "规则「产品A线索」：用户 #999 不存在"
    assert errors["assignment_rules.rules[1].weights"] == "规则「大单」：权重应为 1–100 的整数"
    assert errors["assignment_rules.rules[2].tiers[1].min_value"] == (
        "规则「按金额」：价值档位应按最低价值从小到大排列（第 2 档 100 不大于第 1 档 5000）")
    assert errors["assignment_rules.rules[3].rows"] == "规则「停用」：第 1 行：事件中没有字段「nope」"
    assert errors["assignment_rules.rules[3].user_ids"] == "规则「停用」：王五 已停用"
    assert errors["assignment_rules.rules[4].user_ids"] == "规则「团队」：李四 不是所选团队的成员"
    assert errors["assignment_rules.rules[5].name"] == "规则名称「大单」重复"
    assert errors["assignment_rules.rules[5].method"] == "规则「大单」：不认识的分配方式「teleport」"
    assert errors["assignment_rules.rules[6].user_ids"] == "规则「空」：请选择分配人员或团队"
    assert errors["assignment_rules.working_hours.start"] == "上班时间应为 时:分（如 09:00）"
    assert errors["assignment_rules.backup_user_ids"] == "非工作时间交给备用分配人时，请至少选择一位备用分配人"


def test_clean_normalises_a_good_configuration(db, staff):
    a, b, _, d = staff
    with db.write() as s:
        clean = clean_assignment_rules(s, {"rules": [{"name": " 全部 ", "user_ids": f"{a}，{b}", "cap_per_day": "5"}],
                                           "backup_user_ids": [d], "notify_assignee": "false"}, [], TZ)
    assert clean == {"rules": [{"name": "全部", "rows": [], "method": "round_robin", "user_ids": [a, b],
                                "group_id": None, "weights": {}, "regions": [], "skills": [], "tiers": [],
                                "cap_per_day": 5}],
                     "working_hours": {"enabled": False, "weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"},
                     "outside_hours": "backup", "backup_user_ids": [d], "notify_assignee": False}


def test_manual_assign_and_reassign_log_from_and_to(db, services, staff):
    a, b, c, _ = staff
    scene = make_scene(db, {"notify_assignee": False})
    with db.write() as s:
        team = groups.create_group(s, {"name": "销售一组", "members": [{"user_id": b, "role": "sales"},
                                                                     {"user_id": c, "role": "manager"}]}).id
        lead = Lead(scene_id=scene, status="PROCESSING", created_at=services.now())
        s.add(lead)
        s.flush()
        lead_id = lead.id
        first = assignment.manual_assign(s, lead_id, user_id=a, actor="admin", now=services.now())
        assert (first.from_user_id, first.to_user_id, first.reason, first.method) == (None, a, "手动分配给 张三", "manual")
        second = assignment.manual_assign(s, lead_id, user_id=str(b), group_id=team, actor="admin", now=services.now())
        assert (second.from_user_id, second.to_user_id, second.to_group_id) == (a, b, team)
        assert second.reason == "手动改派：张三 → 李四（团队「销售一组」）"
        assert s.get(Lead, lead_id).status == "PROCESSING"  # a later status is kept
        logs = s.scalars(select(LeadLog).where(LeadLog.lead_id == lead_id).order_by(LeadLog.id)).all()
        assert [(g.stage, g.detail["from_user_id"], g.detail["user_id"]) for g in logs] == [
            ("assigned", None, a), ("assigned", a, b)]
        assert s.scalar(select(func.count()).select_from(Notification)) == 0  # the scene turned them off
    with db.write() as s:
        problems = [
            (dict(lead_id=999999, user_id=a), LeadNotFound, "线索不存在"),
            (dict(lead_id=lead_id), LeadsError, "请选择要分配给的销售或团队"),
            (dict(lead_id=lead_id, user_id=424242), LeadsError, "所选销售不存在"),
            (dict(lead_id=lead_id, group_id=424242), LeadsError, "所选团队不存在"),
            (dict(lead_id=lead_id, user_id=a, group_id=team), LeadsError, "张三 不是团队「销售一组」的成员"),
            (dict(lead_id=lead_id, user_id=b, group_id=team), LeadsError, "线索已经分配给 李四（团队「销售一组」）"),
        ]
        for kwargs, error, message in problems:
            with pytest.raises(error) as caught:
                assignment.manual_assign(s, kwargs.pop("lead_id"), **kwargs, actor="admin", now=services.now())
            assert caught.value.message == message
    people.set_enabled(db, a, False)
    with db.write() as s, pytest.raises(LeadsError) as caught:
        assignment.manual_assign(s, lead_id, user_id=a, actor="admin", now=services.now())
    assert caught.value.message == "张三 已停用，不能分配线索"
    with db.write() as s:  # to the team only: its managers hear of it when the scene notifies
        s.get(LeadScene, scene).assignment_rules = {"notify_assignee": True}
        row = assignment.manual_assign(s, lead_id, group_id=team, actor="admin", now=services.now())
        assert (row.to_user_id, row.to_group_id, row.reason) == (None, team, "手动改派：李四（团队「销售一组」） → 团队「销售一组」")
        assert [n.user_id for n in s.scalars(select(Notification))] == [c]


def test_customer_without_owner_gets_the_assignee(db, services, staff):
    a, b, _, _ = staff
    with db.write() as s:
        team = groups.create_group(s, {"name": "销售一组", "members": [{"user_id": a, "role": "sales"}]}).id
        nobodys, teams, owned = (create_customer(s, {"name": n}).id for n in ("无主", "团队", "有主"))
        s.get(Customer, owned).owner_id = b
    plain = make_scene(db, one_rule(user_ids=[a]), "个人")
    grouped = make_scene(db, one_rule(group_id=team), "团队")
    arrive(db, services, plain, customer_id=nobodys)
    arrive(db, services, grouped, customer_id=teams)
    arrive(db, services, plain, customer_id=owned)
    owners = dict(rows(db, select(Customer.id, Customer.owner_id)))
    assert (owners[nobodys], owners[teams], owners[owned]) == (a, a, b)
    links = rows(db, select(GroupLink.customer_id, GroupLink.group_id, GroupLink.assignee_id))
    assert links == [(teams, team, a)]  # the team's lead put the customer into the team, assigned


def test_workers_share_one_rotation(db, services, staff):
    """Two threads (each its own write transactions) assign 40 leads: still exactly 20/20."""
    a, b, _, _ = staff
    scene = make_scene(db, one_rule(user_ids=[a, b]))
    failures = []

    def worker():
        try:
            for _ in range(20):
                arrive(db, services, scene)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures
    counts = dict(rows(db, select(LeadAssignment.to_user_id, func.count()).group_by(LeadAssignment.to_user_id)))
    assert counts == {a: 20, b: 20}


def test_a_returning_customers_lead_stays_with_their_owner(db, services, staff):
    """Round robin would give the second lead to 李四; the customer's owner 张三 keeps it."""
    a, b, _, _ = staff
    with db.write() as s:
        returning = create_customer(s, {"name": "老客户"}).id
        s.get(Customer, returning).owner_id = a
    scene = make_scene(db, one_rule(method="round_robin", user_ids=[a, b]))
    assert arrive(db, services, scene)[1].user_id == a
    _, kept, _ = arrive(db, services, scene, customer_id=returning)
    assert (kept.user_id, kept.method) == (a, "owner") and "沿用负责人 张三" in kept.reason
    assert arrive(db, services, scene)[1].user_id == b  # the rotation did not move for the kept lead
    people.set_enabled(db, a, False)
    _, rotated, _ = arrive(db, services, scene, customer_id=returning)
    assert rotated.method == "round_robin"  # a disabled owner does not hold the lead
