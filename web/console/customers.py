"""客户档案: the customer list with its four views, header quick filters, column chooser, advanced
filter (condition rows + 包含/不包含标签 + sort) saved as 查询方案, and the bulk actions bar.
The detail page, forms and attachments live in customers_detail.py on the same blueprint."""
from __future__ import annotations


from urllib.parse import parse_qsl

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.customers import exporting, saved_queries
from crm.customers.bulk import BulkAction, run_bulk
from crm.customers.fieldset import customer_fields
from crm.customers.listing import QUICK_FILTERS, VIEWS, ListQuery, available_columns, chosen_columns, list_customers
from crm.customers.display import Presenter
from crm.errors import CrmError
from rules.conditions import operators_metadata
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, read, selected_ids
from web.console.worktasks_forms import user_choices
from web.extensions import services
from web.input_limits import int_values, page_number

bp = Blueprint("customers", __name__)

# Bulk actions: (permission, function path) — wired when the owning area's module exists.
BULK_LABELS = {"recycle": "移入回收站", "tag": "打标签", "group": "加入分组", "assign": "分配给业务员",
               "release_group": "退回小组公海", "release_company": "退回公司公海"}


def _uid():
    return g.user.id


def _perms():
    return g.permissions


def _advanced(args) -> dict:
    try:
        data = current_app.json.loads(args.get("adv") or "{}")
    except ValueError:
        data = {}
    return saved_queries.clean_query(data)


def _query_from(args) -> tuple[ListQuery, dict]:
    """The list's query (view, quick filters q_*, advanced filter adv / saved scheme, sort, page)."""
    adv = _advanced(args)
    saved_id = args.get("saved", type=int)
    if saved_id:
        try:
            adv = read(lambda s: saved_queries.get_saved(s, _uid(), saved_id)).query
        except CrmError:
            pass
    quick = {k[2:]: v for k, v in args.items() if k.startswith("q_") and v.strip()}
    q = ListQuery(view=args.get("view", "all") if args.get("view") in VIEWS else "all",
                  quick=quick, rows=adv.get("rows") or [], include_tags=adv.get("include_tags") or [],
                  exclude_tags=adv.get("exclude_tags") or [],
                  sort=args.get("sort") or adv.get("sort") or "-id",
                  page=page_number(args.get("page")))
    return q, adv


def _column_keys() -> list[str]:
    raw = request.args.get("cols", "")
    return [c for c in raw.split(",") if c]


def _tag_choices(session):
    try:
        from crm.tags.service import choices
    except ImportError:
        return []
    return [(t.id, t.name) for t in choices(session, _uid())]


def _group_choices(session):
    from crm.groups.models import CustomerGroup

    return [(grp.id, grp.name) for grp in session.scalars(select(CustomerGroup).order_by(CustomerGroup.position,
                                                                                         CustomerGroup.id))]


@bp.get("/customers")
@permission_required("customers.view")
def index():
    q, adv = _query_from(request.args)
    tz = services().settings.timezone
    error = None

    def load(s):
        cols = chosen_columns(s, _column_keys())
        try:
            page = list_customers(s, _uid(), _perms(), q, tz=tz)
        except CrmError as exc:
            nonlocal error
            error = error_map(exc)
            page = {"total": 0, "page": 1, "pages": 1, "customers": []}
        rows = Presenter(s).rows(page["customers"], cols)
        return {"page": page, "rows": rows, "columns": cols, "all_columns": available_columns(s),
                "saved": saved_queries.list_saved(s, _uid()), "fields": customer_fields(s),
                "tags": _tag_choices(s), "groups": _group_choices(s), "users": user_choices(s)}

    data = read(load)
    args = {k: v for k, v in request.args.items() if k != "page"}
    sort_options = [("-id", "最新创建在前"), ("id", "最早创建在前"), ("-tag_score", "标签分值从高到低"),
                    ("-follow_count", "跟进次数从多到少"), ("-last_followed_at", "最近跟进在前")]
    for f in data["fields"]:
        if f.get("custom") and f["custom_type"] in ("number", "date"):
            sort_options += [(f"-{f['name']}", f"{f['label']}从大到小"), (f["name"], f"{f['label']}从小到大")]
    return render_template("customers/index.html", sort_options=sort_options, q=q, adv=adv, views=VIEWS, quick_filters=QUICK_FILTERS,
                           error=error, args=args, bulk=available_bulk(), operators=operators_metadata(),
                           chosen_keys=[c["key"] for c in data["columns"]], **data)


