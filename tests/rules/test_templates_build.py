"""Every workbench template builds an ordinary strategy that passes the same validation as a
strategy written by hand in 自动化策略管理."""
from __future__ import annotations

import pytest

from engine.authoring import validate
from events.definitions import get_by_code, import_builtin
from handlers.registry import default_registry
from rules.groups import create_group
from rules.templates import TEMPLATES, BuildContext, TemplateError, get_template
from rules.templates.base import daily_crons

CONTEXT = BuildContext(timezone="Asia/Shanghai", schedule_key="wb-test-1")

ANSWERS = {
    "auto_like": {"name": "点赞", "account_ids": [1, 2], "scope": "tags", "friend_tags": "意向,VIP",
                  "comment": True, "comment_texts": "赞！\n不错"},
    "moment_sync": {"name": "同步", "content_ids": [3, 4], "account_ids": [1], "timing": "sop",
                    "visibility": "include", "visibility_tags": ["VIP"]},
    "traffic_split": {"name": "分发", "source": "new_friend", "targets": [{"id": 1, "weight": 2}, {"id": 2, "weight": 1}],
                      "welcome_text": "你好 ${nickname}", "tags": "课程"},
    "auto_group": {"name": "建群", "account_id": 1, "name_pattern": "VIP{n}群", "member_tags": "VIP",
                   "repeat": "once", "run_at": "2030-01-01 10:00", "announcement": "群规", "welcome_text": "欢迎"},
    "group_push": {"name": "推送", "group_ids": [1, 2], "text": "今晚8点直播", "repeat": "weekly", "times": "10:00,15:00",
                   "weekdays": [1, 3], "retries": 1},
    "group_welcome": {"name": "欢迎", "group_ids": [5], "text": "欢迎 {members}", "window_seconds": 20},
    "keyword_reply": {"name": "回复", "scope": "group", "rules": [{"match": "contains", "keyword": "价格", "reply": "请看"},
                                                                 {"match": "exact", "keyword": "地址", "reply": "在这"}]},
    "reminder": {"name": "提醒", "group_ids": [1], "text": "该打卡了", "repeat": "daily", "times": ["08:30"]},
    "checkin": {"name": "打卡", "group_ids": [1], "keyword": "打卡"},
}


@pytest.fixture
def checker(services, db):
    registry = default_registry(services)
    with db.write() as s:
        import_builtin(s)
        group = create_group(s, "工作台")
        group_id = group.id

    def check(built: dict) -> dict:
        with db.read() as s:
            event = get_by_code(s, built["event_code"])
            return validate(s, {"name": built["name"], "group_id": group_id, "event_id": event.id,
                                "conditions": built["conditions"], "steps": built["steps"]}, registry, "Asia/Shanghai")
    return check


@pytest.mark.parametrize("key", sorted(TEMPLATES))
def test_each_template_builds_a_valid_strategy(key, checker):
    assert set(ANSWERS) == set(TEMPLATES)
    built = get_template(key).build(dict(ANSWERS[key]), CONTEXT)
    clean = checker(built)
    assert clean["steps"] and clean["name"] == ANSWERS[key]["name"]
    if get_template(key).scheduled:
        assert built["schedule"], "a scheduled feature must say when it fires"
        assert built["conditions"] == [{"lparen": 0, "field": "schedule_key", "op": "eq", "value": "wb-test-1",
                                        "rparen": 0, "join": "and"}]


def test_wrong_answers_are_named_per_input():
    with pytest.raises(TemplateError) as err:
        get_template("group_push").build({"name": "", "group_ids": [], "repeat": "weekly", "times": "25:00",
                                          "interval_seconds": 1}, CONTEXT)
    assert {"name", "group_ids", "text", "times", "weekdays", "interval_seconds"} <= set(err.value.errors)
    with pytest.raises(TemplateError) as err:
        get_template("keyword_reply").build({"name": "x", "rules": [{"match": "regex", "keyword": "([", "reply": "r"}]}, CONTEXT)
    assert "正则表达式有误" in err.value.errors["rules"]


def test_sop_slots_and_weekday_names():
    assert daily_crons(["08:00", "12:00", "15:00", "18:00", "21:00"]) == [{"cron": "0 8,12,15,18,21 * * *"}]
    assert daily_crons(["10:00", "15:30"], [1, 7]) == [{"cron": "0 10 * * mon,sun"}, {"cron": "30 15 * * mon,sun"}]


def test_keyword_rules_become_bracketed_or_rows_and_regex_is_left_to_the_step():
    built = get_template("keyword_reply").build(dict(ANSWERS["keyword_reply"]), CONTEXT)
    rows = built["conditions"]
    assert rows[0] == {"lparen": 0, "field": "is_group", "op": "eq", "value": True, "rparen": 0, "join": "and"}
    assert [(r["lparen"], r["op"], r["join"], r["rparen"]) for r in rows[1:]] == [(1, "contains", "or", 0), (0, "eq", "and", 1)]
    regex = get_template("keyword_reply").build({"name": "x", "rules": [{"match": "regex", "keyword": "价格|多少钱", "reply": "r"}]}, CONTEXT)
    assert all(r["field"] != "text" for r in regex["conditions"])


def test_welcome_step_waits_for_the_window():
    built = get_template("group_welcome").build(dict(ANSWERS["group_welcome"]), CONTEXT)
    assert built["steps"][0]["timing"] == {"mode": "delay", "hours": 0, "minutes": round(20 / 60, 4)}
    assert built["conditions"][0]["field"] == "group_id"


def test_customer_traffic_uses_crm_follow_ups():
    built = get_template("traffic_split").build({"name": "线索", "source": "customer", "customer_sources": "抖音,导入",
                                                 "target_kind": "staff", "targets": [{"id": 3}], "tags": "新线索",
                                                 "task_title": "24小时内首次跟进"}, CONTEXT)
    assert built["event_code"] == "crm.customer_created"
    assert [s["processor"] for s in built["steps"]] == ["device.distribute", "crm.add_tag", "crm.create_task"]
    # 客户来源: one OR group of "contains" (a source named 抖音直播间 matches 「抖音」)
    assert [(c["op"], c["value"], c["join"]) for c in built["conditions"]] == [("contains", "抖音", "or"),
                                                                              ("contains", "导入", "or")]
