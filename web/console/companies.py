"""公司管理: companies with their customer counts, a detail page listing their customers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from crm.customers import companies as service
from crm.errors import CrmError, NotFound
from crm.tags.objects import forget_object
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, page_arg, pages, read
from web.extensions import services

bp = Blueprint("companies", __name__)
FIELDS = ("name", "industry", "address", "phone", "remark")


@bp.get("/companies")
@permission_required("companies.manage")
def index():
    q = (request.args.get("q") or "").strip()
    page = page_arg()
    rows, total = read(lambda s: service.list_companies(s, q, page))
    return render_template("companies/index.html", rows=rows, total=total, q=q, page=page, pages=pages(total))


def _data() -> dict:
    return {k: request.form.get(k, "") for k in FIELDS}


@bp.route("/companies/new", methods=["GET", "POST"])
@permission_required("companies.manage")
def new():
    values, errors = {k: "" for k in FIELDS}, {}
    if request.method == "POST":
        values = _data()
        try:
            with services().db.write() as s:
                row = service.create_company(s, values)
        except CrmError as exc:
            return render_template("companies/form.html", company=None, values=values, errors=error_map(exc)), 400
        flash(f"已创建公司「{row.name}」", "success")
        return redirect(url_for("companies.show", company_id=row.id))
    return render_template("companies/form.html", company=None, values=values, errors=errors)


@bp.route("/companies/<int:company_id>", methods=["GET", "POST"])
@permission_required("companies.manage")
def show(company_id: int):
    try:
        company = read(lambda s: service.get_company(s, company_id))
    except NotFound:
        abort(404)
    values, errors, status = {k: getattr(company, k) for k in FIELDS}, {}, 200
    if request.method == "POST":
        values = _data()
        try:
            with services().db.write() as s:
                service.update_company(s, company_id, values)
        except CrmError as exc:
            errors, status = error_map(exc), 400
        else:
            flash("已保存公司信息", "success")
            return redirect(url_for("companies.show", company_id=company_id))
    customers = read(lambda s: service.company_customers(s, company_id, current_viewer()))
    return render_template("companies/detail.html", company=company, values=values, errors=errors,
                           customers=customers), status


@bp.post("/companies/<int:company_id>/delete")
@permission_required("companies.manage")
def delete(company_id: int):
    try:
        with services().db.write() as s:
            service.delete_company(s, company_id)
            forget_object(s, "company", company_id)  # its 标签 links
    except NotFound:
        abort(404)
    flash("已删除公司（其客户保留，不再关联公司）", "success")
    return redirect(url_for("companies.index"))
