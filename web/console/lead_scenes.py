"""获客场景配置: every scene (表单, 抖音, 电话, 订单, 付款码, 海报, 接口, 文件) with its webhook
addresses and lead counts, and the form that sets all of it — 数据映射, 打标签规则, 线索分配,
自动回复, 去重, 场景参数, 平台凭证 (write-only) and 限流. The signing secret is shown once, after
创建 or 轮换密钥. Every save is a version with its field changes; an edit applies to the next lead.

The processing editors (tags, assignment, auto response, dedup) are shared with step 3 of the
新建获客计划 wizard through `processing_form` and `editor_data`."""
from __future__ import annotations

import inspect
import json
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from sqlmodel import select

from crm.groups.models import CustomerGroup
from crm.leads import channels as channel_service
from crm.leads import scenes as service
from crm.leads.adapters import adapters_for
from crm.leads.assign_rules import METHODS, OUTSIDE_HOURS, WEEKDAYS
from crm.leads.errors import LeadNotFound, LeadsError
from crm.leads.fields import lead_event_fields
from crm.leads.mapping import TRANSFORMS
from crm.leads.models import DEDUP_STRATEGIES, SCENE_TYPES, LeadScene
from crm.leads.plans import lead_counts
from crm.people.models import User
from crm.sales.models import MessageTemplate
from crm.tags.models import Tag
from devices.models import WechatAccount
from engine import lead_scenes as engine_scenes
from events.models import FIELD_TYPE_LABELS
from rules.conditions import operators_metadata
from web.auth.guards import permission_required
from web.console.forms_common import FORM_ERROR, error_map, read, write
from web.extensions import runtime, services

bp = Blueprint("lead_scenes", __name__)
# The order of the seed's 场景获客 page (抖音获客 first), for every tab row of these pages.
TYPE_ORDER = ("SOCIAL_MEDIA_LEAD", "PHONE_CALL", "ORDER_SYNC", "PAYMENT_CODE", "QR_CODE_SCAN", "WEB_FORM",
              "API_IMPORT", "FILE_IMPORT")
# Where each kind of error is shown on the form (the first matching prefix wins).
ERROR_AREAS = ("tagging_rules", "assignment_rules", "mapping_rules")
# The inputs of _processing.html that show their own errors.
PROCESSING_FIELDS = {"dedup_strategy", "tagging_rules", "assignment_rules", "response_channel", "response_template",
                     "response_device_text", "response_device_account"}
# The version list names each changed field in Chinese.
FIELD_LABELS = {"name": "场景名称", "scene_type": "场景类型", "is_enabled": "启用", "default_channel_id": "默认渠道",
                "params": "场景参数", "mapping_rules": "数据映射", "tagging_rules": "打标签规则",
                "assignment_rules": "分配规则", "auto_response": "自动回复", "dedup_strategy": "去重策略",
                "rate_limit_per_minute": "每分钟限流", "credentials": "平台凭证"}
SCENE_FIELDS = ("name", "key", "scene_type", "default_channel_id", "dedup_strategy", "rate_limit_per_minute", "params")


def author() -> str:
    return g.user.username if g.get("user") is not None else ""


def write_then_back(fn, done, endpoint: str, **args):
    """The 场景获客 list actions (启用/停用, 删除, 启动/暂停/结束): run one write, flash `done`
    (text, or a function of the result) or the service's refusal with its reason, and go back
    to the list; a row that does not exist is a 404."""
    try:
        result = write(fn)
    except LeadNotFound:
        abort(404)
    except LeadsError as exc:
        flash(exc.message, "error")
    else:
        flash(done(result) if callable(done) else done, "success")
    return redirect(url_for(endpoint, **args))


