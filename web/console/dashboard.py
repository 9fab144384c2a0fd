"""首页 = 工作台: the panels this person chose (or their roles' default), each computed on its own
so a failing one shows 「该模块暂时无法加载」 instead of breaking the page; 选择模块 saves the
person's own choice and order, 恢复默认 forgets it; 默认工作台 (home.defaults) sets the default
panel list per role. The engine telemetry that used to be the home is 运行监控 (web/console/monitor.py)."""
from __future__ import annotations

import logging
from typing import Optional

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from analytics import panels as registry, workbench
from analytics.panels.base import Door, PanelContext
from analytics.panels.engine_runs import PROVIDER as ENGINE_PROVIDER
from analytics.panels.tag_top import WRITE_PROVIDER
from config.clock import to_local
from crm.errors import CrmError, NotFound
from engine.history import start_of_today
from engine.overview import today_counts
from web import menu_registry
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, read
from web.extensions import runtime

bp = Blueprint("dashboard", __name__)
log = logging.getLogger(__name__)


def _context() -> PanelContext:
    rt = runtime()
    now, tz = rt.services.now(), rt.settings.timezone
    since = start_of_today(now, tz)
    return PanelContext(viewer=current_viewer(), user_id=g.user.id, today=to_local(now, tz).date(), now=now, tz=tz,
                        providers={ENGINE_PROVIDER: lambda s: today_counts(s, since), WRITE_PROVIDER: write})


def door_url(door: Optional[Door]) -> Optional[str]:
    """The URL of the list behind a number, or None when that page does not exist here or this
    person may not open it (the number then shows without a link)."""
    if door is None:
        return None
    view = current_app.view_functions.get(door.endpoint)
    if view is None or not set(getattr(view, "required_permissions", ())) <= set(g.permissions):
        return None
    try:
        return url_for(door.endpoint, **door.args)
    except Exception:  # a door whose arguments no longer fit its route: show the number plain
        log.warning("workbench door %s cannot be built", door.endpoint)
        return None


def _chart(result) -> Optional[dict]:
    if result.data is None:
        return None
    try:
        return result.panel.chart(result.data, door_url)
    except Exception:
        log.exception("workbench panel %s chart failed", result.panel.key)
        return None


def write(fn):
    """Layouts and panel snapshots touch no engine definition, so no reload (forms_common.write reloads)."""
    with runtime().services.db.write() as session:
        return fn(session)


def _picker(session, uid: int) -> dict:
    shown = workbench.layout(session, uid, g.permissions)
    choices, modules = menu_registry.by_menu(registry.available(g.permissions))
    return {"shown": shown, "custom": workbench.is_custom(session, uid), "choices": choices, "modules": modules}


@bp.get("/")
@permission_required("dashboard.view")
def index():
    ctx = _context()
    picker = read(lambda s: _picker(s, ctx.user_id))
    # One read per panel: a panel that fails leaves no aborted transaction behind for the next one.
    results = [read(lambda s, p=p: registry.run(s, p, ctx)) for p in picker["shown"]]
    charts = {r.panel.key: _chart(r) for r in results}
    return render_template("home/index.html", results=results, charts=charts, door=door_url, ctx=ctx, **picker)


@bp.post("/home/layout")
@permission_required("dashboard.view")
def save_layout():
    keys = request.form.getlist("panels")
    try:
        write(lambda s: workbench.save_layout(s, g.user.id, keys, g.permissions))
    except CrmError as exc:
        flash("工作台未保存：" + "；".join(m for ms in error_map(exc).values() for m in ms), "error")
        return redirect(url_for("dashboard.index"))
    flash("工作台已保存", "success")
    return redirect(url_for("dashboard.index"))


@bp.post("/home/layout/reset")
@permission_required("dashboard.view")
def reset_layout():
    write(lambda s: workbench.reset_layout(s, g.user.id))
    flash("已恢复默认工作台", "success")
    return redirect(url_for("dashboard.index"))


@bp.get("/home/defaults")
@permission_required("home.defaults")
def defaults():
    rows = read(workbench.role_defaults)
    return render_template("home/defaults.html", rows=rows, panels=registry.PANELS)


def _role_row(session, role_id: int) -> dict:
    row = next((r for r in workbench.role_defaults(session) if r["role"].id == role_id), None)
    if row is None:
        raise NotFound("角色不存在")
    return row


@bp.route("/home/defaults/<int:role_id>", methods=["GET", "POST"])
@permission_required("home.defaults")
def edit_default(role_id: int):
    errors = {}
    if request.method == "POST":
        keys = request.form.getlist("panels")
        try:
            write(lambda s: workbench.set_role_default(s, role_id, keys, g.user.id))
            flash("默认工作台已保存", "success")
            return redirect(url_for("dashboard.defaults"))
        except NotFound:
            abort(404)
        except CrmError as exc:
            errors = error_map(exc)
    try:
        row = read(lambda s: _role_row(s, role_id))
    except NotFound:
        abort(404)
    chosen = request.form.getlist("panels") if errors else (row["panels"] if row["panels"] is not None else list(registry.PANELS))
    panels, modules = menu_registry.by_menu(registry.PANELS.values())
    return render_template("home/default_form.html", row=row, chosen=chosen, errors=errors,
                           panels=panels, modules=modules), 422 if errors else 200


@bp.post("/home/defaults/<int:role_id>/clear")
@permission_required("home.defaults")
def clear_default(role_id: int):
    try:
        write(lambda s: workbench.clear_role_default(s, role_id))
    except NotFound:
        abort(404)
    flash("已清除该角色的默认工作台", "success")
    return redirect(url_for("dashboard.defaults"))
