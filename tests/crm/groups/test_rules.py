"""客户分组规则: the seed's "可投资资产 > 500万 → VIP客户组", sources, break_old, SQL audiences,
order, and the recycle bin staying out."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.customers.models import CustomField
from crm.errors import CrmError
from crm.groups import membership, rules
from crm.groups.models import CrmLog, GroupLink

VIP_RULE = {"mode": "conditions", "rows": [{"field": "assets", "op": "gt", "value": 5000000}]}


@pytest.fixture
def assets_field(world):
    world.write(lambda s: s.add(CustomField(key="assets", label="可投资资产", type="number")))


def _members(world, group_id):
    return sorted(c for (c,) in world.rows(select(GroupLink.customer_id).where(GroupLink.group_id == group_id)))


def test_seed_vip_group_rule(world, services, assets_field):
    vip = world.group("VIP客户组")
    rich = world.customers(3, attrs=lambda i: {"assets": 6_000_000 + i})
    poor = world.customers(2, attrs={"assets": 5_000_000})
    recycled = world.customers(1, attrs={"assets": 9_000_000}, status="recycled")
    rule = world.write(lambda s: rules.create_rule(s, {"name": "可投资资产500万以上为vip客户", "source": "company_pool",
                                                       "target_group_id": vip, "rule": VIP_RULE}))
    summary = rules.run_group_rules(services.db, now=services.now())
    assert summary == {"rules": 1, "moved": 3, "details": [{"rule": rule.name, "moved": 3}]}
    assert _members(world, vip) == rich
    assert not set(poor + recycled) & set(_members(world, vip))
    logs = world.rows(select(CrmLog.customer_id, CrmLog.rule_name, CrmLog.group_id).where(CrmLog.kind == "group"))
    assert sorted(logs) == [(c, rule.name, vip) for c in rich]
    # A second run finds nobody new in the company pool.
    assert rules.run_group_rules(services.db, now=services.now())["moved"] == 0


def test_source_group_with_break_old_and_sql_mode(world, services, assets_field):
    a = world.user("a")
    old, new = world.group("旧组", sales=[a]), world.group("新组")
    ids = world.customers(4, attrs=lambda i: {"assets": i})
    world.write(lambda s: membership.assign(s, ids[:3], old, a, None))
    world.write(lambda s: rules.create_rule(s, {
        "name": "迁移", "source": "group", "source_group_id": old, "target_group_id": new, "break_old": "1",
        "rule": {"mode": "sql", "sql": f"SELECT id FROM customer WHERE id IN ({ids[0]}, {ids[1]}, {ids[3]})"}}))
    assert rules.run_group_rules(services.db, now=services.now())["moved"] == 2
    assert _members(world, new) == ids[:2]
    assert _members(world, old) == [ids[2]]
    deletes = world.rows(select(CrmLog.kind, CrmLog.customer_id).where(CrmLog.action == "delete"))
    assert sorted(deletes) == sorted([("allocation", ids[0]), ("allocation", ids[1]), ("group", ids[0]),
                                      ("group", ids[1])])


def test_rules_run_in_order_and_target_pool(world, services, assets_field):
    g1, g2 = world.group("一组"), world.group("二组")
    ids = world.customers(2, attrs={"assets": 10})
    everyone = {"mode": "conditions", "rows": [{"field": "assets", "op": "gt", "value": 1}]}
    r2 = world.write(lambda s: rules.create_rule(s, {"name": "到二组", "source": "company_pool",
                                                     "target_group_id": g2, "rule": everyone}))
    r1 = world.write(lambda s: rules.create_rule(s, {"name": "到一组", "source": "company_pool",
                                                     "target_group_id": g1, "rule": everyone}))
    world.write(lambda s: rules.reorder_rules(s, [r1.id, r2.id]))
    out = rules.run_group_rules(services.db, now=services.now())
    assert [d["moved"] for d in out["details"]] == [2, 0]  # the first rule took them out of the pool
    assert _members(world, g1) == ids and _members(world, g2) == []
    world.write(lambda s: rules.create_rule(s, {"name": "回公海", "source": "group", "source_group_id": g1,
                                                "target_group_id": "", "rule": everyone}))
    world.write(lambda s: rules.set_enabled(s, r1.id, False))
    world.write(lambda s: rules.set_enabled(s, r2.id, False))
    assert rules.run_group_rules(services.db, now=services.now())["moved"] == 2
    assert _members(world, g1) == []


def test_rule_validation_messages(world, assets_field):
    g = world.group("一组")
    with pytest.raises(CrmError) as err:
        world.write(lambda s: rules.create_rule(s, {"name": "", "source": "group", "target_group_id": g,
                                                    "rule": {"mode": "conditions", "rows": [
                                                        {"field": "nope", "op": "gt", "value": 1}]}}))
    errors = err.value.errors
    assert errors["name"] == "请填写规则名称"
    assert errors["source_group_id"] == "请选择来源分组"
    assert "nope" in errors["rows"]
    with pytest.raises(CrmError) as err:
        world.write(lambda s: rules.create_rule(s, {"name": "x", "source": "company_pool", "rule": VIP_RULE}))
    assert err.value.errors == {"target_group_id": "来源是公海客户时，请选择一个目标分组"}
