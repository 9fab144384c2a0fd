"""好友请求 (通过 through the risk budget, 拒绝) and 自动通过规则 (greeting keywords, sources,
daily cap, time window) on the 微信号管理 blueprint."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for

from conversations import friend_profile
from devices import accounts as account_service, friend_requests_admin as service
from devices.budget_plan import write_with_budget
from web.auth.guards import current_viewer, permission_required
from web.console.accounts import bp
from web.console.devices_common import flash_refusal, int_arg, read, staff_names, uid, write, safe_next
from web.console.forms_common import error_map, page_arg, pages, query_args
from web.extensions import services

PER_PAGE = 20


@bp.get("/accounts/requests")
@permission_required("accounts.view")
def requests():
    status = request.args.get("status", "pending")
    account_id = int_arg(request.args.get("account"))
    page = page_arg()

    def load(s):
        rows, total = service.list_requests(s, status="" if status == "all" else status, account_id=account_id,
                                            page=page, per_page=PER_PAGE)
        rules = {r.id: r.name for r in service.list_rules(s)}
        links = friend_profile.friend_links(s, current_viewer(), [(r.account_id, r.from_wxid) for r in rows])
        return rows, total, staff_names(s), rules, account_service.account_names(s), links

    rows, total, users, rules, account_names, friend_ids = read(load)
    return render_template("accounts/requests.html", rows=rows, total=total, page=page, pages=pages(total, PER_PAGE),
                           status=status, account_id=account_id, users=users, rules=rules,
                           account_names=account_names, status_labels=service.REQUEST_STATUS_LABELS,
                           source_labels=service.SOURCE_LABELS, handled=service.handled_by_label,
                           friend_ids=friend_ids, args=query_args("status", "account"))


def _back_to_requests():
    return redirect(safe_next(url_for("accounts.requests")))


@bp.post("/accounts/requests/<int:request_id>/accept")
@permission_required("accounts.manage")
def accept(request_id: int):
    svc = services()
    user_id = uid()
    try:
        # The accept's risk check is taken before the write transaction (Redis down → 503 page).
        command = write_with_budget(svc.db, lambda s: service.accept_request(s, request_id, user_id, svc.now(),
                                                                              svc.settings),
                                    settings=svc.settings, redis=svc.redis, now=svc.now())
    except account_service.AccountNotFound:
        abort(404)
    except account_service.AccountError as exc:
        flash_refusal(exc, "未能通过：")
        return _back_to_requests()
    note = f"（{command.reason}）" if command.status == "deferred" and command.reason else ""
    flash(f"已下发通过好友指令 #{command.id}{note}", "success")
    return _back_to_requests()


@bp.post("/accounts/requests/<int:request_id>/reject")
@permission_required("accounts.manage")
def reject(request_id: int):
    try:
        write(lambda s: service.reject_request(s, request_id, uid(), services().now()))
    except account_service.AccountNotFound:
        abort(404)
    except account_service.AccountError as exc:
        flash_refusal(exc, "操作失败：")
        return _back_to_requests()
    flash("已拒绝该好友请求", "success")
    return _back_to_requests()


@bp.get("/accounts/rules")
@permission_required("accounts.view")
def rules():
    rows, account_names = read(lambda s: (service.list_rules(s), account_service.account_names(s)))
    return render_template("accounts/rules.html", rows=rows, account_names=account_names,
                           source_labels=service.SOURCE_LABELS)


def _form_values() -> dict:
    return {"name": request.form.get("name", ""), "keywords": request.form.get("keywords", ""),
            "sources": request.form.getlist("sources"), "daily_cap": request.form.get("daily_cap", ""),
            "start_time": request.form.get("start_time", ""), "end_time": request.form.get("end_time", ""),
            "account_ids": request.form.getlist("account_ids"), "enabled": request.form.get("enabled") == "1"}


def _rule_form(rule, values: dict, errors: dict, status: int = 200):
    account_names = read(account_service.account_names)
    return render_template("accounts/rule_form.html", rule=rule, values=values, errors=errors,
                           account_options=list(account_names.items()),
                           source_options=list(service.SOURCE_LABELS.items())), status


@bp.route("/accounts/rules/new", methods=["GET", "POST"])
@permission_required("accounts.manage")
def rule_new():
    values = {"name": "", "keywords": "", "sources": [], "daily_cap": "20", "start_time": "09:00",
              "end_time": "21:00", "account_ids": [], "enabled": True}
    if request.method == "POST":
        values = _form_values()
        try:
            rule = write(lambda s: service.create_rule(s, values))
        except account_service.AccountError as exc:
            return _rule_form(None, values, error_map(exc), 400)
        flash(f"已添加自动通过规则「{rule.name}」", "success")
        return redirect(url_for("accounts.rules"))
    return _rule_form(None, values, {})


@bp.route("/accounts/rules/<int:rule_id>/edit", methods=["GET", "POST"])
@permission_required("accounts.manage")
def rule_edit(rule_id: int):
    try:
        rule = read(lambda s: service.get_rule(s, rule_id))
    except account_service.AccountNotFound:
        abort(404)
    values = {"name": rule.name, "keywords": "\n".join(rule.keywords or []), "sources": rule.sources or [],
              "daily_cap": str(rule.daily_cap), "start_time": rule.start_time, "end_time": rule.end_time,
              "account_ids": rule.account_ids or [], "enabled": rule.enabled}
    if request.method == "POST":
        values = _form_values()
        try:
            write(lambda s: service.update_rule(s, rule_id, values))
        except account_service.AccountError as exc:
            return _rule_form(rule, values, error_map(exc), 400)
        flash(f"已保存自动通过规则「{values['name'].strip()}」", "success")
        return redirect(url_for("accounts.rules"))
    return _rule_form(rule, values, {})


@bp.post("/accounts/rules/<int:rule_id>/toggle")
@permission_required("accounts.manage")
def rule_toggle(rule_id: int):
    try:
        rule = write(lambda s: service.set_rule_enabled(s, rule_id, request.form.get("enabled") == "1"))
    except account_service.AccountNotFound:
        abort(404)
    flash(f"已{'启用' if rule.enabled else '停用'}规则「{rule.name}」", "success")
    return redirect(url_for("accounts.rules"))


@bp.post("/accounts/rules/<int:rule_id>/delete")
@permission_required("accounts.manage")
def rule_delete(rule_id: int):
    try:
        write(lambda s: service.delete_rule(s, rule_id))
    except account_service.AccountNotFound:
        abort(404)
    flash("已删除规则", "success")
    return redirect(url_for("accounts.rules"))
