"""权益中心 console: points (balances of the customers the user may see, a customer's ledger with
every entry's reason and source, manual adjustment), coupons (batches, issued codes, issue to a
customer, 核销 by staff) and blind boxes (pools, prizes with stock and weights, draws and shipping).
A 业务员 with rewards.redeem only reaches 核销, and only for their own customers' codes."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from community import points
from community.errors import CommunityError, CommunityNotFound
from community.ledger_models import POINTS_KINDS, POINTS_SOURCES
from community.rewards import boxes, coupons, ledger
from community.rewards.models import COUPON_KINDS, COUPON_STATES, DRAW_STATES, PRIZE_KINDS, Coupon
from crm import scope
from crm.customers.models import Customer
from crm.errors import NotFound
from web.auth.guards import current_viewer, permission_required
from web.console.forms_common import error_map, parse_local, read, write
from web.extensions import services

bp = Blueprint("rewards", __name__)
TABS = {"points": "积分", "coupons": "优惠券", "boxes": "盲盒"}


def _customer(s, customer_id):
    try:
        return scope.load(s, current_viewer(), Customer, customer_id)
    except NotFound:
        abort(404)


def _customer_id_field(s, raw) -> int:
    """A customer id typed in a form, checked against the user's scope (else the field's message)."""
    text = str(raw or "").strip()
    try:
        return scope.load(s, current_viewer(), Customer, text).id
    except NotFound:
        raise CommunityError("客户不存在或无权查看", {"customer_id": "客户不存在或无权查看"}) from None


@bp.get("/rewards")
@permission_required("rewards.manage")
def index():
    tab = request.args.get("tab") if request.args.get("tab") in TABS else "points"

    def load(s):
        if tab == "points":
            return {"totals": ledger.totals(s), "accounts": ledger.top_accounts(s, scope.customers(current_viewer()))}
        if tab == "coupons":
            return {"batches": coupons.list_batches(s)}
        return {"pools": [(p, boxes.prizes(s, p.id)) for p in boxes.list_pools(s)]}
    return render_template("rewards/index.html", tab=tab, tabs=TABS, data=read(load), kinds=COUPON_KINDS)


@bp.get("/rewards/points/<int:customer_id>")
@permission_required("rewards.manage")
def customer_points(customer_id: int):
    return _points_page(customer_id, {}, {})


def _points_page(customer_id: int, values: dict, errors: dict, status: int = 200):
    def load(s):
        customer = _customer(s, customer_id)
        return (customer, points.balance(s, customer_id), ledger.entries(s, customer_id),
                coupons.list_codes(s, customer_id=customer_id, viewer=current_viewer()),
                boxes.list_draws(s, customer_ids=[customer_id]))
    customer, balance, entries, codes, draws = read(load)
    return render_template("rewards/customer.html", customer=customer, balance=balance, entries=entries, codes=codes,
                           draws=draws, kinds=POINTS_KINDS, sources=POINTS_SOURCES, coupon_states=COUPON_STATES,
                           draw_states=DRAW_STATES, values=values, errors=errors), status


@bp.post("/rewards/points/<int:customer_id>/adjust")
@permission_required("rewards.manage")
def adjust(customer_id: int):
    values = {"delta": request.form.get("delta", ""), "reason": request.form.get("reason", "")}
    try:
        write(lambda s: _customer(s, customer_id) and ledger.adjust(s, customer_id, values["delta"], values["reason"],
                                                                    g.user.id, services().now()))
    except CommunityError as exc:
        return _points_page(customer_id, values, error_map(exc), exc.status if exc.status < 500 else 400)
    flash("积分已调整", "success")
    return redirect(url_for("rewards.customer_points", customer_id=customer_id))


@bp.route("/rewards/coupons/new", methods=["GET", "POST"])
@permission_required("rewards.manage")
def coupon_new():
    fields = ("name", "kind", "value", "min_spend_fen", "total", "valid_days", "valid_from", "valid_until", "description")
    values = {k: request.form.get(k, "") for k in fields} if request.method == "POST" else {"kind": "cash", "total": "0"}
    if request.method == "POST":
        try:
            batch = write(lambda s: coupons.create_batch(s, values, valid_from=parse_local(values["valid_from"]),
                                                         valid_until=parse_local(values["valid_until"], end_of_day=True),
                                                         user_id=g.user.id))
            flash(f"已创建优惠券「{batch.name}」", "success")
            return redirect(url_for("rewards.coupon_batch", batch_id=batch.id))
        except CommunityError as exc:
            return render_template("rewards/coupon_form.html", values=values, errors=error_map(exc),
                                   kinds=list(COUPON_KINDS.items())), 400
    return render_template("rewards/coupon_form.html", values=values, errors={}, kinds=list(COUPON_KINDS.items()))


def _batch_page(batch_id: int, errors: dict, status: int = 200):
    def load(s):
        try:
            batch = coupons.get_batch(s, batch_id)
        except CommunityNotFound:
            abort(404)
        return batch, coupons.list_codes(s, batch_id=batch_id, viewer=current_viewer()), coupons.count_by_status(s, batch_id)
    batch, codes, counts = read(load)
    return render_template("rewards/coupon_batch.html", batch=batch, codes=codes, counts=counts, errors=errors,
                           kinds=COUPON_KINDS, states=COUPON_STATES), status


@bp.get("/rewards/coupons/<int:batch_id>")
@permission_required("rewards.manage")
def coupon_batch(batch_id: int):
    return _batch_page(batch_id, {})


@bp.post("/rewards/coupons/<int:batch_id>/issue")
@permission_required("rewards.manage")
def coupon_issue(batch_id: int):
    try:
        coupon = write(lambda s: coupons.issue(s, batch_id, _customer_id_field(s, request.form.get("customer_id")),
                                               source="manual", source_ref=None,
                                               reason=request.form.get("reason", "").strip() or "手工发放",
                                               now=services().now())[0])
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        return _batch_page(batch_id, error_map(exc), 400)
    flash(f"已发放，券码 {coupon.code}", "success")
    return redirect(url_for("rewards.coupon_batch", batch_id=batch_id))


@bp.route("/rewards/redeem", methods=["GET", "POST"])
@permission_required("rewards.redeem")
def redeem():
    errors, done = {}, None
    code = request.form.get("code", "").strip()
    if request.method == "POST":
        try:
            done = write(lambda s: coupons.redeem(s, code, user_id=g.user.id, channel="console",
                                                  note=request.form.get("note", ""), viewer=current_viewer(),
                                                  now=services().now()).id)
        except (CommunityError, CommunityNotFound) as exc:
            errors = error_map(exc)
    shown = read(lambda s: s.get(Coupon, done)) if done else None
    return render_template("rewards/redeem.html", errors=errors, code=code, done=shown), 400 if errors else 200


@bp.route("/rewards/boxes/new", methods=["GET", "POST"])
@permission_required("rewards.manage")
def box_new():
    values = {"name": request.form.get("name", ""), "description": request.form.get("description", "")}
    if request.method == "POST":
        try:
            pool = write(lambda s: boxes.create_pool(s, values["name"], values["description"], g.user.id))
            return redirect(url_for("rewards.box_pool", pool_id=pool.id))
        except CommunityError as exc:
            return render_template("rewards/box_form.html", values=values, errors=error_map(exc)), 400
    return render_template("rewards/box_form.html", values=values, errors={})


def _pool_page(pool_id: int, errors: dict, status: int = 200):
    def load(s):
        try:
            pool = boxes.get_pool(s, pool_id)
        except CommunityNotFound:
            abort(404)
        visible = set(s.exec(select(Customer.id).where(scope.customers(current_viewer()))).all())
        draws = [d for d in boxes.list_draws(s, pool_id=pool_id) if d.customer_id in visible]
        return pool, boxes.prizes(s, pool_id), draws, coupons.list_batches(s)
    pool, prizes, draws, batches = read(load)
    return render_template("rewards/box_pool.html", pool=pool, prizes=prizes, draws=draws, errors=errors,
                           kinds=list(PRIZE_KINDS.items()), kind_names=PRIZE_KINDS, states=DRAW_STATES,
                           batches=[(b.id, b.name) for b in batches]), status


@bp.get("/rewards/boxes/<int:pool_id>")
@permission_required("rewards.manage")
def box_pool(pool_id: int):
    return _pool_page(pool_id, {})


@bp.post("/rewards/boxes/<int:pool_id>/prizes")
@permission_required("rewards.manage")
def box_prize_add(pool_id: int):
    try:
        write(lambda s: boxes.add_prize(s, pool_id, request.form.to_dict()))
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        return _pool_page(pool_id, error_map(exc), 400)
    flash("已添加奖品", "success")
    return redirect(url_for("rewards.box_pool", pool_id=pool_id))


@bp.post("/rewards/boxes/<int:pool_id>/draw")
@permission_required("rewards.manage")
def box_draw(pool_id: int):
    try:
        row = write(lambda s: boxes.draw(s, pool_id, _customer_id_field(s, request.form.get("customer_id")),
                                         source="manual", source_ref=None, reason="手工抽取", now=services().now())[0])
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        return _pool_page(pool_id, error_map(exc), 400)
    flash(f"抽中「{row.prize_name}」", "success")
    return redirect(url_for("rewards.box_pool", pool_id=pool_id))


@bp.post("/rewards/prizes/<int:prize_id>/restock")
@permission_required("rewards.manage")
def prize_restock(prize_id: int):
    raw = request.form.get("add", "").strip()
    try:
        prize = write(lambda s: boxes.restock(s, prize_id, int(raw) if raw.lstrip("-").isdigit() else 0))
    except CommunityError as exc:
        flash(exc.message, "error")
        return redirect(url_for("rewards.index", tab="boxes"))
    return redirect(url_for("rewards.box_pool", pool_id=prize.pool_id))


@bp.post("/rewards/draws/<int:draw_id>/shipped")
@permission_required("rewards.manage")
def draw_shipped(draw_id: int):
    try:
        row = write(lambda s: boxes.mark_shipped(s, draw_id))
    except CommunityError as exc:
        flash(exc.message, "error")
        return redirect(url_for("rewards.index", tab="boxes"))
    return redirect(url_for("rewards.box_pool", pool_id=row.pool_id))
