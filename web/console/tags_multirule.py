"""Rules 2… of an auto tag (crm.tags.multirule): the same editor as rule 1 (web/console/tags_rules.py)
opened on another rule, saved and deleted here — routes of the tags blueprint."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from crm.errors import CrmError, NotFound
from crm.tags import multirule
from web.auth.guards import permission_required
from web.console.forms_common import json_error
from web.console.tags import bp, tz, uid, write
from web.console.tags_rules import editor_for

EMPTY = {"mode": "conditions", "rows": [], "include_tags": [], "exclude_tags": [], "sql": ""}


@bp.get("/tags/<int:tag_id>/rules/<int:index>")
@permission_required("tags.manage")
def alt_rule(tag_id: int, index: int):
    """The editor on rule `index + 2`; index == the number of rules 2… opens a new one."""
    tag, editor = editor_for(tag_id)
    alts = multirule.alternatives(tag)
    if index > len(alts):
        abort(404)
    rule = alts[index] if index < len(alts) else {**EMPTY, "name": f"规则 {index + 2}"}
    editor.update(rule=rule, save_url=url_for("tags.alt_rule_save", tag_id=tag.id, index=index),
                  back_url=url_for("tags.tag_rule", tag_id=tag.id))
    return render_template("tags/rule.html", tag=tag, editor=editor, rule_number=index + 2)


@bp.post("/tags/<int:tag_id>/rules/<int:index>")
@permission_required("tags.manage")
def alt_rule_save(tag_id: int, index: int):
    body = request.get_json(silent=True)
    spec = body.get("rule") if isinstance(body, dict) and isinstance(body.get("rule"), dict) else body
    try:
        if not isinstance(spec, dict):
            raise CrmError("规则格式错误", {"rule": "请求内容应为 JSON 对象"})
        tag = write(lambda s: multirule.save_alternative(s, tag_id, index, spec, uid(), tz()))
    except NotFound:
        abort(404)
    except CrmError as exc:
        return json_error(exc, 422)
    return jsonify({"ok": True, "message": f"已保存「{tag.name}」的规则 {index + 2}",
                    "redirect": url_for("tags.tag_rule", tag_id=tag.id)})


@bp.post("/tags/<int:tag_id>/rules/<int:index>/delete")
@permission_required("tags.manage")
def alt_rule_delete(tag_id: int, index: int):
    try:
        write(lambda s: multirule.delete_alternative(s, tag_id, index, uid()))
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "error")
    else:
        flash(f"已删除规则 {index + 2}", "success")
    return redirect(url_for("tags.tag_rule", tag_id=tag_id))
