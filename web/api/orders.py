"""/api/v1/orders: 订单 over the API (bearer token) — create (stock reserved at once; an
`external_id` makes a retry answer the same order), list with filters, read one with its lines,
transitions and refunds, move it along the flow (pay / ship / complete / cancel) and refund it in
whole or in part. A 业务员's token sees and acts on the orders of their own customers only; another
customer's order answers 404 like an unknown id. Amounts are integers in 分 (fen); 9.9 is refused.
"""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request

from commerce.orders import flow, refunds, service
from commerce.orders.detail import order_detail, orders_dicts
from commerce.orders.models import ORDER_SOURCES, ORDER_STATES
from crm.errors import CrmError
from web.api.common import BadRequest, error_response, int_arg, json_body, masked, ok
from web.api.leads import _day_arg
from web.api.examples import orders as ex
from web.api.spec import BOOL, INT, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_orders", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)  # CommerceError 422, InsufficientStock 409, OrderNotFound 404

LINE_IN = obj({"sku_id": INT, "sku_code": {**STR, "description": "SKU 编码（与 sku_id 二选一）"},
               "quantity": {**INT, "minimum": 1}, "unit_price_fen": {**INT, "description": "单价（分），不填为 SKU 售价；改价需 orders.manage"},
               "discount_fen": {**INT, "description": "行优惠（分）"}}, ("quantity",))
CREATE_FIELDS = {"customer_id": INT, "lines": {"type": "array", "items": LINE_IN},
                 "discount_fen": {**INT, "description": "整单优惠（分）"},
                 "credited_user_id": {**INT, "description": "业绩归属员工，默认客户负责人"}, "channel_id": INT, "scene_id": INT,
                 "lead_id": INT, "external_id": {**STR, "description": "外部单号：重试时返回同一订单"}, "remark": STR}
ORDER_IN = {**obj(CREATE_FIELDS, ("customer_id", "lines")), "additionalProperties": False,
            "example": {"customer_id": 12, "external_id": "MINI-20261207-001", "discount_fen": 100,
                        "lines": [{"sku_id": 31, "quantity": 2}, {"sku_code": "TEA-RED-500G", "quantity": 1,
                                                                   "discount_fen": 200}]}}
ORDER_OUT = {"type": "object", "additionalProperties": True, "example": {
    "id": 7, "order_no": "SO20261207A1B2C3D4E5", "status": "pending", "status_label": "待支付", "source": "api",
    "customer_id": 12, "customer_name": "张三", "credited_user_id": 3, "goods_fen": 6980, "discount_fen": 100,
    "total_fen": 6880, "paid_fen": 0, "refunded_fen": 0, "reserve_expires_at": "2026-12-07T03:30:00+00:00",
    "lines": [{"id": 1, "sku_code": "TEA-RED-500G", "name": "红茶", "quantity": 2, "unit_price_fen": 990,
               "amount_fen": 1980, "refunded_quantity": 0}], "transitions": [], "refunds": []}}
TRANSITION_IN = {**obj({"action": {"type": "string", "enum": list(flow.ACTIONS)}, "reason": STR}, ("action",)),
                 "additionalProperties": False, "example": {"action": "ship", "reason": "顺丰 SF1234567890"}}
REFUND_IN = {**obj({"lines": {"type": "array", "items": obj({"line_id": INT, "quantity": INT, "amount_fen": INT},
                                                               ("line_id", "quantity"))},
                    "amount_fen": {**INT, "description": "按金额退款（分），不超过已付 − 已退"},
                    "restock": {**BOOL, "description": "退回库存，默认 true"}, "reason": STR,
                    "external_id": {**STR, "description": "平台退款单号：重试时返回同一退款"}}),
             "additionalProperties": False,
             "example": {"lines": [{"line_id": 1, "quantity": 1}], "restock": True, "reason": "少发一件"}}
LIST_QUERY = [("status", "string", "状态：" + "/".join(ORDER_STATES)), ("source", "string", "来源：" + "/".join(ORDER_SOURCES)),
              ("customer_id", "integer", "客户"), ("credited_user_id", "integer", "业绩归属员工"),
              ("start_date", "string", "下单日期起（含），如 2026-12-01"), ("end_date", "string", "下单日期止（含）"),
              ("min_fen", "integer", "订单金额下限（分）"), ("max_fen", "integer", "订单金额上限（分）"),
              ("q", "string", "订单号 / 外部单号 / 客户名称"), ("page", "integer", "页码"), ("size", "integer", "每页条数（最多 200）")]


def _refuse_unknown(data: dict, allowed) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise BadRequest(f"未知字段：{'、'.join(unknown)}", {k: "未知字段" for k in unknown}, status=422, code="invalid")


