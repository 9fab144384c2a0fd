"""/api/v1/strategy-groups, /api/v1/strategies (CRUD, enable/disable, reorder, test, backtest,
versions, rollback) and /api/v1/bundles."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g

from engine import authoring, bundles, dryrun, lifecycle
from events.field_types import FieldValueError, parse_datetime
from rules import groups as group_service
from rules import versions as version_service
from rules.templates.families import hidden_templates
from web.api import serializers as ser
from web.api.common import BadRequest, bool_field, ids_arg, int_arg, json_body, masked, ok, str_field, write_and_reload
from web.api.examples import strategies as ex
from web.api.spec import ANY_OBJ, BOOL, DELETED, IDS, INT, INT_LIST, NSTR, NUM, OBJ_LIST, STR, api_route, items_of, obj
from web.auth.guards import api_auth
from web.auth.strategy_access import lacking_to_manage, require_strategies, strategy_guard
from web.extensions import runtime, services

bp = Blueprint("api_strategies", __name__, url_prefix="/api/v1")
ROW = obj({"lparen": INT, "field": STR, "op": STR, "value": {}, "rparen": INT, "join": {"enum": ["and", "or"]}})
STEP = obj({"processor": STR, "config": ANY_OBJ, "timing": obj({"mode": {"enum": ["immediate", "delay", "until"]},
                                                                "hours": {"type": "number"}, "minutes": {"type": "number"},
                                                                "at": STR})}, ("processor",))
STRATEGY = obj({"name": STR, "group_id": INT, "event_id": INT, "starts_at": STR, "ends_at": STR, "remark": STR,
                "conditions": {"type": "array", "items": ROW}, "steps": {"type": "array", "items": STEP}},
               ("name", "group_id", "event_id", "steps"))


def _user() -> str:
    return g.user.username if g.get("user") is not None else ""
GROUP_OUT = obj({"id": INT, "name": STR, "position": INT}, ("id", "name"))
STRATEGY_OUT = obj({"id": INT, "name": STR, "group_id": INT, "event_id": INT, "enabled": BOOL, "position": INT,
                    "starts_at": NSTR, "ends_at": NSTR, "conditions": {}, "steps": {}, "remark": NSTR, "version": INT,
                    "created_by": NSTR, "created_at": NSTR, "updated_at": NSTR}, ("id", "name", "enabled", "version"))
VERSION_OUT = obj({"version": INT, "changed_by": NSTR, "changed_at": NSTR, "summary": NSTR, "snapshot": {}}, ("version",))


@api_route(bp, "/strategy-groups", "GET", "策略组列表", "自动化策略", permission="strategies.view",
           operation_id="listStrategyGroups",
           responses={"200": items_of(GROUP_OUT)},
           examples=ex.LIST_STRATEGY_GROUPS)
@api_auth("strategies.view")
def list_groups():
    with services().db.read() as s:
        return ok({"items": [ser.group(x) for x in group_service.list_groups(s)]})


@api_route(bp, "/strategy-groups", "POST", "添加策略组", "自动化策略", body=obj({"name": STR}, ("name",)),
           permission="strategies.manage",
           operation_id="createStrategyGroup", responses={"201": GROUP_OUT}, examples=ex.CREATE_STRATEGY_GROUP)
@api_auth("strategies.manage")
def create_group():
    name = str_field(json_body(), "name", "策略组名称")
    return ok(ser.group(write_and_reload(lambda s: group_service.create_group(s, name))), 201)


@api_route(bp, "/strategy-groups/<int:group_id>", "PUT", "重命名策略组", "自动化策略", body=obj({"name": STR}, ("name",)),
           permission="strategies.manage",
           operation_id="renameStrategyGroup", responses={"200": GROUP_OUT}, examples=ex.RENAME_STRATEGY_GROUP)
@api_auth("strategies.manage")
def rename_group(group_id):
    name = str_field(json_body(), "name", "策略组名称")
    return ok(ser.group(write_and_reload(lambda s: group_service.rename_group(s, group_id, name))))


@api_route(bp, "/strategy-groups/<int:group_id>", "DELETE", "删除策略组", "自动化策略", permission="strategies.manage",
           operation_id="deleteStrategyGroup", responses={"200": DELETED}, examples=ex.DELETE_STRATEGY_GROUP)
@api_auth("strategies.manage")
def delete_group(group_id):
    write_and_reload(lambda s: group_service.delete_group(s, group_id))
    return ok({"deleted": group_id})


@api_route(bp, "/strategy-groups/reorder", "POST", "策略组排序", "自动化策略", body=IDS, permission="strategies.manage",
           operation_id="reorderStrategyGroups",
           responses={"200": obj({"order": INT_LIST})},
           examples=ex.REORDER_STRATEGY_GROUPS)
@api_auth("strategies.manage")
def reorder_groups():
    ids = ids_arg(json_body())
    write_and_reload(lambda s: group_service.reorder_groups(s, ids))
    return ok({"order": ids})


@api_route(bp, "/strategies", "GET", "策略列表", "自动化策略", query=[("group_id", "integer", "策略组")],
           permission="strategies.view",
           operation_id="listStrategies", responses={"200": items_of(STRATEGY_OUT)}, examples=ex.LIST_STRATEGIES)
@api_auth("strategies.view")
def list_strategies():
    group_id = int_arg("group_id")
    with services().db.read() as s:
        return ok({"items": [ser.strategy(x) for x in lifecycle.list_strategies(
            s, group_id, hidden_templates=hidden_templates(g.permissions))]})


@api_route(bp, "/strategies", "POST", "添加策略（默认禁用）", "自动化策略", body=STRATEGY, permission="strategies.manage",
           operation_id="createStrategy", responses={"201": STRATEGY_OUT}, examples=ex.CREATE_STRATEGY)
@api_auth("strategies.manage")
def create_strategy():
    data, rt = strategy_body(json_body()), runtime()
    return ok(ser.strategy(write_and_reload(lambda s: authoring.create_strategy(s, data, rt.registry, rt.settings.timezone, _user()))), 201)


@api_route(bp, "/strategies/<int:strategy_id>", "GET", "策略详情", "自动化策略", permission="strategies.view",
           operation_id="getStrategy", responses={"200": STRATEGY_OUT}, examples=ex.GET_STRATEGY)
@api_auth("strategies.view")
@strategy_guard("view")
def get_strategy(strategy_id):
    with services().db.read() as s:
        return ok(ser.strategy(authoring.get_strategy(s, strategy_id)))


@api_route(bp, "/strategies/<int:strategy_id>", "PUT", "修改策略（生成新版本）", "自动化策略", body=STRATEGY,
           permission="strategies.manage",
           operation_id="updateStrategy", responses={"200": STRATEGY_OUT}, examples=ex.UPDATE_STRATEGY)
@api_auth("strategies.manage")
@strategy_guard("manage")
def update_strategy(strategy_id):
    data, rt = strategy_body(json_body()), runtime()
    return ok(ser.strategy(write_and_reload(lambda s: authoring.update_strategy(s, strategy_id, data, rt.registry, rt.settings.timezone, _user()))))


@api_route(bp, "/strategies/<int:strategy_id>", "DELETE", "删除策略（取消其待执行任务）", "自动化策略",
           permission="strategies.manage",
           operation_id="deleteStrategy",
           responses={"200": obj({"deleted": INT, "cancelled_tasks": INT})},
           examples=ex.DELETE_STRATEGY)
@api_auth("strategies.manage")
@strategy_guard("manage")
def delete_strategy(strategy_id):
    cancelled = write_and_reload(lambda s: lifecycle.delete_strategy(s, strategy_id))
    return ok({"deleted": strategy_id, "cancelled_tasks": cancelled})


@api_route(bp, "/strategies/enable", "POST", "启用或禁用策略（禁用会取消待执行任务）", "自动化策略",
           body=obj({"ids": INT_LIST, "enabled": BOOL}, ("ids", "enabled")), permission="strategies.manage",
           operation_id="enableStrategies",
           responses={"200": obj({"changed": INT, "cancelled_tasks": INT})},
           examples=ex.ENABLE_STRATEGIES)
@api_auth("strategies.manage")
def enable_strategies():
    data = json_body()
    ids, enabled = ids_arg(data), bool_field(data, "enabled")
    require_strategies(ids, "manage")
    return ok(write_and_reload(lambda s: lifecycle.set_enabled(s, ids, enabled)))


@api_route(bp, "/strategies/pending-count", "POST", "待执行任务数（禁用前确认）", "自动化策略", body=IDS,
           permission="strategies.view",
           operation_id="countPendingTasks",
           responses={"200": obj({"pending": INT})},
           examples=ex.COUNT_PENDING_TASKS)
@api_auth("strategies.view")
def pending_count():
    ids = ids_arg(json_body())
    with services().db.read() as s:
        return ok({"pending": lifecycle.pending_task_count(s, ids)})


@api_route(bp, "/strategies/reorder", "POST", "策略排序（组内拖动）", "自动化策略",
           body=obj({"group_id": INT, "ids": INT_LIST}, ("group_id", "ids")), permission="strategies.manage",
           operation_id="reorderStrategies",
           responses={"200": obj({"order": INT_LIST})},
           examples=ex.REORDER_STRATEGIES)
@api_auth("strategies.manage")
def reorder_strategies():
    data = json_body()
    ids, group_id = ids_arg(data), data.get("group_id")
    if not isinstance(group_id, int) or isinstance(group_id, bool):
        raise BadRequest("group_id 应为整数", {"group_id": "group_id 应为整数"})
    write_and_reload(lambda s: lifecycle.reorder_strategies(s, group_id, ids))
    return ok({"order": ids})


@api_route(bp, "/strategies/test", "POST", "试运行（不产生任何副作用）", "自动化策略",
           body=obj({"strategy": STRATEGY, "strategy_id": INT, "sample": ANY_OBJ}, ("sample",)), permission="strategies.test",
           operation_id="testStrategy",
           responses={"200": obj({"valid": BOOL, "matched": BOOL, "trace": OBJ_LIST, "steps": OBJ_LIST, "data": ANY_OBJ, "errors": OBJ_LIST}, ("valid",))},
           examples=ex.TEST_STRATEGY)
@api_auth("strategies.test")
def test_strategy():
    data, rt = json_body(), runtime()
    if not isinstance(data.get("sample"), dict):
        raise BadRequest("sample 应为 JSON 对象（事件数据）", {"sample": "sample 应为 JSON 对象（事件数据）"})
    require_strategies([data.get("strategy_id")], "view")
    with services().db.read() as s:
        strategy = _strategy_input(s, data)
        return ok(dryrun.dry_run(s, strategy, data["sample"], rt.registry, rt.services))


@api_route(bp, "/strategies/backtest", "POST", "回测：统计一段时间内的已存事件会匹配多少", "自动化策略",
           body=obj({"strategy": STRATEGY, "strategy_id": INT, "since": STR, "until": STR}), permission="strategies.test",
           operation_id="backtestStrategy",
           responses={"200": obj({"total": INT, "matched": INT, "ratio": NUM, "examples": OBJ_LIST, "truncated": BOOL})},
           examples=ex.BACKTEST_STRATEGY)
@api_auth("strategies.test")
def backtest_strategy():
    data, rt = json_body(), runtime()
    tz, now = rt.settings.timezone, rt.services.now()
    require_strategies([data.get("strategy_id")], "view")
    try:
        since = parse_datetime(data["since"], tz) if data.get("since") else now - timedelta(days=7)
        until = parse_datetime(data["until"], tz) if data.get("until") else now
    except FieldValueError as exc:
        raise BadRequest(f"时间范围无效：{exc}") from None
    with services().db.read() as s:
        result = dryrun.backtest(s, _strategy_input(s, data), since, until, tz, now)
    return ok({**result, "examples": masked(result["examples"])})  # stored customer data


def strategy_body(data: dict) -> dict:
    """Shapes the services assume (each step's timing is an object); the services check the rest."""
    errors = {}
    for i, step in enumerate(data.get("steps") if isinstance(data.get("steps"), list) else []):
        if isinstance(step, dict) and step.get("timing") is not None and not isinstance(step["timing"], dict):
            errors[f"steps[{i}].timing"] = f"第 {i + 1} 步：执行时间应为对象，如 {{\"mode\": \"delay\", \"hours\": 2}}"
    if errors:
        raise BadRequest("策略配置有误，请按提示修改", errors, status=422, code="invalid")
    return data


def _strategy_input(session, data: dict) -> dict:
    if data.get("strategy_id") is not None:
        if not isinstance(data["strategy_id"], int) or isinstance(data["strategy_id"], bool):
            raise BadRequest("strategy_id 应为整数", {"strategy_id": "strategy_id 应为整数"})
        return ser.strategy(authoring.get_strategy(session, data["strategy_id"]))
    if isinstance(data.get("strategy"), dict):  # unsaved: the planner assumes what a save would check
        strategy, errors = strategy_body(data["strategy"]), {}
        steps = strategy.get("steps") or []
        if not isinstance(steps, list) or not all(isinstance(step, dict) for step in steps):
            errors["steps"] = "steps 应为执行操作（对象）的数组"
        if not isinstance(strategy.get("event_id"), int) or isinstance(strategy["event_id"], bool):
            errors["event_id"] = "请选择事件（event_id 应为整数）"
        if errors:
            raise BadRequest("策略配置有误，请按提示修改", errors, status=422, code="invalid")
        return strategy
    raise BadRequest("请提供 strategy_id 或 strategy", {"strategy": "请提供 strategy_id 或 strategy"})


@api_route(bp, "/strategies/<int:strategy_id>/versions", "GET", "策略版本列表", "自动化策略", permission="strategies.view",
           operation_id="listStrategyVersions",
           responses={"200": items_of(VERSION_OUT)},
           examples=ex.LIST_STRATEGY_VERSIONS)
@api_auth("strategies.view")
@strategy_guard("view")
def list_versions(strategy_id):
    with services().db.read() as s:
        authoring.get_strategy(s, strategy_id)
        return ok({"items": [ser.version(v) for v in version_service.list_versions(s, strategy_id)]})


@api_route(bp, "/strategies/<int:strategy_id>/versions/<int:version>/diff", "GET", "与当前版本对比", "自动化策略",
           permission="strategies.view",
           operation_id="diffStrategyVersion",
           responses={"200": obj({"changes": OBJ_LIST})},
           examples=ex.DIFF_STRATEGY_VERSION)
@api_auth("strategies.view")
@strategy_guard("view")
def diff_version(strategy_id, version):
    with services().db.read() as s:
        current = version_service.snapshot(authoring.get_strategy(s, strategy_id))
        old = version_service.get_version(s, strategy_id, version).snapshot
        return ok({"changes": version_service.diff(old, current)})


@api_route(bp, "/strategies/<int:strategy_id>/rollback", "POST", "回滚到指定版本", "自动化策略",
           body=obj({"version": INT}, ("version",)), permission="strategies.manage",
           operation_id="rollbackStrategy", responses={"200": STRATEGY_OUT}, examples=ex.ROLLBACK_STRATEGY)
@api_auth("strategies.manage")
@strategy_guard("manage")
def rollback(strategy_id):
    version, rt = json_body().get("version"), runtime()
    if not isinstance(version, int):
        raise BadRequest("version 应为整数", {"version": "version 应为整数"})
    return ok(ser.strategy(write_and_reload(lambda s: authoring.rollback_strategy(s, strategy_id, version, rt.registry, rt.settings.timezone, _user()))))


@api_route(bp, "/bundles/export", "POST", "导出配置包（事件、处理器、策略）", "配置包",
           body=obj({"strategy_ids": INT_LIST}), permission="strategies.view",
           operation_id="exportBundle",
           responses={"200": obj({"format": STR, "exported_at": STR, "events": OBJ_LIST, "processors": OBJ_LIST, "strategies": OBJ_LIST})},
           examples=ex.EXPORT_BUNDLE)
@api_auth("strategies.view")
def export_bundle():
    ids = json_body(required=False).get("strategy_ids") or None
    if isinstance(ids, list):
        require_strategies(ids, "view")
    with services().db.read() as s:
        return ok(bundles.export_bundle(s, ids))


@api_route(bp, "/bundles/import", "POST", "导入配置包，返回创建/更新/拒绝报告", "配置包", body=ANY_OBJ,
           permission="strategies.manage",
           operation_id="importBundle",
           responses={"200": obj({"created": {"type": "array", "items": {}}, "updated": {"type": "array", "items": {}}, "refused": OBJ_LIST})},
           examples=ex.IMPORT_BUNDLE)
@api_auth("strategies.manage")
def import_bundle():
    data, rt = json_body(), runtime()
    for part in ("events", "processors", "strategies"):  # the service assumes lists of objects
        items = data.get(part)
        if items is not None and (not isinstance(items, list) or not all(isinstance(i, dict) for i in items)):
            raise BadRequest(f"{part} 应为对象数组", {part: f"{part} 应为对象数组"}, status=422, code="invalid")
    report = bundles.import_bundle(rt.services.db, data, rt.registry, rt.settings.timezone, _user(),
                                   may_manage=lacking_to_manage)
    rt.invalidate()
    return ok(report)
