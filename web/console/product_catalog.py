"""类目与品牌: the category tree (add, rename, move under another category, 上移/下移, delete when
unused) and the brand list (add, edit, delete when unused). Reading needs products.view, changing
products.manage."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from commerce.catalog import categories
from commerce.errors import CommerceError
from crm.errors import NotFound
from web.auth.guards import permission_required
from web.console.forms_common import read
from web.extensions import services
from web.input_limits import optional_int

bp = Blueprint("product_catalog", __name__)


@bp.get("/products/catalog")
@permission_required("products.view")
def index():
    def load(s):
        return categories.flatten(categories.tree(s)), categories.list_brands(s)

    flat, brands = read(load)
    return render_template("product_catalog/index.html", flat=flat, brands=brands,
                           parent_options=[(n["id"], "　" * n["depth"] + n["name"]) for n in flat],
                           edit_brand=optional_int(request.args.get("brand")))


def _do(fn, done: str):
    try:
        with services().db.write() as s:
            fn(s)
    except NotFound:
        abort(404)
    except CommerceError as exc:
        flash(exc.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("product_catalog.index"))


def _category_data() -> dict:
    return {"name": request.form.get("name", ""), "parent_id": request.form.get("parent_id") or None}


@bp.post("/products/catalog/categories")
@permission_required("products.manage")
def category_create():
    return _do(lambda s: categories.create_category(s, _category_data()), "已添加类目")


@bp.post("/products/catalog/categories/<int:category_id>")
@permission_required("products.manage")
def category_update(category_id: int):
    return _do(lambda s: categories.update_category(s, category_id, _category_data()), "已保存类目")


@bp.post("/products/catalog/categories/<int:category_id>/move")
@permission_required("products.manage")
def category_move(category_id: int):
    direction = "up" if request.form.get("direction") == "up" else "down"
    return _do(lambda s: categories.move_category(s, category_id, direction), "已调整顺序")


@bp.post("/products/catalog/categories/<int:category_id>/delete")
@permission_required("products.manage")
def category_delete(category_id: int):
    return _do(lambda s: categories.delete_category(s, category_id), "已删除类目")


def _brand_data() -> dict:
    return {"name": request.form.get("name", ""), "remark": request.form.get("remark", "")}


@bp.post("/products/catalog/brands")
@permission_required("products.manage")
def brand_create():
    return _do(lambda s: categories.save_brand(s, _brand_data()), "已添加品牌")


@bp.post("/products/catalog/brands/<int:brand_id>")
@permission_required("products.manage")
def brand_update(brand_id: int):
    return _do(lambda s: categories.save_brand(s, _brand_data(), brand_id), "已保存品牌")


@bp.post("/products/catalog/brands/<int:brand_id>/delete")
@permission_required("products.manage")
def brand_delete(brand_id: int):
    return _do(lambda s: categories.delete_brand(s, brand_id), "已删除品牌")
