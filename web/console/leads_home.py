"""场景获客 home and 获客计划: one card per scene type (抖音获客, 电话获客, 订单获客 …) with its scenes,
today's and the last 7 days' leads and running plans; the plan list per scene type (status,
period, goal progress, leads, 启动/暂停/结束/编辑); and the four-step 新建获客计划 wizard —
类型与基本信息 → 渠道与内容 → 线索处理与自动化 → 总结与启动 — which posts once.

Step 3 edits the plan's SCENE (tags, assignment, auto response, dedup): those rules are shared by
every plan on the scene, are versioned, and apply to the next lead."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from config.clock import from_local, to_local
from crm.leads import plans as service
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.models import DEDUP_STRATEGIES, PLAN_STATUSES, SCENE_TYPES, LeadScene
from crm.leads.scenes import RESPONSE_CHANNELS, get_scene, list_scenes
from devices.materials import list_materials
from devices.models import Material
from engine.lead_scenes import save_scene
from web.auth.guards import permission_required
from web.console.forms_common import FORM_ERROR, error_map, read, write
from web.console.lead_scenes import (PROCESSING_FIELDS, TYPE_ORDER, area_errors, author, condition_fields,
                                     editor_data, processing_form, show_secret, write_then_back)
from web.extensions import runtime
from web.input_limits import int_values

bp = Blueprint("lead_home", __name__)
# What each scene type is for, on its card and in the wizard.
TYPE_HINTS = {"SOCIAL_MEDIA_LEAD": "抖音广告表单线索、评论互动用户、粉丝同步", "PHONE_CALL": "呼入来电与外呼，通话结束更新意向",
              "ORDER_SYNC": "电商平台订单同步，识别已购与高价值客户", "PAYMENT_CODE": "带场景参数的收款码，支付即线索或成交",
              "QR_CODE_SCAN": "海报与渠道码，按渠道统计扫码与加好友", "WEB_FORM": "官网、落地页表单提交",
              "API_IMPORT": "第三方系统通过接入 API 推送", "FILE_IMPORT": "CSV / Excel 批量导入"}
TYPE_ICONS = {"SOCIAL_MEDIA_LEAD": "bolt", "PHONE_CALL": "bell", "ORDER_SYNC": "inbox", "PAYMENT_CODE": "key",
              "QR_CODE_SCAN": "cube", "WEB_FORM": "edit", "API_IMPORT": "flow", "FILE_IMPORT": "list"}
PLAN_LABELS = {"draft": ("草稿", "gray"), "running": ("进行中", "green"), "paused": ("已暂停", "amber"), "ended": ("已结束", "gray")}
MATERIAL_CHOICES = 60


def _today_bounds() -> tuple[datetime, datetime]:
    rt = runtime()
    today = to_local(rt.services.now(), rt.settings.timezone).date()
    start = from_local(datetime(today.year, today.month, today.day), rt.settings.timezone)
    return start, start - timedelta(days=6)


def _today():
    rt = runtime()
    return to_local(rt.services.now(), rt.settings.timezone).date()


@bp.get("/leads/home")
@permission_required("leads.view")
def index():
    today_start, week_start = _today_bounds()

    def load(s):
        running = service.list_plans(s, status="running")
        return service.scene_type_summary(s, today_start, week_start), running[:8], service.plan_counts(s, running[:8])

    summary, running, counts = read(load)
    totals = {k: sum(v[k] for v in summary.values()) for k in ("scenes", "today", "week", "running")}
    return render_template("leads_home/index.html", summary=summary, order=TYPE_ORDER, types=SCENE_TYPES,
                           hints=TYPE_HINTS, icons=TYPE_ICONS, totals=totals, running=running, counts=counts,
                           scene_names=read(lambda s: {sc.id: sc for sc in list_scenes(s)}))


@bp.get("/leads/plans")
@permission_required("leads.view")
def plans():
    chosen = request.args.get("type") if request.args.get("type") in SCENE_TYPES else ""
    status = request.args.get("status") if request.args.get("status") in PLAN_STATUSES else ""

    def load(s):
        rows = service.list_plans(s, chosen or None, status or None)
        every = service.list_plans(s)
        scenes = {sc.id: sc for sc in list_scenes(s)}
        per_type = {t: sum(1 for p in every if scenes[p.scene_id].scene_type == t) for t in SCENE_TYPES}
        return rows, service.plan_counts(s, rows), scenes, per_type, dict(editor_data(s)["channels"])

    rows, counts, scenes, per_type, channels = read(load)
    return render_template("leads_home/plans.html", rows=rows, counts=counts, scenes=scenes, per_type=per_type,
                           chosen=chosen, status=status, order=TYPE_ORDER, types=SCENE_TYPES, statuses=PLAN_STATUSES,
                           labels=PLAN_LABELS, channels=channels, today=_today())


# -- the wizard ---------------------------------------------------------------------------------
def _scene_config(scene: LeadScene) -> dict:
    return {"id": scene.id, "name": scene.name, "type": scene.scene_type, "enabled": scene.is_enabled,
            "fields": condition_fields(scene), "dedup_strategy": scene.dedup_strategy,
            "tagging_rules": scene.tagging_rules or [], "assignment_rules": scene.assignment_rules or {},
            "auto_response": scene.auto_response or {}}


def _wizard_data(session) -> dict:
    data = editor_data(session)
    materials, _ = list_materials(session, "", 1, MATERIAL_CHOICES)
    data.update(scenes=[_scene_config(sc) for sc in list_scenes(session)],
                new_scene_fields=condition_fields(LeadScene(name="", scene_type="WEB_FORM")),
                materials=[{"id": m.id, "name": m.filename,
                            "url": url_for("content.material_preview", material_id=m.id)} for m in materials])
    return data


def _plan_values(plan=None, scene=None) -> dict:
    if plan is None:
        scene_type = request.args.get("type") if request.args.get("type") in SCENE_TYPES else "SOCIAL_MEDIA_LEAD"
        return {"scene_type": scene_type, "scene_id": "", "scene_name": "", "goal_leads": 0, "channel_ids": [],
                "content": {"scripts": [""], "material_ids": [], "poster": {"color": "#1f6feb"}},
                "dedup_strategy": "BY_PHONE_OR_EMAIL", "tagging_rules": [], "assignment_rules": {}, "auto_response": {}}
    content = dict(plan.content or {})
    content["scripts"] = content.get("scripts") or [""]
    return {"scene_type": scene.scene_type, "scene_id": scene.id, "name": plan.name, "goal_leads": plan.goal_leads,
            "goal_note": plan.goal_note, "starts_on": plan.starts_on or "", "ends_on": plan.ends_on or "",
            "channel_ids": plan.channel_ids or [], "content": content, "dedup_strategy": scene.dedup_strategy,
            "tagging_rules": scene.tagging_rules or [], "assignment_rules": scene.assignment_rules or {},
            "auto_response": scene.auto_response or {}}


def _posted() -> dict:
    f = request.form
    content = {"scripts": f.getlist("script"), "material_ids": f.getlist("material_ids"),
               "douyin_accounts": f.get("douyin_accounts", ""), "phone_numbers": f.get("phone_numbers", ""),
               "poster": {"title": f.get("poster_title", ""), "subtitle": f.get("poster_subtitle", ""),
                          "color": f.get("poster_color", "")}}
    return {"scene_type": f.get("scene_type", ""), "scene_id": f.get("scene_id", ""), "scene_name": f.get("scene_name", ""),
            "name": f.get("name", ""), "goal_leads": f.get("goal_leads", ""), "goal_note": f.get("goal_note", ""),
            "starts_on": f.get("starts_on", ""), "ends_on": f.get("ends_on", ""), "channel_ids": f.getlist("channel_ids"),
            "content": content, **processing_form()}


# The wizard's own inputs that show their errors (step 3's come from lead_scenes).
WIZARD_FIELDS = {"scene_type", "scene_id", "scene_name", "name", "goal_leads", "goal_note", "starts_on", "ends_on",
                 "channel_ids", "scripts", "material_ids", "douyin_accounts", "phone_numbers", "poster_title",
                 "poster_subtitle", "poster_color"} | PROCESSING_FIELDS


def _placed(errors: dict) -> dict:
    """Plan errors name content fields (`content.poster.title`); the wizard's inputs are flat."""
    flat: dict = {}
    for key, messages in errors.items():
        flat.setdefault(key.replace("content.poster.", "poster_").replace("content.", ""), []).extend(messages)
    return area_errors(flat, WIZARD_FIELDS)