def editor_data(session) -> dict:
    """The choices the rule editors offer: operators, global manual tags (what a scene may add),
    every tag (技能标签), staff, teams, assignment methods, message templates, channels, the
    WeChat accounts a device welcome can use."""
    tags = session.exec(select(Tag).where(Tag.enabled == True).order_by(Tag.name)).all()  # noqa: E712
    users = session.exec(select(User).where(User.enabled == True).order_by(User.id)).all()  # noqa: E712
    templates = session.exec(select(MessageTemplate).where(MessageTemplate.enabled == True)  # noqa: E712
                             .order_by(MessageTemplate.channel, MessageTemplate.name)).all()
    return {"operators": operators_metadata(),
            "tags": [{"id": t.id, "name": t.name} for t in tags if t.kind == "manual" and t.owner_id is None],
            "all_tags": [{"id": t.id, "name": t.name} for t in tags if t.owner_id is None],
            "users": [{"id": u.id, "name": u.display_name or u.username} for u in users],
            "groups": [{"id": c.id, "name": c.name} for c in session.exec(select(CustomerGroup).order_by(CustomerGroup.position, CustomerGroup.id))],
            "methods": METHODS, "outside": OUTSIDE_HOURS, "weekdays": WEEKDAYS,
            "templates": [{"id": t.code, "name": t.name, "channel": t.channel} for t in templates],
            "channels": [(c.id, c.name) for c in channel_service.list_channels(session, active_only=True)],
            "accounts": [(a.wxid, f"{a.nickname or a.wxid}（{a.wxid}）") for a in session.exec(select(WechatAccount).order_by(WechatAccount.id))]}


def condition_fields(scene) -> list[dict]:
    """The lead fields a condition row may test (labels carry the field name for clarity)."""
    return [{"name": f["name"], "type": f["type"], "label": f"{f['label']}（{f['name']}）"} for f in lead_event_fields(scene)]


def _json_field(name: str, kind: type):
    """A JSON editor's hidden input; what cannot be read is passed on as text for the service
    to refuse with its own message."""
    raw = request.form.get(name, "")
    try:
        value = current_app.json.loads(raw) if raw.strip() else kind()
    except ValueError:
        return raw
    return value


def processing_form() -> dict:
    """Step 3 / the scene form's processing part: 去重, 打标签规则, 线索分配, 自动回复."""
    return {"dedup_strategy": request.form.get("dedup_strategy", "BY_PHONE_OR_EMAIL"),
            "tagging_rules": _json_field("tagging_rules", list),
            "assignment_rules": _json_field("assignment_rules", dict),
            "auto_response": {"channel": request.form.get("response_channel", ""),
                              "template": request.form.get("response_template", ""),
                              "device_text": request.form.get("response_device_text", ""),
                              "device_account": request.form.get("response_device_account", "")}}


def area_errors(errors: dict, shown: set) -> dict:
    """Errors grouped for display: each rule editor's messages together under its area name,
    `auto_response.template` → `response_template` (the input's name); a key the form does not
    show (`shown`) goes to the alert at its top, so no message is ever lost."""
    out: dict = {}
    for key, messages in errors.items():
        if key.startswith("auto_response."):
            key = "response_" + key.split(".", 1)[1]
        else:
            key = next((area for area in ERROR_AREAS if key.startswith(area)), key)
        out.setdefault(key if key in shown else FORM_ERROR, []).extend(messages)
    return out


def _mapping_rows() -> list[dict]:
    columns = {n: request.form.getlist(f"map_{n}") for n in ("source", "target", "label", "transform", "type", "default", "required")}
    rows = []
    for i in range(len(columns["target"])):
        row = {n: (columns[n][i] if i < len(columns[n]) else "") for n in columns}
        if not (row["source"].strip() or row["target"].strip() or row["default"].strip()):
            continue
        row["required"] = row["required"] == "1"
        row["default"] = row["default"] if row["default"] != "" else None
        rows.append(row)
    return rows


