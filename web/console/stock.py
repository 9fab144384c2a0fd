"""库存管理: the 库存流水 (every movement: 入库/出库/预占/释放/调整 with who and why; filters by SKU,
product, kind, date, order) and the 入库 / 出库 / 盘点调整 forms (stock.manage)."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from commerce.errors import CommerceError
from commerce.stock import operations
from commerce.stock.models import MOVEMENT_KINDS
from web.auth.guards import permission_required
from web.console.forms_common import error_map, page_arg, pages, parse_local, query_args, read
from web.extensions import services
from web.input_limits import optional_int

bp = Blueprint("stock", __name__)
PER_PAGE = 50
FILTERS = ("sku", "spu", "kind", "start", "end", "order")


def _users(session, ids) -> dict:
    from crm.people.models import User

    ids = [i for i in ids if i]
    return {u.id: u.display_name or u.username for u in session.exec(select(User).where(User.id.in_(ids)))} if ids else {}


def _page(errors=None, values=None, status: int = 200):
    query = operations.MovementQuery(
        sku_code=request.args.get("sku", ""), spu_id=optional_int(request.args.get("spu")),
        kind=request.args.get("kind", ""), start=parse_local(request.args.get("start", "")),
        end=parse_local(request.args.get("end", ""), end_of_day=True), order_id=optional_int(request.args.get("order")))
    page = page_arg()

    def load(s):
        rows, total = operations.list_movements(s, query, page, PER_PAGE)
        return rows, total, _users(s, {m.operator_id for m, *_ in rows})

    rows, total, users = read(load)
    return render_template("stock/index.html", rows=rows, total=total, page=page, pages=pages(total, PER_PAGE),
                           kinds=MOVEMENT_KINDS, operations=operations.OPERATIONS, users=users,
                           args=query_args(*FILTERS), errors=errors or {}, values=values or {}), status


@bp.get("/stock")
@permission_required("products.view")
def index():
    return _page()


@bp.post("/stock/operations")
@permission_required("stock.manage")
def operate():
    values = {k: request.form.get(k, "") for k in ("operation", "sku_code", "quantity", "reason")}
    try:
        with services().db.write() as s:
            level = operations.apply(s, values["operation"], values["sku_code"], values["quantity"].strip(),
                                     values["reason"], operator_id=g.user.id)
    except CommerceError as exc:
        errors = error_map(exc)
        errors.setdefault("__all__", [exc.message])
        return _page(errors, values, 400)
    label = operations.OPERATIONS[values["operation"]]
    flash(f"已{label}：{values['sku_code'].strip()} 现有库存 {level.on_hand}，可售 {level.available}", "success")
    return redirect(url_for("stock.index", sku=values["sku_code"].strip()))
