"""打标签 on a product (商品详情) or a company (公司详情): crm.tags.objects. The panel is one include
(templates/tags/_object_tags.html) that asks `object_tag_panel(kind, id)` for the object's tags and
the ones the user may add; the writes check the object exists before tagging it."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, request, url_for

from commerce.errors import ProductNotFound
from commerce.catalog.products import get_spu
from crm.customers.companies import get_company
from crm.errors import CrmError, NotFound
from crm.tags import objects
from web.auth.guards import has_permission, permission_required
from web.console.forms_common import read
from web.extensions import services
from web.input_limits import int_values

bp = Blueprint("object_tags", __name__)
PAGES = {"product": ("products.detail", "spu_id", "products.manage"),
         "company": ("companies.show", "company_id", "companies.manage")}


@bp.app_context_processor
def _panel():
    def object_tag_panel(kind: str, object_id: int) -> dict:
        def load(s):
            return {"tags": objects.tags_of(s, kind, object_id, g.user.id),
                    "choices": objects.choices(s, kind, g.user.id) if has_permission(PAGES[kind][2]) else []}
        return read(load)
    return {"object_tag_panel": object_tag_panel}


def _exists(s, kind: str, object_id: int) -> None:
    if kind == "product":
        get_spu(s, object_id)  # a deleted product is not found
    else:
        get_company(s, object_id)


def _change(kind: str, object_id: int, fn, done: str):
    endpoint, arg, _perm = PAGES[kind]
    try:
        with services().db.write() as s:
            _exists(s, kind, object_id)
            fn(s)
    except (NotFound, ProductNotFound) as exc:
        if "tag_ids" not in (getattr(exc, "errors", None) or {}):
            abort(404)
        flash(exc.message, "error")
    except CrmError as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for(endpoint, **{arg: object_id}))


def _add(kind: str, object_id: int):
    ids = int_values(request.form.getlist("tag_ids"))
    return _change(kind, object_id, lambda s: objects.add_tags(s, kind, object_id, ids, g.user.id, services().now()),
                   "已打标签")


@bp.post("/products/<int:spu_id>/tags")
@permission_required("products.manage")
def product_add(spu_id: int):
    return _add("product", spu_id)


@bp.post("/products/<int:spu_id>/tags/<int:tag_id>/remove")
@permission_required("products.manage")
def product_remove(spu_id: int, tag_id: int):
    return _change("product", spu_id, lambda s: objects.remove_tag(s, "product", spu_id, tag_id, g.user.id), "已移除标签")


@bp.post("/companies/<int:company_id>/tags")
@permission_required("companies.manage")
def company_add(company_id: int):
    return _add("company", company_id)


@bp.post("/companies/<int:company_id>/tags/<int:tag_id>/remove")
@permission_required("companies.manage")
def company_remove(company_id: int, tag_id: int):
    return _change("company", company_id, lambda s: objects.remove_tag(s, "company", company_id, tag_id, g.user.id),
                   "已移除标签")