def _scene_form() -> dict:
    # The type and key are not posted when editing (they are fixed once created).
    data = {name: request.form.get(name, "") for name in SCENE_FIELDS if name in request.form}
    data.update(processing_form())
    data["mapping_rules"] = _mapping_rows()
    data["is_enabled"] = request.form.get("is_enabled") == "1"
    data["default_channel_id"] = data.get("default_channel_id") or None
    data["credentials"] = request.form.get("credentials", "")
    data["clear_credentials"] = request.form.get("clear_credentials") == "1"
    return data


def _values(scene: LeadScene) -> dict:
    return {"name": scene.name, "key": scene.key, "scene_type": scene.scene_type, "is_enabled": scene.is_enabled,
            "default_channel_id": scene.default_channel_id, "dedup_strategy": scene.dedup_strategy,
            "rate_limit_per_minute": scene.rate_limit_per_minute,
            "params": json.dumps(scene.params or {}, ensure_ascii=False, indent=2),
            "mapping_rules": scene.mapping_rules or [], "tagging_rules": scene.tagging_rules or [],
            "assignment_rules": scene.assignment_rules or {}, "auto_response": scene.auto_response or {}}


def _form(scene, values, errors, status=200):
    probe = LeadScene(name="", scene_type=values.get("scene_type") or "WEB_FORM",
                      mapping_rules=[r for r in values.get("mapping_rules") or [] if isinstance(r, dict)])
    data = read(editor_data)
    tagging, assignment = values.get("tagging_rules"), values.get("assignment_rules")
    data.update(fields=condition_fields(probe), config={"tagging_rules": tagging if isinstance(tagging, list) else [],
                                                        "assignment_rules": assignment if isinstance(assignment, dict) else {}})
    shown = PROCESSING_FIELDS | set(SCENE_FIELDS) | {"mapping_rules", "credentials", "is_enabled"}
    return render_template("lead_scenes/form.html", scene=scene, values=values, errors=area_errors(errors, shown), data=data,
                           types=SCENE_TYPES, dedups=DEDUP_STRATEGIES, transforms=TRANSFORMS, field_types=FIELD_TYPE_LABELS,
                           response_channels=service.RESPONSE_CHANNELS), status


def show_secret(scene: LeadScene, secret: str, rotated: bool, next_url: str = ""):
    """The one page that shows a webhook secret; a direct answer to a POST, never cached."""
    hooks = [{"name": a.name, "url": f"{request.host_url.rstrip('/')}/webhooks/{a.key}?scene={scene.key}",
              "doc": (inspect.getmodule(a).__doc__ or "").strip()} for a in adapters_for(scene.scene_type)]
    response = make_response(render_template("lead_scenes/secret.html", scene=scene, secret=secret, rotated=rotated,
                                             hooks=hooks, next_url=next_url or url_for("lead_scenes.index")))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/leads/scenes")
@permission_required("scenes.manage")
def index():
    chosen = request.args.get("type", "")
    since = services().now() - timedelta(days=7)
    rows, counts, names = read(lambda s: (service.list_scenes(s, chosen or None), lead_counts(s, "scene", since),
                                          dict(editor_data(s)["channels"])))
    hooks = {r.id: [{"name": a.name, "url": f"/webhooks/{a.key}?scene={r.key}"} for a in adapters_for(r.scene_type)]
             for r in rows}
    return render_template("lead_scenes/list.html", rows=rows, counts=counts, hooks=hooks, types=SCENE_TYPES,
                           chosen=chosen, channel_names=names, dedups=DEDUP_STRATEGIES, order=TYPE_ORDER)


