"""/api/v1/products: 商品 (SPU with SKUs) create / read / update / delete, search, 上下架, versions,
stock operations per SKU; /api/v1/product-categories and /api/v1/product-brands.

Money is integer 分 (price_fen, market_price_fen): a JSON float such as 99.9 or 99.0 is refused
(422 naming the field), so a client's rounding never becomes a price. Quantities are positive JSON
integers. Errors use the one envelope; field names follow the request body
("skus.2.price_fen")."""
from __future__ import annotations

from flask import Blueprint, g, request

from commerce.catalog import categories, products, search as catalog_search, versions
from commerce.catalog.models import SHELF_STATES, SKU_STATES
from commerce.errors import CommerceError
from commerce.stock import operations
from crm.errors import CrmError
from devices.models import Material
from web.api.common import BadRequest, error_response, int_arg, iso, json_body, ok
from web.api.examples import products as ex
from web.api.spec import BOOL, INT, INT_LIST, NINT, STR, api_route, obj
from web.auth.guards import api_auth
from web.extensions import services

bp = Blueprint("api_products", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

FIELDS = {"code", "name", "subtitle", "category_id", "brand_id", "attributes", "spec_dims", "images", "description",
          "tag_ids", "audience_tag_ids", "link_url", "miniprogram", "one_time", "skus"}
NAME_VALUE = {"type": "array", "items": obj({"name": STR, "value": STR})}
DIMS = {"type": "array", "items": obj({"name": STR, "values": {"type": "array", "items": STR}})}
SKU_IN = obj({"specs": {"type": "object", "additionalProperties": STR}, "spec_key": STR, "code": STR,
              "price_fen": {**INT, "minimum": 0, "description": "售价（分，整数）"},
              "market_price_fen": {**INT, "minimum": 0, "nullable": True, "description": "划线价（分）"},
              "on_hand": {**INT, "minimum": 0, "description": "库存（新建时入库；修改时为盘点后的数）"},
              "low_stock_threshold": {**INT, "minimum": 0}, "status": {"type": "string", "enum": list(SKU_STATES)}})
EXAMPLE = {"code": "T100", "name": "夏季纯棉T恤", "category_id": 1, "spec_dims": [
    {"name": "颜色", "values": ["红", "蓝"]}, {"name": "尺码", "values": ["M", "L"]}],
    "attributes": [{"name": "材质", "value": "纯棉"}], "tag_ids": [3], "audience_tag_ids": [5],
    "skus": [{"specs": {"颜色": c, "尺码": s}, "code": f"T100-{c}{s}", "price_fen": 9900, "market_price_fen": 12900,
              "on_hand": 50, "low_stock_threshold": 5} for c in ("红", "蓝") for s in ("M", "L")]}
SPU_IN = {**obj({"code": STR, "name": STR, "subtitle": STR, "category_id": INT, "brand_id": INT,
                 "attributes": NAME_VALUE, "spec_dims": DIMS, "images": {**INT_LIST, "description": "素材 ID"},
                 "description": {**STR, "description": "纯文本，显示时转义"}, "tag_ids": INT_LIST,
                 "audience_tag_ids": {**INT_LIST, "description": "目标客户群的客户标签（其余 audience 设置保持不变）"},
                 "link_url": STR, "miniprogram": obj({"appid": STR, "path": STR, "title": STR}), "one_time": BOOL,
                 "skus": {"type": "array", "items": SKU_IN}}, ("code", "name", "skus")), "example": EXAMPLE}
SKU_OUT = obj({"sku_id": INT, "code": STR, "spec_key": STR, "specs": {"type": "object"}, "price_fen": INT,
               "market_price_fen": NINT, "on_hand": INT, "reserved": INT, "available": INT, "low_stock_threshold": NINT,
               "status": STR})
SPU_OUT = {**obj({"spu_id": INT, "code": STR, "name": STR, "shelf": STR, "version": INT, "skus": {"type": "array",
                                                                                                  "items": SKU_OUT}}),
           "additionalProperties": True}
LIST_OUT = obj({"items": {"type": "array", "items": {"type": "object", "additionalProperties": True}}, "total": INT,
                "page": INT, "per_page": INT})
STOCK_IN = {**obj({"operation": {"type": "string", "enum": list(operations.OPERATIONS)},
                   "quantity": {**INT, "minimum": 0, "description": "入库/出库数量；盘点调整为盘点后的库存"},
                   "reason": STR}, ("operation", "quantity", "reason")),
            "example": {"operation": "in", "quantity": 20, "reason": "采购入库"}}


def sku_dict(k) -> dict:
    return {"sku_id": k.id, "code": k.code, "spec_key": k.spec_key, "specs": k.specs, "price_fen": k.price_fen,
            "market_price_fen": k.market_price_fen, "on_hand": k.on_hand, "reserved": k.reserved,
            "available": k.on_hand - k.reserved, "low_stock_threshold": k.low_stock_threshold, "status": k.status}


def spu_dict(spu, skus) -> dict:
    return {"spu_id": spu.id, "code": spu.code, "name": spu.name, "subtitle": spu.subtitle,
            "category_id": spu.category_id, "brand_id": spu.brand_id, "attributes": spu.attributes,
            "spec_dims": spu.spec_dims, "images": spu.images, "description": spu.description, "tag_ids": spu.tag_ids,
            "audience": spu.audience, "link_url": spu.link_url, "miniprogram": spu.miniprogram, "shelf": spu.shelf,
            "one_time": spu.one_time, "version": spu.version, "created_at": iso(spu.created_at),
            "updated_at": iso(spu.updated_at), "skus": [sku_dict(k) for k in skus]}


def _body() -> dict:
    body = json_body()
    unknown = sorted(k for k in body if k not in FIELDS and k not in ("spu_id", "shelf", "version", "audience",
                                                                     "created_at", "updated_at"))
    if unknown:
        raise BadRequest(f"未知字段：{'、'.join(unknown)}", {k: "未知字段" for k in unknown}, status=422, code="invalid")
    return {k: v for k, v in body.items() if k in FIELDS}


def _check_images(session, data: dict) -> None:
    for value in data.get("images") or []:
        if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 2**63 \
                and session.get(Material, value) is None:
            raise CommerceError(f"图片素材 {value} 不存在", {"images": f"素材 {value} 不存在"})


def _full(session, spu) -> dict:
    return spu_dict(spu, products.skus_of(session, spu.id))


@api_route(bp, "/products", "GET", "搜索商品（名称/编码片段、类目含下级、品牌、标签、价格区间、上下架），分页", "商品",
           permission="products.view",
           query=[("q", "string", "名称、商品编码或 SKU 编码的片段"), ("code", "string", "精确的商品或 SKU 编码"),
                  ("category_id", "integer", "类目（含下级）"), ("brand_id", "integer", "品牌"), ("tag_id", "integer", "商品标签"),
                  ("price_min_fen", "integer", "最低价（分）"), ("price_max_fen", "integer", "最高价（分）"),
                  ("shelf", "string", "draft/on/off"), ("low_stock", "boolean", "只看有 SKU 可售库存不高于预警值的商品"),
                  ("page", "integer", "页码"), ("per_page", "integer", "每页条数，最多 100")],
           responses={"200": LIST_OUT},
           operation_id="listProducts", examples=ex.LIST_PRODUCTS)
@api_auth("products.view")
def list_products():
    shelf = request.args.get("shelf", "")
    if shelf and shelf not in SHELF_STATES:
        raise BadRequest("shelf 应为 draft/on/off", {"shelf": "shelf 应为 draft/on/off"})
    query = catalog_search.ProductQuery(
        q=request.args.get("q", ""), code=request.args.get("code", ""), category_id=int_arg("category_id"),
        brand_id=int_arg("brand_id"), tag_id=int_arg("tag_id"),
        price_min_fen=int_arg("price_min_fen", minimum=0, maximum=10**12),
        price_max_fen=int_arg("price_max_fen", minimum=0, maximum=10**12), shelf=shelf,
        low_stock=request.args.get("low_stock") in ("1", "true"))
    page, per_page = int_arg("page", 1), int_arg("per_page", 20, maximum=catalog_search.MAX_PER_PAGE)
    with services().db.read() as session:
        rows, total = catalog_search.search(session, query, page, per_page)
        items = [{"spu_id": r.spu.id, "code": r.spu.code, "name": r.spu.name, "shelf": r.spu.shelf,
                  "category_id": r.spu.category_id, "brand_id": r.spu.brand_id, "sku_count": r.sku_count,
                  "price_min_fen": r.price_min_fen, "price_max_fen": r.price_max_fen, "on_hand": r.on_hand,
                  "available": r.available, "version": r.spu.version} for r in rows]
    return ok({"items": items, "total": total, "page": page, "per_page": per_page})


@api_route(bp, "/products", "POST", "新建商品（规格维度生成 SKU；价格为整数分；库存入库记流水）", "商品",
           body=SPU_IN, permission="products.manage", responses={"201": SPU_OUT},
           operation_id="createProduct", examples=ex.CREATE_PRODUCT)
@api_auth("products.manage")
def create_product():
    data = _body()
    with services().db.write() as session:
        _check_images(session, data)
        spu = products.create_spu(session, data, user_id=g.user.id)
        return ok(_full(session, spu), 201)


@api_route(bp, "/products/<int:spu_id>", "GET", "商品详情（含 SKU、库存）", "商品", permission="products.view",
           responses={"200": SPU_OUT},
           operation_id="getProduct", examples=ex.GET_PRODUCT)
@api_auth("products.view")
def get_product(spu_id):
    with services().db.read() as session:
        return ok(_full(session, products.get_spu(session, spu_id)))


@api_route(bp, "/products/<int:spu_id>", "PUT", "修改商品（只改提交的字段；新规格组合生成 SKU，去掉的组合停用并保留库存）", "商品",
           body={k: v for k, v in SPU_IN.items() if k != "required"}, permission="products.manage", responses={"200": SPU_OUT},
           operation_id="updateProduct", examples=ex.UPDATE_PRODUCT)
@api_auth("products.manage")
def update_product(spu_id):
    data = _body()
    with services().db.write() as session:
        _check_images(session, data)
        spu = products.update_spu(session, spu_id, data, user_id=g.user.id)
        return ok(_full(session, spu))


@api_route(bp, "/products/<int:spu_id>", "DELETE", "删除商品（软删除：订单和库存流水保留）", "商品",
           permission="products.manage", responses={"200": obj({"deleted": INT})},
           operation_id="deleteProduct", examples=ex.DELETE_PRODUCT)
@api_auth("products.manage")
def delete_product(spu_id):
    with services().db.write() as session:
        products.delete_spu(session, spu_id, user_id=g.user.id)
    return ok({"deleted": spu_id})


@api_route(bp, "/products/<int:spu_id>/shelf", "POST", "上架 / 下架", "商品",
           body={**obj({"shelf": {"type": "string", "enum": ["on", "off"]}}, ("shelf",)), "example": {"shelf": "on"}},
           permission="products.manage", responses={"200": SPU_OUT},
           operation_id="shelveProduct", examples=ex.SHELVE_PRODUCT)
@api_auth("products.manage")
def shelve_product(spu_id):
    shelf = json_body().get("shelf")
    with services().db.write() as session:
        spu = products.set_shelf(session, spu_id, shelf if isinstance(shelf, str) else "", user_id=g.user.id)
        return ok(_full(session, spu))


@api_route(bp, "/products/<int:spu_id>/versions", "GET", "商品的版本记录（快照、摘要、修改人）", "商品",
           permission="products.view",
           responses={"200": obj({"items": {"type": "array", "items": obj({"version": INT, "summary": STR,
                                                                          "changed_by": INT, "created_at": STR,
                                                                          "snapshot": {"type": "object"}})}})},
           operation_id="listProductVersions", examples=ex.LIST_PRODUCT_VERSIONS)
@api_auth("products.view")
def product_versions(spu_id):
    with services().db.read() as session:
        products.get_spu(session, spu_id, include_deleted=True)
        rows = versions.list_versions(session, spu_id)
        return ok({"items": [{"version": v.version, "summary": v.summary, "changed_by": v.changed_by,
                              "created_at": iso(v.created_at), "snapshot": v.snapshot} for v in rows]})


@api_route(bp, "/products/skus/<sku_code>/stock", "POST", "库存操作：入库 / 出库 / 盘点调整（记录操作人和原因）", "商品",
           body=STOCK_IN, permission="stock.manage",
           responses={"200": obj({"sku_code": STR, "on_hand": INT, "reserved": INT, "available": INT})},
           operation_id="changeSkuStock", examples=ex.CHANGE_SKU_STOCK)
@api_auth("stock.manage")
def stock_operation(sku_code):
    body = json_body()
    quantity = body.get("quantity")
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise CommerceError("quantity 必须是整数", {"quantity": "quantity 必须是整数"})
    reason = body.get("reason")
    with services().db.write() as session:
        level = operations.apply(session, body.get("operation") if isinstance(body.get("operation"), str) else "",
                                 sku_code, quantity, reason if isinstance(reason, str) else "", operator_id=g.user.id)
    return ok({"sku_code": sku_code, "on_hand": level.on_hand, "reserved": level.reserved, "available": level.available})


MOVEMENT_OUT = obj({"movement_id": INT, "kind": STR, "on_hand_delta": INT, "reserved_delta": INT, "on_hand_after": INT,
                    "reserved_after": INT, "order_id": NINT, "operator_id": NINT, "reason": STR, "created_at": STR})


@api_route(bp, "/products/skus/<sku_code>/movements", "GET", "SKU 的库存流水（新的在前），分页", "商品",
           permission="products.view", query=[("page", "integer", "页码"), ("per_page", "integer", "每页条数，最多 200")],
           responses={"200": obj({"items": {"type": "array", "items": MOVEMENT_OUT}, "total": INT})},
           operation_id="listSkuStockMovements", examples=ex.LIST_SKU_STOCK_MOVEMENTS)
@api_auth("products.view")
def stock_movements(sku_code):
    page, per_page = int_arg("page", 1), int_arg("per_page", 50, maximum=200)
    with services().db.read() as session:
        operations.find_sku(session, sku_code)
        rows, total = operations.list_movements(session, operations.MovementQuery(sku_code=sku_code), page, per_page)
    return ok({"total": total, "items": [
        {"movement_id": m.id, "kind": m.kind, "on_hand_delta": m.on_hand_delta, "reserved_delta": m.reserved_delta,
         "on_hand_after": m.on_hand_after, "reserved_after": m.reserved_after, "order_id": m.order_id,
         "operator_id": m.operator_id, "reason": m.reason, "created_at": iso(m.created_at)} for m, *_ in rows]})


@api_route(bp, "/product-categories", "GET", "类目树", "商品", permission="products.view",
           responses={"200": obj({"items": {"type": "array", "items": {"type": "object", "additionalProperties": True}}})},
           operation_id="listProductCategories", examples=ex.LIST_PRODUCT_CATEGORIES)
@api_auth("products.view")
def list_categories():
    with services().db.read() as session:
        return ok({"items": categories.tree(session)})


@api_route(bp, "/product-categories", "POST", "新建类目", "商品",
           body={**obj({"name": STR, "parent_id": INT}, ("name",)), "example": {"name": "T恤", "parent_id": 1}},
           permission="products.manage", responses={"201": obj({"category_id": INT, "name": STR, "parent_id": NINT})},
           operation_id="createProductCategory", examples=ex.CREATE_PRODUCT_CATEGORY)
@api_auth("products.manage")
def create_category():
    with services().db.write() as session:
        row = categories.create_category(session, json_body())
        return ok({"category_id": row.id, "name": row.name, "parent_id": row.parent_id}, 201)


@api_route(bp, "/product-brands", "GET", "品牌列表", "商品", permission="products.view",
           responses={"200": obj({"items": {"type": "array", "items": obj({"brand_id": INT, "name": STR, "remark": STR})}})},
           operation_id="listProductBrands", examples=ex.LIST_PRODUCT_BRANDS)
@api_auth("products.view")
def list_brands():
    with services().db.read() as session:
        return ok({"items": [{"brand_id": b.id, "name": b.name, "remark": b.remark}
                             for b in categories.list_brands(session)]})


@api_route(bp, "/product-brands", "POST", "新建品牌", "商品",
           body={**obj({"name": STR, "remark": STR}, ("name",)), "example": {"name": "优衣", "remark": ""}},
           permission="products.manage", responses={"201": obj({"brand_id": INT, "name": STR, "remark": STR})},
           operation_id="createProductBrand", examples=ex.CREATE_PRODUCT_BRAND)
@api_auth("products.manage")
def create_brand():
    with services().db.write() as session:
        row = categories.save_brand(session, json_body())
        return ok({"brand_id": row.id, "name": row.name, "remark": row.remark}, 201)
