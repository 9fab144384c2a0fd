"""定向营销: plans (target tags, template, once / daily / every N days at a time, refresh the list
or freeze it), their status and next push, cancel, copy, and the push history of each plan."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlmodel import select

from commerce import audience as product_audience
from commerce.catalog.models import ProductSpu
from crm.errors import CrmError, NotFound
from crm.sales import marketing as service
from crm.sales.templates import CHANNELS, list_templates
from crm.tags.models import Tag
from web.auth.guards import permission_required
from web.console.masking_filters import mask_list
from web.console.forms_common import PER_PAGE, error_map, page_arg, pages, read
from web.console.worktasks_forms import me, now, save, tz

bp = Blueprint("marketing", __name__)
PRODUCT_CHOICES = 500  # the most recently changed products on shelf; a plan's own product is always offered


@bp.get("/marketing")
@permission_required("marketing.view")
def index():
    status = request.args.get("status") or None
    rows, total = read(lambda s: service.list_plans(s, status, page_arg(), PER_PAGE))
    names = read(lambda s: service.tag_names(s, {t for r in rows for t in r["plan"].include_tags + r["plan"].exclude_tags}))
    return render_template("marketing/list.html", rows=rows, total=total, status=status, page=page_arg(),
                           pages=pages(total), statuses=service.PLAN_STATUSES, schedules=service.SCHEDULES,
                           tag_names=names)


def _choices(session) -> dict:
    tags = session.exec(select(Tag).where(Tag.enabled == True, Tag.kind != "personal")  # noqa: E712
                        .order_by(Tag.category_id, Tag.id)).all()
    templates = list_templates(session, enabled_only=True)
    products = session.exec(select(ProductSpu.id, ProductSpu.name, ProductSpu.code).where(
        ProductSpu.shelf == "on", ProductSpu.deleted_at.is_(None)).order_by(ProductSpu.updated_at.desc())
        .limit(PRODUCT_CHOICES)).all()
    return {"tags": [(t.id, t.name) for t in tags], "products": [(i, f"{name}（{code}）") for i, name, code in products],
            "templates": [(t.id, f"{t.name}（{CHANNELS[t.channel]}）") for t in templates]}


def _form() -> dict:
    f = request.form
    try:
        starts_on = date.fromisoformat(f.get("starts_on", "").strip()) if f.get("starts_on", "").strip() else None
    except ValueError:
        starts_on = "bad"
    return {"name": f.get("name", ""), "include_tags": f.getlist("include_tags"),
            "exclude_tags": f.getlist("exclude_tags"), "template_id": f.get("template_id"),
            "product_id": f.get("product_id") or None,
            "schedule": f.get("schedule", "once"), "every_days": f.get("every_days", ""),
            "run_time": f.get("run_time", ""), "starts_on": starts_on,
            "refresh_audience": f.get("refresh_audience") == "1"}


def _with_product(fn):
    """商品定向营销: the chosen product must exist (crm keeps only its id)."""
    def work(s):
        if values_product := request.form.get("product_id"):
            try:
                product_audience.get_product(s, values_product)
            except NotFound:
                raise CrmError("推广商品不存在或已删除", {"product_id": "推广商品不存在或已删除"}) from None
        return fn(s)
    return work


def _page(plan, values, errors, status=200):
    if values.get("starts_on") == "bad":
        values = {**values, "starts_on": request.form.get("starts_on", "")}
    choices = read(_choices)
    chosen = str(values.get("product_id") or "")
    if chosen and chosen not in {str(i) for i, _ in choices["products"]}:
        choices["products"].append((chosen, f"商品 #{chosen}"))
    return render_template("marketing/form.html", plan=plan, values=values, errors=errors, choices=choices,
                           schedules=service.SCHEDULES), status


@bp.route("/marketing/new", methods=["GET", "POST"])
@permission_required("marketing.manage")
def new():
    if request.method == "POST":
        values = _form()
        try:
            plan = save(_with_product(lambda s: service.create_plan(s, values, me(), now(), tz())))
        except CrmError as exc:
            return _page(None, values, error_map(exc), 400)
        flash(f"已创建营销计划「{plan.name}」", "success")
        return redirect(url_for("marketing.index"))
    return _page(None, {"schedule": "once", "every_days": 2, "run_time": "10:00", "refresh_audience": True,
                        "include_tags": [], "exclude_tags": []}, {})


def _plan(plan_id: int):
    try:
        return read(lambda s: service.get_plan(s, plan_id))
    except NotFound:
        abort(404)


@bp.route("/marketing/<int:plan_id>", methods=["GET", "POST"])
@permission_required("marketing.manage")
def edit(plan_id: int):
    plan = _plan(plan_id)
    if request.method == "POST":
        values = _form()
        try:
            save(_with_product(lambda s: service.update_plan(s, plan_id, values, now(), tz())))
        except CrmError as exc:
            return _page(plan, values, error_map(exc), 400)
        flash("营销计划已保存", "success")
        return redirect(url_for("marketing.index"))
    return _page(plan, plan.model_dump(), {})


@bp.post("/marketing/<int:plan_id>/cancel")
@permission_required("marketing.manage")
def cancel(plan_id: int):
    try:
        save(lambda s: service.cancel_plan(s, plan_id))
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "error")
        return redirect(url_for("marketing.index"))
    flash("营销计划已取消，不会再推送", "success")
    return redirect(url_for("marketing.index"))


@bp.post("/marketing/<int:plan_id>/copy")
@permission_required("marketing.manage")
def copy(plan_id: int):
    try:
        plan = save(lambda s: service.copy_plan(s, plan_id, me(), now(), tz()))
    except NotFound:
        abort(404)
    flash(f"已复制为「{plan.name}」，可以修改后使用", "success")
    return redirect(url_for("marketing.edit", plan_id=plan.id))


@bp.get("/marketing/<int:plan_id>/runs")
@permission_required("marketing.view")
def runs(plan_id: int):
    plan = _plan(plan_id)
    rows = read(lambda s: service.list_runs(s, plan_id))
    # Reasons quote (already masked) numbers; mask again for lists in case a gateway echoed one.
    reasons = {r.id: [{**d, "reason": mask_list(d.get("reason", ""))} for d in r.detail or []] for r in rows}
    names = read(lambda s: service.tag_names(s, plan.include_tags + plan.exclude_tags))
    return render_template("marketing/runs.html", plan=plan, rows=rows, reasons=reasons, tag_names=names,
                           statuses=service.PLAN_STATUSES, schedules=service.SCHEDULES)
