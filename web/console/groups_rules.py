"""客户分组规则 (ordered, drag to reorder, 立即执行 as a background job) and, per group, the forms of
分配规则 and 回收规则 — all with the shared audience editor (条件行 / 包含·不包含标签 / 自定义SQL)."""
from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for

from crm.errors import CrmError, NotFound
from crm.groups import allocation, recycle, rules, schedule
from crm.groups.links import get_group
from crm.groups.service import members_by_group
from crm.jobs.runner import job_status, list_jobs
from web.auth.guards import permission_required
from web.console import groups_forms as forms
from web.console.forms_common import error_map, json_error, selected_ids
from web.console.groups import bp, read, refusal, services, tz, uid, write

SOURCE_LABELS = rules.SOURCES


@bp.get("/groups/rules", endpoint="rules")  # the menu names this page "groups.rules"
@permission_required("groups.manage")
def rules_index():
    data = read(lambda s: {"rules": rules.list_rules(s), "groups": dict(forms.group_choices(s))})
    jobs = list_jobs(services().db, kind=schedule.JOB_GROUP_RULES, limit=5)
    return render_template("groups/rules.html", **data, jobs=jobs, source_labels=SOURCE_LABELS)


def _rule_page(rule=None, values=None, errors=None, status=200):
    ctx = read(lambda s: {**forms.editor_context(s), "group_choices": forms.group_choices(s)})
    return render_template("groups/rule_form.html", rule=rule, values=values or {}, errors=errors or {},
                           source_labels=SOURCE_LABELS, **ctx), status


def _rule_form() -> dict:
    return {"name": request.form.get("name", ""), "source": request.form.get("source", "company_pool"),
            "source_group_id": request.form.get("source_group_id") or None,
            "target_group_id": request.form.get("target_group_id") or None, "break_old": forms.flag("break_old"),
            "enabled": forms.flag("enabled"), "rule": forms.spec_from_form()}


@bp.route("/groups/rules/new", methods=["GET", "POST"])
@permission_required("groups.manage")
def rule_new():
    if request.method == "POST":
        data = _rule_form()
        try:
            write(lambda s: rules.create_rule(s, data, tz()))
        except CrmError as exc:
            return _rule_page(None, data, error_map(exc), 400)
        flash(f"已创建分组规则「{data['name'].strip()}」", "success")
        return redirect(url_for("groups.rules"))
    return _rule_page(None, {"source": "company_pool", "enabled": True, "rule": {"mode": "conditions"}})


def _rule_values(rule) -> dict:
    return {"name": rule.name, "source": rule.source, "source_group_id": rule.source_group_id,
            "target_group_id": rule.target_group_id, "break_old": rule.break_old, "enabled": rule.enabled,
            "rule": rule.rule or {}}


