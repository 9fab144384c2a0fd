"""代客下单: a salesperson places an order for one of their customers — pick the customer (only
the ones they may see; a search narrows the list), up to LINE_ROWS SKUs with quantities (the
price is the SKU's unless 改价 is allowed and a price is typed), line and order discounts in 元, the
credited staff (the customer's owner by default) and a remark. The units are reserved at once;
a problem is shown next to its field and nothing is written.
"""
from __future__ import annotations

import re

from flask import flash, g, redirect, render_template, request, url_for
from sqlmodel import col, select

from commerce.catalog.models import ProductSku, ProductSpu
from commerce.errors import CommerceError
from commerce.orders import service
from commerce.orders.money import yuan_to_fen
from crm import scope
from crm.customers.models import Customer
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import FORM_ERROR, error_map, read
from web.console.orders import _staff, bp
from web.extensions import services
from web.input_limits import optional_int

LINE_ROWS = 5
MAX_CHOICES = 200
_LINE_FIELD = re.compile(r"^lines\[(\d+)\]\.(\w+)$")
FORM_NAMES = {"sku_id": "sku", "quantity": "qty", "unit_price_fen": "price", "discount_fen": "discount"}


def _choices(s, customer_id, q: str) -> dict:
    viewer = current_viewer()
    query = select(Customer.id, Customer.name).where(scope.customers(viewer))
    if q:
        query = query.where(col(Customer.name).contains(q) | (Customer.id == (optional_int(q) or -1)))
    customers = list(s.exec(query.order_by(col(Customer.updated_at).desc()).limit(MAX_CHOICES)).all())
    if customer_id and customer_id not in {c for c, _ in customers}:
        chosen = s.exec(select(Customer.id, Customer.name).where(Customer.id == customer_id,
                                                                 scope.customers(viewer))).first()
        customers = ([tuple(chosen)] if chosen else []) + customers
    skus = s.exec(select(ProductSku, ProductSpu).join(ProductSpu, ProductSpu.id == ProductSku.spu_id)
                  .where(ProductSku.status == "active", ProductSpu.shelf == "on", col(ProductSpu.deleted_at).is_(None))
                  .order_by(ProductSpu.name, ProductSku.code).limit(500)).all()
    return {"customers": customers, "staff": _staff(s),
            "skus": [(sku.id, f"{spu.name} · {sku.code}{' · ' + '/'.join(map(str, (sku.specs or {}).values())) if sku.specs else ''}"
                      f" · ¥{sku.price_fen / 100:.2f} · 可售 {sku.on_hand - sku.reserved}") for sku, spu in skus]}


def _form(values: dict, errors: dict, status: int = 200):
    data = read(lambda s: _choices(s, optional_int(values.get("customer_id")), values.get("cq", "")))
    return render_template("orders/new.html", v=values, errors=errors, rows=range(LINE_ROWS),
                           can_price="orders.manage" in g.permissions, **data), status


def _parse(form) -> tuple[dict, dict]:
    """The form → the service's data (amounts in 分); errors keyed by the form's own field names."""
    errors, lines = {}, []
    for i in range(LINE_ROWS):
        sku = (form.get(f"sku_{i}") or "").strip()
        if not sku:
            continue
        line = {"sku_id": sku, "quantity": (form.get(f"qty_{i}") or "1").strip(), "row": i}
        for name, key, label in (("price", "unit_price_fen", "单价"), ("discount", "discount_fen", "行优惠")):
            text = (form.get(f"{name}_{i}") or "").strip()
            if text:
                try:
                    line[key] = yuan_to_fen(text, f"{name}_{i}", label)
                except CommerceError as exc:
                    errors.update(error_map(exc))
        lines.append(line)
    data = {"customer_id": form.get("customer_id") or None, "credited_user_id": form.get("credited_user_id") or None,
            "remark": form.get("remark", "")[:500], "lines": lines}
    if (form.get("discount") or "").strip():
        try:
            data["discount_fen"] = yuan_to_fen(form["discount"], "discount", "整单优惠")
        except CommerceError as exc:
            errors.update(error_map(exc))
    if not lines:
        errors["sku_0"] = ["请至少选择一个商品"]
    return data, errors


def _form_errors(exc: CommerceError, rows: list[int]) -> dict:
    """Service field names (lines[1].quantity) → the form's (qty_3), so each message sits by its input."""
    out = {}
    for key, messages in error_map(exc).items():
        match = _LINE_FIELD.match(key)
        if match and int(match.group(1)) < len(rows):
            key = f"{FORM_NAMES.get(match.group(2), 'sku')}_{rows[int(match.group(1))]}"
        elif key in ("quantity",):  # over stock: the ledger names the SKU in the message
            key = FORM_ERROR
        elif key == "discount_fen":
            key = "discount"
        out.setdefault(key, []).extend(messages)
    return out


@bp.route("/orders/new", methods=["GET", "POST"])
@permission_required("orders.manage")
def new():
    if request.method == "GET":
        return _form({"customer_id": request.args.get("customer_id", ""), "cq": request.args.get("cq", "").strip()[:50]}, {})
    values = request.form.to_dict()
    data, errors = _parse(request.form)
    if errors:
        return _form(values, errors, 400)
    rows = [line.pop("row") for line in data["lines"]]
    svc = services()
    try:
        with svc.db.write() as s:
            order = service.create_order(s, data, current_viewer(), source="console", now=svc.now(),
                                         tz=svc.settings.timezone,
                                         reserve_minutes=svc.settings.order_reserve_minutes).order
    except CommerceError as exc:
        return _form(values, _form_errors(exc, rows), 400 if exc.status != 409 else 409)
    flash(f"已创建订单 {order.order_no}，库存已预占 {svc.settings.order_reserve_minutes} 分钟", "success")
    return redirect(url_for("orders.show", order_id=order.id))
