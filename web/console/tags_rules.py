"""标签规则 (the editor of an auto tag's audience: condition rows over customer fields, 包含标签 /
不包含标签, or 自定义SQL; 预览 before saving) and 标签历史 — routes of the "tags" blueprint."""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import abort, g, jsonify, render_template, request, url_for

from config.clock import from_local, to_local
from crm.customers.fieldset import customer_fields
from crm.errors import CrmError, NotFound
from crm.tags import service
from crm.tags.history import ACTION_LABELS, SOURCE_LABELS, list_history
from rules.conditions import operators_metadata
from web.auth.shell import pii
from web.auth.guards import permission_required
from web.console.forms_common import json_error, page_arg, pages, parse_local, query_args, read
from web.console.tags import bp, services, tz, uid, write

HISTORY_PER_PAGE = 20


def editor_for(tag_id: int) -> tuple:
    """(the auto tag, the editor's data without rule/save/back) — 404 for another's or a non-auto tag.
    Shared with rules 2… (web/console/tags_multirule.py)."""
    def load(s):
        tag = service.get_tag(s, tag_id, uid())
        choices = [{"id": t.id, "name": t.name, "kind": t.kind} for t in service.choices(s, uid()) if t.id != tag_id]
        return tag, customer_fields(s), choices

    try:
        tag, fields, choices = read(load)
    except NotFound:
        abort(404)
    if tag.kind != "auto":
        abort(404, description="只有自动标签才有标签规则")
    return tag, {"fields": [{"name": f["name"], "type": f["type"], "label": f["label"]} for f in fields],
                 "operators": operators_metadata(), "tags": choices, "preview_url": url_for("tags.rule_preview")}


@bp.get("/tags/<int:tag_id>/rule")
@permission_required("tags.manage")
def tag_rule(tag_id: int):
    tag, editor = editor_for(tag_id)
    rule = service.normalise_spec(tag.rule) if tag.rule else {"mode": "conditions", "rows": [], "include_tags": [],
                                                                "exclude_tags": [], "sql": ""}
    editor.update(rule=rule, save_url=url_for("tags.tag_rule_save", tag_id=tag.id),
                  back_url=url_for("tags.index", category=tag.category_id))
    return render_template("tags/rule.html", tag=tag, editor=editor)


def _spec() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise CrmError("规则格式错误", {"rule": "请求内容应为 JSON 对象"})
    return body.get("rule") if isinstance(body.get("rule"), dict) else body


@bp.post("/tags/<int:tag_id>/rule")
@permission_required("tags.manage")
def tag_rule_save(tag_id: int):
    try:
        tag = write(lambda s: service.save_rule(s, tag_id, _spec(), uid(), tz()))
    except NotFound:
        abort(404)
    except CrmError as exc:
        return json_error(exc, 422)
    return jsonify({"ok": True, "message": f"已保存「{tag.name}」的标签规则", "redirect": url_for(
        "tags.index", category=tag.category_id)})


@bp.post("/tags/rule/preview")
@permission_required("tags.manage")
def rule_preview():
    """预览: count and the first customers (highest tag score first), mobile masked by pii."""
    try:
        spec = service.normalise_spec(_spec())
        for other in spec["include_tags"] + spec["exclude_tags"]:  # someone else's personal tag is "not found"
            read(lambda s, o=other: service.get_tag(s, o, uid()))
        result = service.preview_rule(services().db, spec, limit=20, now=services().now(), tz=tz(),
                                      viewer=(uid(), g.permissions))
    except CrmError as exc:
        return json_error(exc, 422)
    return jsonify({"count": result["count"], "customers": [
        {"id": c.id, "name": c.name, "mobile": pii(c.mobile), "city": c.city, "tag_score": c.tag_score}
        for c in result["customers"]]})


def _day_bounds() -> tuple[str, str, datetime, datetime]:
    """The filter's date range (configured zone); defaults to today."""
    today = to_local(services().now(), tz()).date().isoformat()
    start_text = request.args.get("start", today) if "start" in request.args else today
    end_text = request.args.get("end", today) if "end" in request.args else today
    start = parse_local(start_text) or from_local(datetime.fromisoformat(today), tz())
    end = parse_local(end_text, end_of_day=True) or (start + timedelta(days=1))
    return start_text, end_text, start, end


@bp.get("/tags/history")
@permission_required("crmlogs.view")
def history():
    start_text, end_text, start, end = _day_bounds()
    filters = {"tag_name": request.args.get("tag", ""), "customer": request.args.get("customer", ""),
               "source": request.args.get("source", ""), "action": request.args.get("action", "")}
    page = page_arg()
    rows, total = read(lambda s: list_history(s, uid(), start=start, end=end, page=page,
                                              per_page=HISTORY_PER_PAGE, **filters))
    return render_template("tags/history.html", rows=rows, total=total, page=page,
                           pages=pages(total, HISTORY_PER_PAGE), filters=filters, start=start_text, end=end_text,
                           source_labels=SOURCE_LABELS, action_labels=ACTION_LABELS,
                           args=query_args("tag", "customer", "source", "action", "start", "end"))