@bp.route("/leads/scenes/new", methods=["GET", "POST"])
@permission_required("scenes.manage")
def new():
    if request.method == "GET":
        scene_type = request.args.get("type") if request.args.get("type") in SCENE_TYPES else "WEB_FORM"
        return _form(None, {"scene_type": scene_type, "is_enabled": True, "dedup_strategy": "BY_PHONE_OR_EMAIL",
                            "rate_limit_per_minute": 600, "params": "{}", "mapping_rules": []}, {})
    values, rt = _scene_form(), runtime()
    try:
        scene, secret = write(lambda s: engine_scenes.save_scene(s, values, registry=rt.registry, box=rt.services.secret_box,
                                                                 author=author(), tz=rt.settings.timezone))
    except LeadsError as exc:
        return _form(None, values, error_map(exc), 400)
    flash(f"已创建获客场景「{scene.name}」，并在「场景获客」策略分组中生成了处理策略", "success")
    return show_secret(scene, secret, rotated=False)


def _scene(scene_id: int) -> LeadScene:
    try:
        return read(lambda s: service.get_scene(s, scene_id))
    except LeadNotFound:
        abort(404)


@bp.route("/leads/scenes/<int:scene_id>/edit", methods=["GET", "POST"])
@permission_required("scenes.manage")
def edit(scene_id: int):
    scene = _scene(scene_id)
    if request.method == "GET":
        return _form(scene, _values(scene), {})
    values, rt = _scene_form(), runtime()
    try:
        saved, _ = write(lambda s: engine_scenes.save_scene(s, values, registry=rt.registry, box=rt.services.secret_box,
                                                            author=author(), scene_id=scene_id, tz=rt.settings.timezone))
    except LeadsError as exc:
        return _form(scene, {**values, "key": scene.key, "scene_type": scene.scene_type}, error_map(exc), 400)
    changed = saved.version != scene.version
    flash(f"已保存「{saved.name}」（版本 {saved.version}），下一条线索起生效" if changed else "没有修改", "success")
    return redirect(url_for("lead_scenes.index"))


@bp.post("/leads/scenes/<int:scene_id>/enabled")
@permission_required("scenes.manage")
def set_enabled(scene_id: int):
    enabled, rt = request.form.get("enabled") == "1", runtime()
    return write_then_back(
        lambda s: engine_scenes.save_scene(s, {"is_enabled": enabled}, registry=rt.registry, box=rt.services.secret_box,
                                           author=author(), scene_id=scene_id)[0],
        lambda scene: f"已{'启用' if enabled else '停用'}场景「{scene.name}」" + ("" if enabled else "，新的提交将被拒绝"),
        "lead_scenes.index")


@bp.post("/leads/scenes/<int:scene_id>/rotate")
@permission_required("scenes.manage")
def rotate(scene_id: int):
    box = services().secret_box
    try:
        secret = write(lambda s: engine_scenes.rotate_secret(s, box, scene_id))
    except LeadNotFound:
        abort(404)
    return show_secret(_scene(scene_id), secret, rotated=True)


@bp.post("/leads/scenes/<int:scene_id>/delete")
@permission_required("scenes.manage")
def delete(scene_id: int):
    return write_then_back(lambda s: engine_scenes.delete_scene(s, scene_id), "场景已删除，其处理策略与获客计划一并删除",
                           "lead_scenes.index")


@bp.get("/leads/scenes/<int:scene_id>/versions")
@permission_required("scenes.manage")
def versions(scene_id: int):
    scene = _scene(scene_id)
    versions_, channels = read(lambda s: (service.list_versions(s, scene_id), dict(editor_data(s)["channels"])))
    words = {"scene_type": SCENE_TYPES, "dedup_strategy": DEDUP_STRATEGIES, "default_channel_id": channels}

    def shown(field: str, value) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return "是" if value else "否"
        if field in words:
            return str(words[field].get(value, value))
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, indent=1)

    rows = [{"version": v.version, "author": v.author, "created_at": v.created_at,
             "diff": [{"field": d["field"], "before": shown(d["field"], d.get("before")),
                       "after": shown(d["field"], d.get("after"))} for d in v.diff or []]} for v in versions_]
    return render_template("lead_scenes/versions.html", scene=scene, rows=rows, labels=FIELD_LABELS)