def _choice(name: str, choices):
    value = request.args.get(name) or None
    if value is not None and value not in choices:
        raise BadRequest(f"查询参数 {name} 应为 {' / '.join(choices)} 之一", {name: f"{name} 取值无效"})
    return value


def _json(value):
    """Datetimes as ISO 8601 (jsonify would write the RFC 822 form)."""
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value.isoformat() if isinstance(value, datetime) else value


def _answer(order_id: int, status: int = 200):
    with services().db.read() as session:
        order = service.get_order(session, order_id, current_viewer())
        return ok(masked(_json(order_detail(session, order))), status)


@api_route(bp, "/orders", "POST", "创建订单（预占库存；external_id 幂等）", "订单", body=ORDER_IN, permission="orders.manage",
           responses={"201": ORDER_OUT, "200": "external_id 已存在：返回已有订单", "409": "库存不足（附 SKU）",
                      "422": "字段无效（附字段名）"},
           operation_id="createOrder", examples=ex.CREATE_ORDER)
@api_auth("orders.manage")
def create_order():
    data = json_body()
    _refuse_unknown(data, CREATE_FIELDS)
    svc = services()
    with svc.db.write() as session:
        created = service.create_order(session, data, current_viewer(), source="api", tz=svc.settings.timezone,
                                       reserve_minutes=svc.settings.order_reserve_minutes, now=svc.now())
    return _answer(created.order.id, 201 if created.created else 200)


@api_route(bp, "/orders", "GET", "订单列表（筛选、分页）", "订单", permission="orders.view", query=LIST_QUERY,
           responses={"200": obj({"items": {"type": "array", "items": ORDER_OUT}, "total": INT, "page": INT, "size": INT})},
           operation_id="listOrders", examples=ex.LIST_ORDERS)
@api_auth("orders.view")
def list_orders():
    page, size = int_arg("page", 1), int_arg("size", 20, maximum=200)
    flt = service.OrderFilter(status=_choice("status", ORDER_STATES), source=_choice("source", ORDER_SOURCES),
                              customer_id=int_arg("customer_id"), credited_user_id=int_arg("credited_user_id"),
                              start=_day_arg("start_date"), end=_day_arg("end_date", end=True),
                              min_fen=int_arg("min_fen", minimum=0, maximum=10 ** 12),
                              max_fen=int_arg("max_fen", minimum=0, maximum=10 ** 12),
                              q=(request.args.get("q") or "").strip()[:64])
    with services().db.read() as session:
        rows, total = service.list_orders(session, current_viewer(), flt, page=page, size=size)
        items = orders_dicts(session, rows)
    return ok(masked(_json({"items": items, "total": total, "page": page, "size": size})))


@api_route(bp, "/orders/<int:order_id>", "GET", "订单详情（含明细、状态流转、退款）", "订单", permission="orders.view",
           responses={"200": ORDER_OUT},
           operation_id="getOrder", examples=ex.GET_ORDER)
@api_auth("orders.view")
def get_order(order_id):
    return _answer(order_id)


@api_route(bp, "/orders/<int:order_id>/transitions", "POST", "订单状态流转：pay 支付 / ship 发货 / complete 完成 / cancel 取消",
           "订单", body=TRANSITION_IN, permission="orders.manage",
           responses={"200": ORDER_OUT, "422": "流程不允许（说明从何状态到何状态）"},
           operation_id="transitionOrder", examples=ex.TRANSITION_ORDER)
@api_auth("orders.manage")
def transition(order_id):
    data = json_body()
    _refuse_unknown(data, TRANSITION_IN["properties"])
    reason = data.get("reason") or ""
    if not isinstance(reason, str):
        raise BadRequest("reason 应为字符串", {"reason": "reason 应为字符串"}, status=422, code="invalid")
    svc = services()
    with svc.db.write() as session:
        flow.transition(session, order_id, str(data.get("action") or ""), current_viewer(), reason=reason,
                        now=svc.now(), tz=svc.settings.timezone)
    return _answer(order_id)


@api_route(bp, "/orders/<int:order_id>/refunds", "POST", "退款：按商品行与数量，或按金额；可退回库存", "订单",
           body=REFUND_IN, permission="orders.refund",
           responses={"201": ORDER_OUT, "422": "超过可退数量/金额，或订单状态不可退款"},
           operation_id="refundOrder", examples=ex.REFUND_ORDER)
@api_auth("orders.refund")
def refund(order_id):
    data = json_body()
    _refuse_unknown(data, REFUND_IN["properties"])
    svc = services()
    with svc.db.write() as session:
        refunds.refund(session, order_id, data, current_viewer(), now=svc.now(), tz=svc.settings.timezone)
    return _answer(order_id, 201)