def available_bulk() -> dict:
    """The bulk actions whose service exists and which this user may run."""
    out = {}
    try:
        import crm.groups.membership  # noqa: F401
        has_groups = True
    except ImportError:
        has_groups = False
    try:
        import crm.tags.apply  # noqa: F401
        has_tags = True
    except ImportError:
        has_tags = False
    perms = _perms()
    if "customers.manage" in perms and has_groups:
        for key in ("recycle", "group", "assign", "release_group", "release_company"):
            out[key] = BULK_LABELS[key]
    if "tags.apply" in perms and has_tags:
        out["tag"] = BULK_LABELS["tag"]
    return out


@bp.post("/customers/bulk/<action>")
@permission_required("customers.view")
def bulk(action: str):
    if action not in available_bulk():
        flash("无权执行该操作，或该功能尚未启用", "danger")
        return redirect(request.referrer or url_for("customers.index"))
    req = BulkAction(action, selected_ids("ids"), group_id=request.form.get("group_id", type=int),
                     user_id=request.form.get("user_id", type=int), reason=(request.form.get("reason") or "").strip(),
                     tag_ids=int_values(request.form.getlist("tag_ids")))
    svc = services()
    try:
        with svc.db.write() as s:
            count = run_bulk(s, current_viewer(), req, now=svc.now(), tz=svc.settings.timezone)
    except CrmError as exc:
        flash(exc.message + "".join(f"：{v}" for v in (exc.errors or {}).values()), "danger")
    else:
        flash(f"{BULK_LABELS[action]}：已处理 {count} 位客户", "success")
    return redirect(request.referrer or url_for("customers.index"))


@bp.post("/customers/saved")
@permission_required("customers.view")
def save_query():
    try:
        query = current_app.json.loads(request.form.get("adv") or "{}")
    except ValueError:
        query = {}
    try:
        with services().db.write() as s:
            row = saved_queries.save_query(s, _uid(), request.form.get("name", ""), query)
    except CrmError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("customers.index"))
    flash(f"已保存查询方案「{row.name}」", "success")
    return redirect(url_for("customers.index", saved=row.id))


@bp.post("/customers/saved/<int:query_id>/delete")
@permission_required("customers.view")
def delete_query(query_id: int):
    try:
        with services().db.write() as s:
            saved_queries.delete_saved(s, _uid(), query_id)
    except CrmError as exc:
        flash(exc.message, "danger")
    else:
        flash("已删除查询方案", "success")
    return redirect(url_for("customers.index"))


@bp.post("/customers/export")
@permission_required("customers.export")
def export():
    q, _ = _query_from(MultiDict(parse_qsl(request.form.get("query", ""))))
    svc = services()
    try:
        job = exporting.submit_export(svc.db, svc.settings.var_dir, q, _form_columns(), request.form.get("format", "xlsx"),
                                      user_id=_uid(), permissions=_perms(), tz=svc.settings.timezone, now=svc.now())
    except CrmError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("customers.index"))
    flash(f"导出任务已提交（任务 #{job.id}），完成后可在「导入导出记录」下载", "success")
    return redirect(url_for("imports.index", job=job.id))


def _form_columns() -> list[str]:
    return [c for c in (request.form.get("cols") or "").split(",") if c]


from web.console import customers_detail  # noqa: E402,F401  (registers the detail routes on bp)
