"""Category tree, tag form validation, rule validation and the custom-SQL sandbox's refusals."""
from __future__ import annotations

import pytest

from crm.errors import CrmError
from crm.tags import categories, schedule, service
from tests.crm.tags.conftest import tag


def test_category_tree_order_move_and_guarded_delete(services):
    with services.db.write() as s:
        root = categories.create_category(s, {"name": "客户标签"})
        basic = categories.create_category(s, {"name": "用户基本信息", "parent_id": root.id, "position": 2})
        hobby = categories.create_category(s, {"name": "外部标签", "parent_id": root.id, "position": 1})
        child = categories.create_category(s, {"name": "兴趣爱好", "parent_id": hobby.id})
        tree = categories.tree(s)
        assert [n["name"] for n in tree[0]["children"]] == ["外部标签", "用户基本信息"]
        assert sorted(categories.descendant_ids(s, root.id)) == sorted([root.id, basic.id, hobby.id, child.id])
        with pytest.raises(CrmError) as exc:
            categories.move_category(s, hobby.id, child.id, 0)
        assert "下级" in exc.value.errors["parent_id"]
        with pytest.raises(CrmError) as exc:
            categories.create_category(s, {"name": "外部标签", "parent_id": root.id})
        assert "已有分类" in exc.value.errors["name"]
        categories.move_category(s, child.id, basic.id, 0)
        service.create_tag(s, {"name": "户外运动爱好者", "kind": "manual", "category_id": child.id}, None)
        with pytest.raises(CrmError, match="下级分类"):
            categories.delete_category(s, basic.id)
        with pytest.raises(CrmError, match="1 个标签"):
            categories.delete_category(s, child.id)
        categories.delete_category(s, hobby.id)
        assert [n["name"] for n in categories.flatten(categories.tree(s))] == ["客户标签", "用户基本信息", "兴趣爱好"]


def test_tag_form_checks(services, category):
    with services.db.write() as s:
        service.create_tag(s, {"name": "靠谱", "kind": "manual", "category_id": category}, None)
        with pytest.raises(CrmError) as exc:
            service.create_tag(s, {"name": "靠谱", "kind": "weird", "category_id": category,
                                   "validity_days": "0", "score": "x"}, None)
        assert set(exc.value.errors) == {"kind", "validity_days", "score"}
        with pytest.raises(CrmError) as exc:
            service.create_tag(s, {"name": "靠谱", "kind": "manual", "category_id": category}, None)
        assert exc.value.errors == {"name": "该分类下已有标签「靠谱」"}
        manual = service.create_tag(s, {"name": "户外", "kind": "manual", "category_id": category}, None)
        with pytest.raises(CrmError, match="只能为自动标签配置规则"):
            service.save_rule(s, manual.id, {"mode": "sql", "sql": "SELECT id FROM customer"}, None)
        with pytest.raises(CrmError) as exc:
            service.update_tag(s, manual.id, {"name": "户外", "kind": "personal", "category_id": category}, None)
        assert "互相转换" in exc.value.errors["kind"]


def test_rule_validation_messages(services, make_tag, assets_field):
    auto = make_tag("自动")
    with services.db.write() as s:
        with pytest.raises(CrmError) as exc:
            service.save_rule(s, auto, {"mode": "conditions", "rows": []}, None)
        assert "不能同时为空" in exc.value.errors["rows"]
        with pytest.raises(CrmError) as exc:
            service.save_rule(s, auto, {"mode": "conditions", "rows": [
                {"field": "investable_assets", "op": "gt", "value": "很多"}]}, None)
        assert "可投资资产" in exc.value.errors["rows"]
        with pytest.raises(CrmError):
            service.save_rule(s, auto, {"mode": "conditions", "include_tags": [9999]}, None)


@pytest.mark.parametrize("sql, reason", [
    ("UPDATE customer SET tag_score = 0", "只允许"),
    ("SELECT id FROM customer; DELETE FROM customer", "一条"),
    ("SELECT id FROM customer WHERE 1 = 1; ATTACH DATABASE 'x.db' AS x", "一条"),
    ("ATTACH DATABASE '/tmp/x.db' AS x", "只允许"),
    ("PRAGMA table_info(customer)", "只允许"),
    ("SELECT name FROM customer", "整数客户 ID"),
    ("SELECT id, name FROM customer", "一列"),
    ("SELECT id FROM user_account", "不允许读取表"),
    ("SELECT id FROM customer WHERE nonsense(", "SQL 有误"),
])
def test_custom_sql_refusals_are_explained_in_chinese(services, make_customers, sql, reason):
    make_customers({"name": "张三"})
    with pytest.raises(CrmError) as exc:
        service.preview_rule(services.db, {"mode": "sql", "sql": sql})
    assert reason in " ".join([exc.value.message, *map(str, exc.value.errors.values())])


def test_cron_specs_and_configurable_time(services):
    keys = [(k, n, c) for k, n, c, _ in schedule.CRON_SPECS]
    assert keys == [("auto_tag", "自动打标签", {"hour": 5, "minute": 30}),
                    ("tag_expiry", "标签过期清理", {"hour": 0, "minute": 0})]

    class Custom:
        autotag_cron = "04:15"

    assert schedule.autotag_time(Custom()) == {"hour": 4, "minute": 15}
    assert schedule.autotag_time(object()) == {"hour": 5, "minute": 30}
    assert schedule.CRON_SPECS[0][3](services).startswith("自动打标签：运行 0 个标签")
    assert schedule.CRON_SPECS[1][3](services) == "标签过期清理：移除 0 条到期标签"


def test_autotag_job_reports_progress(services, make_tag, make_customers, assets_field):
    from crm.jobs.runner import JobRunner, job_status
    from crm.tags import jobs

    make_customers({"attrs": {"investable_assets": 200_000}})
    a = make_tag("甲", rule={"mode": "conditions", "rows": [{"field": "investable_assets", "op": "gt", "value": 1}]})
    job = jobs.submit_autotag(services.db, [a], None, "Asia/Shanghai")
    assert JobRunner(services).run_pending() == 1
    status = job_status(services.db, job.id)
    assert status["status"] == "done" and status["done"] == 1 and status["percent"] == 100
    assert "新增 1 条" in status["message"]
    assert tag(services, a).last_run_count == 1
