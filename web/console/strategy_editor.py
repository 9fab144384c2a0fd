"""The strategy editor (新增 / 修改策略): 第一步 选择事件, 第二步 配置条件, 第三步 设置执行操作,
plus 试运行 and 回测. The page is drawn by static/js/pages/strategy_editor.js from the JSON
this module embeds; saving, dry runs and backtests are session-authenticated JSON endpoints
(CSRF header from app.js), never the bearer-token /api/v1."""
from __future__ import annotations

from datetime import timedelta

from flask import abort, flash, g, jsonify, render_template, request, url_for
from sqlmodel import select

from config.pii import mask_value
from engine import authoring, dryrun
from events.field_types import FieldValueError, parse_datetime
from events.models import FIELD_TYPE_LABELS, EventDefinition
from rules import groups as group_service
from rules.conditions import ConditionError, operators_metadata
from rules.errors import NotFound, RulesError
from web.auth.guards import has_permission, permission_required
from web.auth.strategy_access import require_strategies, strategy_guard
from web.console.forms_common import json_error, local_input, parse_local, read, write
from web.console.strategies import bp
from web.extensions import runtime


def _user() -> str:
    return g.user.username if g.get("user") is not None else ""


def _editable(strategy) -> dict:
    """A stored strategy as the editor's inputs show it: times in the configured zone."""
    tz = runtime().settings.timezone
    steps = []
    for step in strategy.steps or []:
        timing = dict(step.get("timing") or {"mode": "immediate"})
        if timing.get("mode") == "until" and timing.get("at"):
            try:
                timing["at"] = local_input(parse_datetime(timing["at"], tz))
            except FieldValueError:
                pass
        steps.append({**step, "timing": timing})
    return {"id": strategy.id, "name": strategy.name, "group_id": strategy.group_id, "event_id": strategy.event_id,
            "starts_at": local_input(strategy.starts_at), "ends_at": local_input(strategy.ends_at),
            "conditions": strategy.conditions or [], "steps": steps, "remark": strategy.remark,
            "enabled": strategy.enabled, "version": strategy.version}


def _editor_data(session, strategy_id: int | None, group_id: int | None) -> dict:
    strategy = _editable(authoring.get_strategy(session, strategy_id)) if strategy_id else {
        "id": None, "name": "", "group_id": group_id, "event_id": None, "starts_at": "", "ends_at": "",
        "conditions": [], "steps": [{"processor": "", "config": {}, "timing": {"mode": "immediate"}}], "remark": ""}
    events = session.exec(select(EventDefinition).order_by(EventDefinition.id)).all()
    return {
        "strategy": strategy,
        "groups": [{"id": x.id, "name": x.name} for x in group_service.list_groups(session)],
        "events": [{"id": e.id, "name": e.name, "code": e.code, "label": e.picker_label(), "enabled": e.enabled,
                    "fields": e.fields or []}
                   for e in events],
    }


def _render_editor(strategy_id: int | None, group_id: int | None):
    try:
        data = read(lambda s: _editor_data(s, strategy_id, group_id))
    except NotFound:
        abort(404)
    data.update(processors=runtime().registry.list_all(), operators=operators_metadata(),
                field_types=FIELD_TYPE_LABELS, can_test=has_permission("strategies.test"),
                can_manage=has_permission("strategies.manage"), timezone=runtime().settings.timezone,
                urls={"save": url_for("strategies.save"), "dry_run": url_for("strategies.dry_run"),
                      "backtest": url_for("strategies.backtest"), "index": url_for("strategies.index")})
    return render_template("strategies/editor.html", data=data, strategy=data["strategy"])


@bp.get("/strategies/new")
@permission_required("strategies.manage")
def new():
    return _render_editor(None, request.args.get("group", type=int))


@bp.get("/strategies/<int:strategy_id>/edit")
@permission_required("strategies.view")
@strategy_guard("view")
def edit(strategy_id: int):
    return _render_editor(strategy_id, None)


@bp.post("/strategies/save")
@permission_required("strategies.manage")
def save():
    data, rt = request.get_json(silent=True) or {}, runtime()
    tz, user = rt.settings.timezone, _user()
    strategy_id = data.get("id")
    if strategy_id:
        require_strategies([strategy_id], "manage")
    try:
        if strategy_id:
            row = write(lambda s: authoring.update_strategy(s, int(strategy_id), data, rt.registry, tz, user))
        else:
            row = write(lambda s: authoring.create_strategy(s, data, rt.registry, tz, user))
    except NotFound:
        abort(404)
    except RulesError as exc:
        return json_error(exc)
    message = (f"已添加策略「{row.name}」；新策略默认禁用，启用后才生效" if not strategy_id
               else f"已保存策略「{row.name}」（版本 {row.version}）")
    flash(message, "success")
    return jsonify({"id": row.id, "version": row.version, "message": message,
                    "redirect": url_for("strategies.index", group=row.group_id)})


@bp.post("/strategies/dry-run")
@permission_required("strategies.test")
def dry_run():
    body, rt = request.get_json(silent=True) or {}, runtime()
    sample = body.get("sample")
    if not isinstance(sample, dict):
        return json_error(RulesError("示例事件应为 JSON 对象，例如 {\"mobile\": \"13800000000\"}"))
    try:
        return jsonify(read(lambda s: dryrun.dry_run(s, body.get("strategy") or {}, sample, rt.registry, rt.services)))
    except (RulesError, ConditionError) as exc:
        return json_error(exc)


@bp.post("/strategies/backtest")
@permission_required("strategies.test")
def backtest():
    body, rt = request.get_json(silent=True) or {}, runtime()
    now = rt.services.now()
    since = parse_local(body.get("since") or "") or now - timedelta(days=7)
    until = parse_local(body.get("until") or "", end_of_day=True) or now
    if since >= until:
        return json_error(RulesError("开始时间必须早于结束时间", {"since": "开始时间必须早于结束时间"}))
    try:
        result = read(lambda s: dryrun.backtest(s, body.get("strategy") or {}, since, until, rt.settings.timezone, now))
    except (RulesError, ConditionError) as exc:
        return json_error(exc)
    for example in result["examples"]:
        example["url"] = url_for("history.detail", record_id=example["record_id"])
        if not has_permission("pii.view"):
            example["data"] = mask_value(example["data"])
    return jsonify(result)
