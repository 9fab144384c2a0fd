"""Strategy versions (列表, 与当前版本对比, 回滚) and bundles (导出 JSON, 导入并显示报告)."""
from __future__ import annotations

import json

from flask import Response, abort, current_app, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from config.clock import utcnow
from engine import authoring, bundles
from events.models import EventDefinition
from rules import versions as version_service
from rules.errors import NotFound, RulesError
from rules.models import StrategyGroup
from web.auth.guards import permission_required
from web.auth.strategy_access import lacking_to_manage, require_strategies, strategy_guard
from web.console.forms_common import read
from web.console.strategies import bp
from web.extensions import runtime
from web.input_limits import int_values


def _versions_view(session, strategy_id: int, compare: int | None) -> dict:
    strategy = authoring.get_strategy(session, strategy_id)
    rows = version_service.list_versions(session, strategy_id)
    changes = None
    if compare:
        old = version_service.get_version(session, strategy_id, compare).snapshot
        changes = version_service.diff(old, version_service.snapshot(strategy))
    # Ids in snapshots read better as names.
    names = {"group_id": {x.id: x.name for x in session.exec(select(StrategyGroup))},
             "event_id": {x.id: x.name for x in session.exec(select(EventDefinition))}}
    return {"strategy": strategy, "rows": rows, "compare": compare, "changes": changes, "names": names}


@bp.get("/strategies/<int:strategy_id>/versions")
@permission_required("strategies.view")
@strategy_guard("view")
def versions(strategy_id: int):
    try:
        data = read(lambda s: _versions_view(s, strategy_id, request.args.get("compare", type=int)))
    except NotFound:
        abort(404)
    return render_template("strategies/versions.html", **data)


@bp.post("/strategies/<int:strategy_id>/rollback")
@permission_required("strategies.manage")
@strategy_guard("manage")
def rollback(strategy_id: int):
    rt, version = runtime(), request.form.get("version", type=int) or 0
    user = g.user.username if g.get("user") is not None else ""
    try:
        with rt.services.db.write() as s:
            row = authoring.rollback_strategy(s, strategy_id, version, rt.registry, rt.settings.timezone, user)
    except NotFound:
        abort(404)
    except RulesError as exc:
        detail = "；".join(str(v) for v in exc.errors.values()) or exc.message
        flash(f"无法回滚到版本 {version}：{detail}", "error")
        return redirect(url_for("strategies.versions", strategy_id=strategy_id))
    rt.invalidate()
    flash(f"已回滚到版本 {version} 的内容（保存为新版本 {row.version}）", "success")
    return redirect(url_for("strategies.versions", strategy_id=strategy_id))


@bp.get("/strategies/export")
@permission_required("strategies.view")
def export_bundle():
    ids = int_values(request.args.get("ids", "").split(","))
    require_strategies(ids, "view")
    bundle = read(lambda s: bundles.export_bundle(s, ids or None))
    filename = f"cunkebao-strategies-{utcnow():%Y%m%d%H%M}.json"
    return Response(json.dumps(bundle, ensure_ascii=False, indent=2), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/strategies/import")
@permission_required("strategies.manage")
def import_bundle():
    upload = request.files.get("bundle")
    if upload is None or not upload.filename:
        flash("请选择要导入的策略包文件", "error")
        return redirect(url_for("strategies.index"))
    try:
        bundle = current_app.json.loads(upload.read().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        flash(f"文件不是有效的 JSON：{exc}", "error")
        return redirect(url_for("strategies.index"))
    rt = runtime()
    user = g.user.username if g.get("user") is not None else ""
    report = bundles.import_bundle(rt.services.db, bundle, rt.registry, rt.settings.timezone, user,
                                   may_manage=lacking_to_manage)
    rt.invalidate()
    return render_template("strategies/import_report.html", report=report, filename=upload.filename)
