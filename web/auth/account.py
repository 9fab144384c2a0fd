"""个人: 站内通知 and my API tokens."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for

from crm.people import service as people
from web.auth.forms import errors_from, form_value, int_list, post_action
from web.auth.guards import login_required
from web.extensions import services
from web.input_limits import page_number

bp = Blueprint("account", __name__)
PAGE_SIZE = 20


@bp.get("/notifications")
@login_required
def notifications():
    unread_only = request.args.get("filter") == "unread"
    page = page_number(request.args.get("page"))
    items, total = people.list_notifications(services().db, g.user.id, unread_only=unread_only,
                                             limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    return render_template("auth/notifications.html", items=items, total=total, page=page,
                           pages=pages, unread_only=unread_only)


@bp.post("/notifications/read")
@login_required
def notifications_read():
    """Marks the posted ids read, or all of them when "all" is posted."""
    ids = None if request.form.get("all") else int_list("id")
    count = people.mark_read(services().db, g.user.id, ids)
    if request.accept_mimetypes.best == "application/json":
        return {"marked": count, "unread": people.unread_count(services().db, g.user.id)}
    flash(f"已将 {count} 条通知标为已读" if count else "没有需要标记的未读通知", "success")
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//"):
        return redirect(target)
    return redirect(url_for("account.notifications"))


@bp.route("/account/tokens", methods=["GET", "POST"])
@login_required
def tokens():
    errors, created, name = {}, None, ""
    db = services().db
    if request.method == "POST":
        name = form_value("name")
        try:
            created = people.create_token(db, g.user.username, name, services().clock.now())
        except people.PeopleError as exc:
            errors = errors_from(exc)
        else:
            name = ""
    rows = people.list_tokens(db, g.user.id)
    return render_template("auth/tokens.html", tokens=rows, created=created, errors=errors,
                           name=name), (400 if errors else 200)


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def token_revoke(token_id: int):
    return post_action(lambda: people.revoke_token(services().db, g.user.id, token_id),
                       lambda token: f"令牌「{token.name}」已吊销，使用它的调用将立即失败",
                       url_for("account.tokens"))
