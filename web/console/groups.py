"""客户分组管理: the groups with their managers and salespeople and 请求任务设置; per group the
分配规则 (ordered by drag and drop), the 回收规则 and "立即分配" as a background job with progress;
and 我的分组, where a salesperson asks for more customers when the group allows it.

The 分组规则, transfer and recycle-bin pages are in groups_rules.py and groups_ops.py (same
blueprint)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from crm.errors import CrmError, NotFound
from crm.groups import allocation, recycle, schedule, service
from crm.groups.links import get_group
from crm.groups.requests import request_status, request_customers
from crm.jobs.runner import job_status, list_jobs
from web.auth.guards import login_required, permission_required
from web.console import groups_forms as forms
from web.console.forms_common import error_map
from web.extensions import services

bp = Blueprint("groups", __name__)


def uid():
    return g.user.id if g.get("user") is not None else None


def tz() -> str:
    return services().settings.timezone


def read(fn):
    with services().db.read() as session:
        return fn(session)


def write(fn):
    with services().db.write() as session:
        return fn(session)


def refusal(exc: CrmError) -> str:
    details = "；".join(str(v) for v in (exc.errors or {}).values() if str(v) != exc.message)
    return exc.message + (f"（{details}）" if details else "")


@bp.get("/groups")
@permission_required("groups.view")
def index():
    return render_template("groups/index.html", rows=read(service.list_groups))


def _form_page(group=None, values=None, errors=None, status=200):
    choices = read(forms.user_choices)
    return render_template("groups/form.html", group=group, values=values or {}, errors=errors or {},
                           user_choices=choices), status


def _values_of(group, members) -> dict:
    return {"name": group.name, "remark": group.remark, "allow_requests": group.allow_requests,
            "requests_per_day": group.requests_per_day, "customers_per_request": group.customers_per_request,
            "managers": [m["user"].id for m in members if m["role"] == "manager"],
            "sales": [m["user"].id for m in members if m["role"] == "sales"]}


def _posted_values(data: dict) -> dict:
    return {**data, "managers": forms.ints("managers"), "sales": forms.ints("sales")}


@bp.route("/groups/new", methods=["GET", "POST"])
@permission_required("groups.manage")
def new():
    if request.method == "POST":
        data = forms.group_form()
        try:
            group = write(lambda s: service.create_group(s, data))
        except CrmError as exc:
            return _form_page(None, _posted_values(data), error_map(exc), 400)
        flash(f"已创建分组「{group.name}」", "success")
        return redirect(url_for("groups.group", group_id=group.id))
    return _form_page(None, {"requests_per_day": 0, "customers_per_request": 0})


@bp.route("/groups/<int:group_id>/edit", methods=["GET", "POST"])
@permission_required("groups.manage")
def group_edit(group_id: int):
    try:
        group, members = read(lambda s: (get_group(s, group_id), service.members_by_group(s).get(group_id, [])))
    except NotFound:
        abort(404)
    if request.method == "POST":
        data = forms.group_form()
        try:
            write(lambda s: service.update_group(s, group_id, data))
        except CrmError as exc:
            return _form_page(group, _posted_values(data), error_map(exc), 400)
        flash(f"已保存分组「{data['name'].strip()}」", "success")
        return redirect(url_for("groups.group", group_id=group_id))
    return _form_page(group, _values_of(group, members))


@bp.post("/groups/<int:group_id>/delete")
@permission_required("groups.manage")
def group_delete(group_id: int):
    try:
        write(lambda s: service.delete_group(s, group_id))
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(refusal(exc), "danger")
        return redirect(url_for("groups.group", group_id=group_id))
    flash("已删除分组", "success")
    return redirect(url_for("groups.index"))


@bp.get("/groups/<int:group_id>")
@permission_required("groups.view")
def group(group_id: int):
    def load(s):
        return {"group": get_group(s, group_id), "members": service.members_by_group(s).get(group_id, []),
                "allocation_rules": allocation.list_rules(s, group_id), "recycle_rules": recycle.list_rules(s, group_id),
                "counts": next((r for r in service.list_groups(s) if r["group"].id == group_id), {})}

    try:
        data = read(load)
    except NotFound:
        abort(404)
    jobs = [j for j in list_jobs(services().db, kind=schedule.JOB_ALLOCATION, limit=20)
            if (j.params or {}).get("group_id") == group_id][:5]
    names = {m["user"].id: m["user"].display_name or m["user"].username for m in data["members"]}
    return render_template("groups/detail.html", **data, jobs=jobs, member_names=names,
                           tab=request.args.get("tab", "allocation"))


@bp.post("/groups/<int:group_id>/allocate")
@permission_required("allocation.manage")
def allocate_now(group_id: int):
    try:
        read(lambda s: get_group(s, group_id))
    except NotFound:
        abort(404)
    job = schedule.submit_allocation(services().db, group_id, uid(), tz())
    if request.is_json:
        return jsonify({"job": job_status(services().db, job.id)})
    flash(f"已提交分配任务 #{job.id}，完成后可在下方查看结果", "success")
    return redirect(url_for("groups.group", group_id=group_id, job=job.id))


@bp.get("/groups/jobs/<int:job_id>")
@permission_required("groups.view")
def job(job_id: int):
    status = job_status(services().db, job_id)
    if status is None or status["kind"] not in (schedule.JOB_ALLOCATION, schedule.JOB_GROUP_RULES):
        abort(404)
    return jsonify(status)


@bp.get("/groups/mine")
@login_required
def mine():
    svc = services()

    def load(s):
        return [{"group": grp, "role": role, "status": request_status(s, grp.id, uid(), svc.now(), tz())}
                for grp, role in service.groups_of_user(s, uid())]

    return render_template("groups/mine.html", rows=read(load))


@bp.post("/groups/<int:group_id>/request")
@login_required
def request_more(group_id: int):
    svc = services()
    try:
        count = write(lambda s: request_customers(s, group_id, uid(), svc.now(), tz()))
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "warning")
    else:
        flash(f"已为你分配 {count} 位客户，并生成了跟进任务", "success")
    return redirect(url_for("groups.mine"))


# The rest of the blueprint's pages register their routes on `bp` when imported.
from web.console import groups_ops, groups_rules  # noqa: E402,F401
