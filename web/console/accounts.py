"""微信号管理: accounts (status, 健康分 with its history chart, today's adds/sends against the
caps, owner, 暂停/恢复), friends (search, WeChat labels, linked CRM customers, 关联客户), and
groups with their members. Friend requests and 自动通过规则 are in accounts_requests.py."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from conversations import friend_profile
from devices import accounts as service
from devices.health import band_label
from engine.friend_links import link_friends_to_customers
from web.auth.guards import current_viewer, permission_required
from web.console.devices_common import flash_refusal, health_chart, int_arg, read, staff_names, write, safe_next
from web.console.forms_common import page_arg, pages, query_args
from web.extensions import services

bp = Blueprint("accounts", __name__)
PER_PAGE = 20
STATUS_OPTIONS = [("", "全部状态")] + list(service.STATUS_LABELS.items())


@bp.get("/accounts")
@permission_required("accounts.view")
def index():
    svc = services()
    status, keyword = request.args.get("status", ""), request.args.get("q", "").strip()
    rows, names = read(lambda s: (service.list_accounts(s, svc.now(), svc.settings, keyword=keyword, status=status),
                                  staff_names(s)))
    return render_template("accounts/index.html", rows=rows, names=names, status=status, keyword=keyword,
                           status_options=STATUS_OPTIONS, status_labels=service.STATUS_LABELS, band=band_label)


@bp.get("/accounts/<int:account_id>")
@permission_required("accounts.view")
def show(account_id: int):
    svc = services()

    def load(s):
        row = service.account_row(s, account_id, svc.now(), svc.settings)
        return (row, service.health_history(s, account_id), staff_names(s),
                service.list_groups(s, account_id), service.search_friends(s, service.FriendQuery(account_id=account_id),
                                                                           per_page=10))

    try:
        row, history, names, groups, (friends, friend_total) = read(load)
    except service.AccountNotFound:
        abort(404)
    tz = svc.settings.timezone
    from config.clock import format_local  # local labels for the chart's axis

    points = [(format_local(h.created_at, "%m-%d %H:%M", tz), h.score_after) for h in history]
    if not points or points[-1][1] != row.account.health_score:
        points.append(("现在", row.account.health_score))
    return render_template("accounts/show.html", row=row, account=row.account, history=list(reversed(history)),
                           chart=health_chart(points), names=names, groups=groups, friends=friends,
                           friend_total=friend_total, status_labels=service.STATUS_LABELS, band=band_label)


def _back(account_id: int):
    return redirect(safe_next(url_for("accounts.show", account_id=account_id)))


@bp.post("/accounts/<int:account_id>/pause")
@permission_required("accounts.manage")
def pause(account_id: int):
    try:
        write(lambda s: service.pause(s, account_id, request.form.get("hours", "24"), request.form.get("reason", ""),
                                      services().now()))
    except service.AccountNotFound:
        abort(404)
    except service.AccountError as exc:
        flash_refusal(exc, "暂停失败：")
        return _back(account_id)
    flash("已暂停该微信号，期间不会执行任何指令", "success")
    return _back(account_id)


@bp.post("/accounts/<int:account_id>/resume")
@permission_required("accounts.manage")
def resume(account_id: int):
    try:
        write(lambda s: service.resume(s, account_id))
    except service.AccountNotFound:
        abort(404)
    except service.AccountError as exc:
        flash_refusal(exc, "恢复失败：")
        return _back(account_id)
    flash("已恢复该微信号", "success")
    return _back(account_id)


@bp.post("/accounts/<int:account_id>/owner")
@permission_required("accounts.manage")
def owner(account_id: int):
    owner_id = int_arg(request.form.get("owner_id"))
    try:
        write(lambda s: service.set_owner(s, account_id, owner_id if owner_id in staff_names(s) else None))
    except service.AccountNotFound:
        abort(404)
    flash("已更新负责人", "success")
    return _back(account_id)


@bp.get("/accounts/friends")
@permission_required("accounts.view")
def friends():
    q = service.FriendQuery(account_id=int_arg(request.args.get("account")), keyword=request.args.get("q", "").strip(),
                            tag=request.args.get("tag", ""), linked=request.args.get("linked", ""))
    page = page_arg()
    rows, total, tags, account_names = read(lambda s: (*service.search_friends(s, q, page, PER_PAGE),
                                                       service.friend_tags(s), service.account_names(s)))
    return render_template("accounts/friends.html", rows=rows, total=total, page=page, pages=pages(total, PER_PAGE),
                           q=q, tags=tags, account_names=account_names,
                           args=query_args("account", "q", "tag", "linked"))


@bp.post("/accounts/friends/link")
@permission_required("accounts.manage")
def link_friends():
    linked = write(link_friends_to_customers)
    flash(f"已按手机号/微信号关联 {linked} 位好友到客户档案" if linked else "没有可新关联的好友", "success")
    return redirect(url_for("accounts.friends", linked="yes" if linked else None))


@bp.get("/accounts/groups")
@permission_required("accounts.view")
def groups():
    account_id, keyword = int_arg(request.args.get("account")), request.args.get("q", "").strip()
    rows, account_names = read(lambda s: (service.list_groups(s, account_id, keyword), service.account_names(s)))
    return render_template("accounts/groups.html", rows=rows, account_names=account_names, account_id=account_id,
                           keyword=keyword)


@bp.get("/accounts/groups/<int:group_id>")
@permission_required("accounts.view")
def group(group_id: int):
    viewer = current_viewer()

    def load(s):
        row, members = service.get_group(s, group_id), service.group_members(s, group_id)
        links = friend_profile.friend_links(s, viewer, [(row.account_id, m.wxid) for m in members])
        return row, members, service.account_names(s), links

    try:
        row, members, account_names, links = read(load)
    except service.AccountNotFound:
        abort(404)
    return render_template("accounts/group.html", group=row, members=members, account_names=account_names,
                           friend_ids={wxid: fid for (_a, wxid), fid in links.items()})


from web.console import accounts_requests  # noqa: E402,F401 - its routes live on this blueprint
