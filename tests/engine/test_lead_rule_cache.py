"""Compiled tag and assignment rules are kept between leads (crm.leads.rule_cache), and an
edited scene is never matched with its old rules: the next lead uses what was saved."""
from __future__ import annotations

from itertools import count
from types import SimpleNamespace

from crm.leads import rule_cache
from crm.leads.intake import Submission, submit
from crm.leads.models import Lead
from engine.lead_scenes import save_scene
from tests.engine.conftest import row
from tests.engine.test_lead_pipeline import _scene, _tags, _users


_PHONES = count(1)


def _one(runtime, scene_id, message):
    svc = runtime.services
    [accepted] = submit(svc.db, scene_id, [Submission(raw={"submission_data": {
        "name": message, "phone": f"1380000{next(_PHONES):04d}", "message": message}})])
    runtime.tick()
    with svc.db.read() as s:
        lead = s.get(Lead, accepted.lead_id)
    return lead.tag_ids, lead.assignee_user_id


def test_an_edited_scene_tags_and_assigns_the_next_lead_by_its_new_rules(runtime):
    svc = runtime.services
    rule_cache.clear()
    alice, bob = _users(svc, "alice", "bob")
    vip, price = _tags(svc, "VIP意向", "价格咨询")
    scene_id = _scene(runtime, {
        "name": "缓存表单", "scene_type": "WEB_FORM",
        "tagging_rules": [{"name": "VIP", "rows": [row("message", "contains", "VIP")], "tags": [vip]}],
        "assignment_rules": {"rules": [
            {"name": "VIP线", "rows": [row("message", "contains", "VIP")], "method": "round_robin", "user_ids": [bob]},
            {"name": "其他", "rows": [], "method": "round_robin", "user_ids": [alice]}]}})
    assert _one(runtime, scene_id, "VIP 一号") == ([vip], bob)
    assert _one(runtime, scene_id, "VIP 二号") == ([vip], bob)  # from the cache
    assert rule_cache.size() == 2  # the scene's tag rules and its assignment rules
    with svc.db.write() as s:
        save_scene(s, {"tagging_rules": [{"name": "价格", "rows": [row("message", "contains", "价格")], "tags": [price]}],
                       "assignment_rules": {"rules": [
                           {"name": "价格线", "rows": [row("message", "contains", "价格")], "method": "round_robin",
                            "user_ids": [alice]},
                           {"name": "其他", "rows": [], "method": "round_robin", "user_ids": [bob]}]}},
                   registry=runtime.registry, box=svc.secret_box, author="运营", scene_id=scene_id)
    assert _one(runtime, scene_id, "VIP 三号") == ([], bob)
    assert _one(runtime, scene_id, "问价格") == ([price], alice)


def _scene_stub(rules, version=1, mapping=None):
    return SimpleNamespace(id=1, version=version, mapping_rules=mapping or [], tagging_rules=rules)


def test_rows_changed_without_a_version_bump_are_compiled_again():
    rule_cache.clear()
    before = [{"name": "甲", "rows": [row("message", "contains", "甲")]}]
    after = [{"name": "甲", "rows": [row("message", "contains", "乙")]}]
    old = rule_cache.compiled(_scene_stub(before), "tagging", before).predicate(0)
    new = rule_cache.compiled(_scene_stub(after), "tagging", after).predicate(0)
    assert old({"message": "甲"}, None) and not new({"message": "甲"}, None) and new({"message": "乙"}, None)
    again = rule_cache.compiled(_scene_stub(before), "tagging", before)
    assert again.predicate(0) is old


def test_rows_that_do_not_parse_fail_every_time_and_the_cache_is_bounded():
    import pytest

    from rules.conditions import ConditionError

    rule_cache.clear()
    broken = [{"name": "坏", "rows": [row("no_such_field", "eq", "x")]}]
    for _ in range(2):
        with pytest.raises(ConditionError):
            rule_cache.compiled(_scene_stub(broken), "assignment", broken, "Asia/Shanghai").predicate(0)
    for version in range(rule_cache.MAX_ENTRIES + 20):
        rule_cache.compiled(_scene_stub(broken, version=version), "tagging", broken)
    assert rule_cache.size() == rule_cache.MAX_ENTRIES
