"""客户批量转移 (a leaving salesperson's customers, all or some, to another one, with a reason and
转移记录) and 回收站客户 (list, 退回公海)."""
from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import exists, func, or_, select

from config.clock import UTC
from crm.customers.models import Customer
from crm.errors import CrmError
from crm.groups.logs import LogFilter, transfer_records
from crm.groups.membership import restore_from_recycle_bin, transfer
from crm.groups.models import GroupLink
from crm import scope
from web.auth.guards import current_viewer, permission_required
from web.console import groups_forms as forms
from web.console.forms_common import PER_PAGE, page_arg, pages, selected_ids
from web.console.groups import bp, read, refusal, services, tz, uid, write
from web.console.masking_filters import mask_list

MAX_LISTED = 500


def _held_by(user_id: int):
    """The user's customers that the signed-in manager may see (crm.scope), for the transfer page."""
    holds = exists().where(GroupLink.customer_id == Customer.id, GroupLink.assignee_id == user_id)
    return (Customer.status == "active", or_(Customer.owner_id == user_id, holds), scope.customers(current_viewer()))


@bp.get("/groups/transfer", endpoint="transfer")
@permission_required("customers.transfer")
def transfer_page():
    from_id = request.args.get("from_user_id", type=int)
    svc = services()

    def load(s):
        customers, total = [], 0
        if from_id:
            total = s.scalar(select(func.count()).select_from(Customer).where(*_held_by(from_id))) or 0
            customers = list(s.scalars(select(Customer).where(*_held_by(from_id)).order_by(Customer.id)
                                       .limit(MAX_LISTED)))
        history, _ = transfer_records(s, LogFilter(kind="transfer", since=datetime(2000, 1, 1, tzinfo=UTC),
                                                   viewer=current_viewer(),
                                                   per_page=20), svc.now(), tz())
        return {"users": forms.user_choices(s), "customers": customers, "total": total, "history": history}

    return render_template("groups/transfer.html", **read(load), from_id=from_id, max_listed=MAX_LISTED,
                           values=request.args, mask=mask_list)


@bp.post("/groups/transfer", endpoint="transfer_post")
@permission_required("customers.transfer")
def transfer_post():
    from_id = request.form.get("from_user_id", type=int)
    to_id = request.form.get("to_user_id", type=int)
    reason = (request.form.get("reason") or "").strip()
    chosen = selected_ids("customer_ids") if request.form.get("mode") == "selected" else None
    try:
        count = write(lambda s: transfer(s, from_id, to_id, chosen, reason, uid(), now=services().now(),
                                         viewer=current_viewer()))
    except CrmError as exc:
        flash(refusal(exc), "danger")
        return redirect(url_for("groups.transfer", from_user_id=from_id or ""))
    flash(f"已转移 {count} 位客户", "success")
    return redirect(url_for("groups.transfer"))


@bp.get("/groups/recycle-bin")
@permission_required("customers.manage")
def recycle_bin():
    page = page_arg()
    text = (request.args.get("q") or "").strip()

    def load(s):
        where = [Customer.status == "recycled"]
        if text:
            where.append(Customer.name.contains(text))
        total = s.scalar(select(func.count()).select_from(Customer).where(*where)) or 0
        rows = list(s.scalars(select(Customer).where(*where).order_by(Customer.updated_at.desc(), Customer.id.desc())
                              .offset((page - 1) * PER_PAGE).limit(PER_PAGE)))
        return rows, total

    rows, total = read(load)
    return render_template("groups/recycle_bin.html", rows=rows, total=total, page=page, pages=pages(total),
                           q=text, mask=mask_list)


@bp.post("/groups/recycle-bin/restore")
@permission_required("customers.manage")
def recycle_restore():
    ids = selected_ids("ids")
    if not ids:
        flash("请先勾选客户", "warning")
        return redirect(url_for("groups.recycle_bin"))
    count = write(lambda s: restore_from_recycle_bin(s, ids, uid(), now=services().now()))
    flash(f"已将 {count} 位客户退回公海", "success")
    return redirect(url_for("groups.recycle_bin"))