def _wizard(plan, values, errors, status=200):
    data = read(_wizard_data)
    data["config"] = {"tagging_rules": values["tagging_rules"] if isinstance(values.get("tagging_rules"), list) else [],
                      "assignment_rules": values["assignment_rules"] if isinstance(values.get("assignment_rules"), dict) else {}}
    data["plan_scene"] = plan.scene_id if plan else None
    return render_template("leads_home/wizard.html", plan=plan, values=values, errors=errors, data=data,
                           types=SCENE_TYPES, order=TYPE_ORDER, hints=TYPE_HINTS, icons=TYPE_ICONS,
                           dedups=DEDUP_STRATEGIES, response_channels=RESPONSE_CHANNELS), status


def _apply(session, values: dict, plan_id, start: bool):
    """One transaction: the scene (created inline or edited by step 3), then the plan. Every
    problem of both is collected; any problem rolls everything back."""
    rt, errors, secret, scene_id = runtime(), {}, None, None
    processing = {k: values[k] for k in ("dedup_strategy", "tagging_rules", "assignment_rules", "auto_response")}
    kwargs = {"registry": rt.registry, "box": rt.services.secret_box, "author": author(), "tz": rt.settings.timezone}
    try:
        if plan_id is not None:
            scene_id = service.get_plan(session, plan_id).scene_id
            save_scene(session, processing, scene_id=scene_id, **kwargs)
        elif values["scene_id"] == "new":
            scene, secret = save_scene(session, {"name": values["scene_name"], "scene_type": values["scene_type"],
                                                 **processing}, **kwargs)
            scene_id = scene.id
        elif values["scene_id"]:
            scene_id = get_scene(session, values["scene_id"]).id
            save_scene(session, processing, scene_id=scene_id, **kwargs)
    except LeadNotFound:
        errors["scene_id"] = ["所选场景不存在，请重新选择"]
    except LeadsError as exc:
        for key, messages in error_map(exc).items():
            errors[{"name": "scene_name", "scene_type": "scene_type"}.get(key, key)] = messages
    chosen = set(int_values(values["content"]["material_ids"]))
    known = set(session.exec(select(Material.id).where(Material.id.in_(chosen))).all()) if chosen else set()
    plan_data = {**values, "scene_id": scene_id}
    try:
        if plan_id is not None:
            plan = service.update_plan(session, plan_id, plan_data, material_ids=known, start=start, today=_today())
        else:
            plan = service.create_plan(session, plan_data, material_ids=known, start=start, today=_today(),
                                       user_id=getattr(g.get("user"), "id", None))
    except LeadsError as exc:
        plan_errors = error_map(exc)
        if scene_id is None and errors:
            plan_errors.pop("scene_id", None)  # the scene's own problems already say why
        errors.update({k: v for k, v in plan_errors.items() if k not in errors})
    if errors:
        raise LeadsError("获客计划填写有误，请按提示修改", errors)
    return plan, secret


