"""订单管理: every order the user may see — filtered by status, source, customer, credited staff,
period and amount — and an order's page with its lines, every status move (who, why), refunds and
the buttons of the flow: 确认支付, 发货, 完成, 取消, 退款 (by line and quantity or by amount, with
or without returning the units to stock). 代客下单 is in orders_new.py.

A 业务员 sees the orders of their own customers (crm.scope); 查看全部订单 sees all. Amounts are
typed and shown in 元 and stored in 分.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from commerce.errors import CommerceError, OrderNotFound
from commerce.orders import flow, refunds, service
from commerce.orders.detail import order_detail, orders_dicts
from commerce.orders.models import ORDER_SOURCES, ORDER_STATES
from commerce.orders.money import fen_text, yuan_to_fen
from crm.errors import CrmError
from crm.people.models import User
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import pages, parse_local, query_args, read
from web.extensions import services
from web.input_limits import optional_int, page_number

bp = Blueprint("orders", __name__)

PER_PAGE = 20
FILTERS = ("status", "source", "customer", "staff", "start", "end", "min", "max", "q")
STATUS_TONES = {"pending": "amber", "paid": "blue", "shipped": "purple", "completed": "green", "cancelled": "gray",
                "refunded": "red"}
# What each state offers: (action, label, tone, needs a confirmation).
ACTIONS_BY_STATUS = {"pending": [("pay", "确认支付", "primary"), ("cancel", "取消订单", "danger-ghost")],
                     "paid": [("ship", "发货", "primary"), ("cancel", "取消并全额退款", "danger-ghost")],
                     "shipped": [("complete", "完成", "primary")]}
DONE = {"pay": "已确认支付", "ship": "已发货", "complete": "订单已完成", "cancel": "订单已取消"}


@bp.app_template_filter("fen")
def fen_filter(value) -> str:
    return fen_text(int(value or 0))


def _yuan_arg(name: str):
    value = (request.args.get(name) or "").strip()
    if not value:
        return None
    try:
        return yuan_to_fen(value, name)
    except CommerceError:
        flash(f"金额筛选「{value}」无效，已忽略", "warning")
        return None


def _staff(session) -> list[tuple[int, str]]:
    users = session.exec(select(User).where(User.enabled == True).order_by(User.id)).all()  # noqa: E712
    return [(u.id, u.display_name or u.username) for u in users]


@bp.get("/orders")
@permission_required("orders.view")
def index():
    args = request.args
    page = page_number(args.get("page"))
    flt = service.OrderFilter(status=args.get("status") if args.get("status") in ORDER_STATES else None,
                              source=args.get("source") if args.get("source") in ORDER_SOURCES else None,
                              customer_id=optional_int(args.get("customer")), credited_user_id=optional_int(args.get("staff")),
                              start=parse_local(args.get("start", "")), end=parse_local(args.get("end", ""), end_of_day=True),
                              min_fen=_yuan_arg("min"), max_fen=_yuan_arg("max"), q=args.get("q", "").strip()[:64])

    def load(s):
        try:
            rows, total = service.list_orders(s, current_viewer(), flt, page=page, size=PER_PAGE)
        except CommerceError as exc:
            flash(exc.message, "warning")
            rows, total = [], 0
        return {"rows": orders_dicts(s, rows), "total": total, "staff": _staff(s)}

    data = read(load)
    return render_template("orders/index.html", page=page, pages=pages(data["total"], PER_PAGE),
                           args=query_args(*FILTERS), statuses=ORDER_STATES, sources=ORDER_SOURCES, tones=STATUS_TONES,
                           **data)


@bp.get("/orders/<int:order_id>")
@permission_required("orders.view")
def show(order_id: int):
    def load(s):
        return order_detail(s, service.get_order(s, order_id, current_viewer()))

    try:
        order = read(load)
    except OrderNotFound:
        abort(404)
    actions = [a for a in ACTIONS_BY_STATUS.get(order["status"], ())
               if not (a[0] == "cancel" and order["status"] == "paid" and "orders.refund" not in g.permissions)]
    refundable = order["status"] in refunds.REFUNDABLE and order["paid_fen"] > order["refunded_fen"]
    return render_template("orders/detail.html", o=order, tones=STATUS_TONES, actions=actions,
                           can_manage="orders.manage" in g.permissions,
                           can_refund=refundable and "orders.refund" in g.permissions,
                           refundable_fen=order["paid_fen"] - order["refunded_fen"])


def _back(order_id: int):
    return redirect(url_for("orders.show", order_id=order_id))


@bp.post("/orders/<int:order_id>/<any(pay, ship, complete, cancel):action>")
@permission_required("orders.manage")
def act(order_id: int, action: str):
    svc = services()
    try:
        with svc.db.write() as s:
            order = flow.transition(s, order_id, action, current_viewer(), reason=request.form.get("reason", ""),
                                    now=svc.now(), tz=svc.settings.timezone)
    except OrderNotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "error")
        return _back(order_id)
    flash(f"{DONE[action]}：{order.order_no}", "success")
    return _back(order_id)


def _refund_form(order: dict) -> dict:
    """The refund form → the service's shape: lines with a quantity, or an amount in 元."""
    form, lines = request.form, []
    for line in order["lines"]:
        quantity = (form.get(f"qty_{line['id']}") or "").strip()
        if quantity and quantity != "0":
            lines.append({"line_id": line["id"], "quantity": quantity})
    data = {"restock": form.get("restock") == "1", "reason": form.get("reason", "")}
    if lines:
        data["lines"] = lines
    else:
        data["amount_fen"] = yuan_to_fen(form.get("amount", ""), "amount_fen", "退款金额")
    return data


@bp.post("/orders/<int:order_id>/refund")
@permission_required("orders.refund")
def refund(order_id: int):
    svc = services()
    try:
        order = read(lambda s: order_detail(s, service.get_order(s, order_id, current_viewer())))
        data = _refund_form(order)
        with svc.db.write() as s:
            row = refunds.refund(s, order_id, data, current_viewer(), now=svc.now(), tz=svc.settings.timezone)
    except OrderNotFound:
        abort(404)
    except CrmError as exc:
        problems = [m for m in (exc.errors or {}).values()] or [exc.message]
        flash("退款失败：" + "；".join(str(m) for m in problems), "error")
        return _back(order_id)
    flash(f"已退款 {fen_text(row.amount_fen)}", "success")
    return _back(order_id)
