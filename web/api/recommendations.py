"""/api/v1/customers/{id}/recommendations: 智能推荐 for one customer — the ranked products with
their reasons (命中标签「…」 / 常一起购买「…」 / 同类客户热销), scoped like every customer read (someone
else's customer answers 404, as an unknown id does)."""
from __future__ import annotations

from flask import Blueprint

from commerce.recommend.ranker import MAX_LIMIT
from commerce.recommend.service import for_customer
from crm.errors import CrmError
from web.api.common import error_response, int_arg, iso, ok
from web.api.examples import recommendations as ex
from web.api.spec import BOOL, INT, NUM, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_recommendations", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)  # NotFound 404

ITEM = obj({"spu_id": INT, "name": STR, "score": NUM, "reasons": {"type": "array", "items": STR},
            "signals": {"type": "object", "additionalProperties": NUM}, "price_fen": INT, "link_url": STR,
            "miniprogram": {"type": "object", "additionalProperties": True}, "bought_before": BOOL},
           ("spu_id", "name", "score", "reasons"))
EXAMPLE = {"customer_id": 42, "built_at": "2026-12-07T03:40:00+00:00", "items": [
    {"spu_id": 7, "name": "婴儿纸尿裤 L 码", "score": 0.7125, "reasons": ["常一起购买「有机奶粉 3 段」", "同类客户热销"],
     "signals": {"co_purchase": 0.45, "segment_popular": 0.2625}, "price_fen": 12900,
     "link_url": "https://shop.example.com/p/7", "miniprogram": {}, "bought_before": False},
    {"spu_id": 3, "name": "早教体验课", "score": 0.25, "reasons": ["命中标签「宝妈」"], "signals": {"tag_affinity": 0.25},
     "price_fen": 9900, "link_url": "", "miniprogram": {"appid": "wx1234567890", "path": "pages/course?id=3",
                                                          "title": "早教体验课"}, "bought_before": False}]}
ANSWER = {**obj({"customer_id": INT, "built_at": {"type": "string", "format": "date-time", "nullable": True},
                 "items": {"type": "array", "items": ITEM}}, ("customer_id", "items")), "example": EXAMPLE}


@api_route(bp, "/customers/<int:customer_id>/recommendations", "GET", "客户的智能推荐商品（含推荐理由）", "商品与订单",
           permission="customers.view, products.view",
           query=[("limit", "integer", f"返回条数，默认 5，最多 {MAX_LIMIT}")],
           responses={"200": ANSWER, "404": "客户不存在或无权查看"},
           operation_id="listCustomerRecommendations", examples=ex.LIST_CUSTOMER_RECOMMENDATIONS)
@api_auth("customers.view", "products.view")
def customer_recommendations(customer_id):
    limit = int_arg("limit", 5, maximum=MAX_LIMIT)
    with services().db.read() as session:
        result = for_customer(session, current_viewer(), customer_id, limit)
        items = [r.as_dict() for r in result["items"]]
    return ok({"customer_id": customer_id, "built_at": iso(result["built_at"]), "items": items})
