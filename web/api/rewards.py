"""/api/v1/rewards: 核销 a coupon code from a till or mini-program (bearer token with
rewards.redeem), read a customer's points balance, and issue points to a customer. A 业务员's
token acts on their own customers only; another's customer (or coupon) answers 404."""
from __future__ import annotations

from flask import Blueprint

from community import points
from community.rewards import coupons, ledger
from crm import scope
from crm.customers.models import Customer
from crm.errors import CrmError
from web.api.common import BadRequest, error_response, json_body, ok
from web.api.examples import rewards as ex
from web.api.spec import INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_rewards", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)  # 404 unknown code, 409 used, 422 expired

REDEEM_IN = {**obj({"code": STR, "note": STR}, ("code",)), "additionalProperties": False,
             "example": {"code": "K7QMX2PA9D", "note": "门店 01 收银台"}}
COUPON_OUT = {"type": "object", "additionalProperties": True, "example": {
    "id": 3, "code": "K7QMX2PA9D", "batch_id": 1, "customer_id": 12, "status": "redeemed",
    "redeemed_at": "2026-12-07T06:00:00+00:00", "redeem_channel": "api"}}
ADJUST_IN = {**obj({"delta": INT, "reason": STR}, ("delta", "reason")), "additionalProperties": False,
             "example": {"delta": 50, "reason": "门店活动补发"}}


def _coupon(c) -> dict:
    return {"id": c.id, "code": c.code, "batch_id": c.batch_id, "customer_id": c.customer_id, "status": c.status,
            "valid_until": c.valid_until.isoformat() if c.valid_until else None,
            "redeemed_at": c.redeemed_at.isoformat() if c.redeemed_at else None, "redeem_channel": c.redeem_channel}


@api_route(bp, "/rewards/coupons/redeem", "POST", "核销优惠券（一码一用，并发核销只有一次成功）", "权益", body=REDEEM_IN,
           permission="rewards.redeem", responses={"200": COUPON_OUT, "404": "券码不存在", "409": "已核销或已作废",
                                                   "422": "未到使用时间或已过期"},
           operation_id="redeemCoupon", examples=ex.REDEEM_COUPON)
@api_auth("rewards.redeem")
def redeem_coupon():
    data = json_body()
    unknown = sorted(set(data) - {"code", "note"})
    if unknown or not isinstance(data.get("code"), str) or not data["code"].strip():
        raise BadRequest("请提供券码 code", {"code": "请提供券码"}, status=422, code="invalid")
    svc, viewer = services(), current_viewer()
    with svc.db.write() as s:
        coupon = coupons.redeem(s, data["code"], user_id=viewer.user_id, channel="api", note=str(data.get("note") or ""),
                                viewer=viewer, now=svc.now())
        return ok(_coupon(coupon))


@api_route(bp, "/rewards/customers/<int:customer_id>/points", "GET", "客户积分余额与最近明细", "权益",
           permission="rewards.manage", responses={"200": obj({"customer_id": INT, "balance": INT,
                                                               "entries": {"type": "array", "items": {"type": "object"}}})},
           operation_id="getCustomerPoints", examples=ex.GET_CUSTOMER_POINTS)
@api_auth("rewards.manage")
def customer_points(customer_id):
    with services().db.read() as s:
        scope.load(s, current_viewer(), Customer, customer_id)
        rows = ledger.entries(s, customer_id, 50)
        return ok({"customer_id": customer_id, "balance": points.balance(s, customer_id), "entries": [
            {"id": e.id, "kind": e.kind, "delta": e.delta, "balance_after": e.balance_after, "reason": e.reason,
             "source": e.source, "created_at": e.created_at.isoformat()} for e in rows]})


@api_route(bp, "/rewards/customers/<int:customer_id>/points", "POST", "手工调整客户积分（正数增加、负数扣减，需原因）",
           "权益", body=ADJUST_IN, permission="rewards.manage",
           responses={"201": obj({"entry_id": INT, "balance": INT}), "409": "积分不足", "422": "字段无效"},
           operation_id="adjustCustomerPoints", examples=ex.ADJUST_CUSTOMER_POINTS)
@api_auth("rewards.manage")
def adjust_points(customer_id):
    data = json_body()
    svc, viewer = services(), current_viewer()
    with svc.db.write() as s:
        scope.load(s, viewer, Customer, customer_id)
        entry = ledger.adjust(s, customer_id, data.get("delta"), str(data.get("reason") or ""), viewer.user_id, svc.now())
        return ok({"entry_id": entry.id, "balance": entry.balance_after}, 201)