def _save(plan, scene=None):
    values = _posted()
    if plan is not None:  # the scene stays, whatever the form says
        values.update(scene_id=plan.scene_id, scene_type=scene.scene_type)
    start = request.form.get("action") == "start"
    try:
        saved, secret = write(lambda s: _apply(s, values, plan.id if plan else None, start))
    except LeadsError as exc:
        return _wizard(plan, values, _placed(exc.errors or {FORM_ERROR: [exc.message]}), 400)
    scene = read(lambda s: get_scene(s, saved.scene_id))
    state = "已启动" if saved.status == "running" else ("已保存为草稿" if saved.status == "draft" else "已保存")
    flash(f"获客计划「{saved.name}」{state}；线索处理规则已保存到场景「{scene.name}」（v{scene.version}）", "success")
    target = url_for("lead_home.plans", type=scene.scene_type)
    if secret:
        return show_secret(scene, secret, rotated=False, next_url=target)
    return redirect(target)


@bp.route("/leads/plans/new", methods=["GET", "POST"])
@permission_required("leads.manage", "scenes.manage")
def new_plan():
    if request.method == "POST":
        return _save(None)
    return _wizard(None, _plan_values(), {})


def _plan(plan_id: int):
    """(plan, its scene) or a 404."""
    def load(s):
        plan = service.get_plan(s, plan_id)
        return plan, get_scene(s, plan.scene_id)

    try:
        return read(load)
    except LeadNotFound:
        abort(404)


@bp.route("/leads/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@permission_required("leads.manage", "scenes.manage")
def edit_plan(plan_id: int):
    plan, scene = _plan(plan_id)
    if request.method == "POST":
        return _save(plan, scene)
    return _wizard(plan, _plan_values(plan, scene), {})


@bp.post("/leads/plans/<int:plan_id>/status")
@permission_required("leads.manage")
def set_status(plan_id: int):
    status = request.form.get("status", "")
    done = {"running": "已启动", "paused": "已暂停", "ended": "已结束"}
    return write_then_back(lambda s: service.set_status(s, plan_id, status, _today()),
                           lambda plan: f"获客计划「{plan.name}」{done[plan.status]}",
                           "lead_home.plans", type=request.form.get("back_type") or None)


@bp.post("/leads/plans/<int:plan_id>/delete")
@permission_required("leads.manage")
def delete_plan(plan_id: int):
    return write_then_back(lambda s: service.delete_plan(s, plan_id), "获客计划已删除", "lead_home.plans",
                           type=request.form.get("back_type") or None)