@bp.route("/groups/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@permission_required("groups.manage")
def rule_edit(rule_id: int):
    try:
        rule = read(lambda s: rules.get_rule(s, rule_id))
    except NotFound:
        abort(404)
    if request.method == "POST":
        data = _rule_form()
        try:
            write(lambda s: rules.update_rule(s, rule_id, data, tz()))
        except CrmError as exc:
            return _rule_page(rule, data, error_map(exc), 400)
        flash(f"已保存分组规则「{data['name'].strip()}」", "success")
        return redirect(url_for("groups.rules"))
    return _rule_page(rule, _rule_values(rule))


@bp.post("/groups/rules/<int:rule_id>/<any(enable, disable, delete):action>")
@permission_required("groups.manage")
def rule_action(rule_id: int, action: str):
    try:
        if action == "delete":
            write(lambda s: rules.delete_rule(s, rule_id))
        else:
            write(lambda s: rules.set_enabled(s, rule_id, action == "enable"))
    except NotFound:
        abort(404)
    flash({"delete": "已删除分组规则", "enable": "已启用分组规则", "disable": "已禁用分组规则"}[action], "success")
    return redirect(url_for("groups.rules"))


@bp.post("/groups/rules/reorder")
@permission_required("groups.manage")
def rule_reorder():
    write(lambda s: rules.reorder_rules(s, selected_ids("order")))
    return jsonify({"ok": True})


@bp.post("/groups/rules/run")
@permission_required("groups.manage")
def rule_run():
    job = schedule.submit_group_rules(services().db, selected_ids("ids"), uid(), tz())
    if request.is_json:
        return jsonify({"job": job_status(services().db, job.id)})
    flash(f"已提交分组任务 #{job.id}", "success")
    return redirect(url_for("groups.rules", job=job.id))


# ---- 分配规则 of a group ----

def _group_or_404(group_id: int):
    try:
        return read(lambda s: (get_group(s, group_id), members_by_group(s).get(group_id, [])))
    except NotFound:
        abort(404)


def _rule_of_group(module, group_id: int, rule_id):
    """The rule being edited (None for a new one); 404 when it belongs to another group."""
    if rule_id is None:
        return None
    try:
        rule = read(lambda s: module.get_rule(s, rule_id))
    except NotFound:
        abort(404)
    if rule.group_id != group_id:
        abort(404)
    return rule


def _allocation_page(group, members, rule=None, values=None, errors=None, status=200):
    ctx = read(forms.editor_context)
    choices = [(m["user"].id, f'{m["user"].display_name or m["user"].username}（{m["role_label"]}）') for m in members]
    return render_template("groups/allocation_form.html", group=group, member_choices=choices, rule=rule,
                           values=values or {}, errors=errors or {}, **ctx), status


def _allocation_form() -> dict:
    return {"name": request.form.get("name", ""), "salespeople": forms.ints("salespeople"),
            "enabled": forms.flag("enabled"), "create_task": forms.flag("create_task"),
            "rule": forms.spec_from_form()}


@bp.route("/groups/<int:group_id>/allocation/new", methods=["GET", "POST"])
@bp.route("/groups/<int:group_id>/allocation/<int:rule_id>/edit", methods=["GET", "POST"])
@permission_required("allocation.manage")
def allocation_form(group_id: int, rule_id: int | None = None):
    group, members = _group_or_404(group_id)
    rule = _rule_of_group(allocation, group_id, rule_id)
    if request.method == "POST":
        data = _allocation_form()
        try:
            if rule is None:
                write(lambda s: allocation.create_rule(s, group_id, data, tz()))
            else:
                write(lambda s: allocation.update_rule(s, rule_id, data, tz()))
        except CrmError as exc:
            return _allocation_page(group, members, rule, data, error_map(exc), 400)
        flash(f"已保存分配规则「{data['name'].strip()}」", "success")
        return redirect(url_for("groups.group", group_id=group_id, tab="allocation"))
    values = ({"name": rule.name, "salespeople": rule.salespeople, "enabled": rule.enabled,
               "create_task": rule.create_task, "rule": rule.rule or {}} if rule else
              {"enabled": True, "create_task": True, "rule": {"mode": "conditions"}})
    return _allocation_page(group, members, rule, values)


@bp.post("/groups/<int:group_id>/allocation/<int:rule_id>/<any(enable, disable, delete):action>")
@permission_required("allocation.manage")
def allocation_action(group_id: int, rule_id: int, action: str):
    return _rule_switch(allocation, group_id, rule_id, action, "分配规则", "allocation")


@bp.post("/groups/<int:group_id>/allocation/reorder")
@permission_required("allocation.manage")
def allocation_reorder(group_id: int):
    try:
        write(lambda s: allocation.reorder_rules(s, group_id, selected_ids("order")))
    except CrmError as exc:
        return json_error(exc)
    return jsonify({"ok": True})


# ---- 回收规则 of a group ----

def _recycle_form() -> dict:
    return {"name": request.form.get("name", ""), "days_without_follow": request.form.get("days_without_follow"),
            "days_without_progress": request.form.get("days_without_progress"), "enabled": forms.flag("enabled"),
            "reassign_to_other": forms.flag("reassign_to_other")}


@bp.route("/groups/<int:group_id>/recycle/new", methods=["GET", "POST"])
@bp.route("/groups/<int:group_id>/recycle/<int:rule_id>/edit", methods=["GET", "POST"])
@permission_required("allocation.manage")
def recycle_form(group_id: int, rule_id: int | None = None):
    group, _ = _group_or_404(group_id)
    rule = _rule_of_group(recycle, group_id, rule_id)
    values = ({"name": rule.name, "days_without_follow": rule.days_without_follow, "enabled": rule.enabled,
               "days_without_progress": rule.days_without_progress, "reassign_to_other": rule.reassign_to_other}
              if rule else {"enabled": True, "reassign_to_other": True, "days_without_follow": 7})
    errors, status = {}, 200
    if request.method == "POST":
        values = _recycle_form()
        try:
            if rule is None:
                write(lambda s: recycle.create_rule(s, group_id, values))
            else:
                write(lambda s: recycle.update_rule(s, rule_id, values))
        except CrmError as exc:
            errors, status = error_map(exc), 400
        else:
            flash(f"已保存回收规则「{values['name'].strip()}」", "success")
            return redirect(url_for("groups.group", group_id=group_id, tab="recycle"))
    return render_template("groups/recycle_form.html", group=group, rule=rule, values=values, errors=errors), status


@bp.post("/groups/<int:group_id>/recycle/<int:rule_id>/<any(enable, disable, delete):action>")
@permission_required("allocation.manage")
def recycle_action(group_id: int, rule_id: int, action: str):
    return _rule_switch(recycle, group_id, rule_id, action, "回收规则", "recycle")


def _rule_switch(module, group_id: int, rule_id: int, action: str, label: str, tab: str):
    def run(s):
        rule = module.get_rule(s, rule_id)
        if rule.group_id != group_id:
            raise NotFound(f"{label}不存在")
        if action == "delete":
            module.delete_rule(s, rule_id)
        else:
            module.set_enabled(s, rule_id, action == "enable")

    try:
        write(run)
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(refusal(exc), "danger")
    else:
        flash({"delete": f"已删除{label}", "enable": f"已启用{label}", "disable": f"已禁用{label}"}[action], "success")
    return redirect(url_for("groups.group", group_id=group_id, tab=tab))
