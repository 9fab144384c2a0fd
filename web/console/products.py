"""产品管理: the product list with search (name/code, 类目, 品牌, 标签, 价格区间, 上下架), the product
form (spec dimensions → SKU table with price, stock and warning level per SKU; images; 目标客户群
tags), the product page (SKUs, images, safe description, versions) and 上架/下架/删除. Import and
export live in web/console/products_io.py on the same blueprint."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from sqlmodel import select

from commerce.catalog import categories, products, search as catalog_search, versions
from commerce.catalog.models import SHELF_STATES, SKU_STATES
from commerce.catalog.money import fen_to_yuan, yuan_to_fen
from commerce.catalog.specs import label as spec_label
from commerce.errors import CommerceError, ProductNotFound
from devices import content, materials
from web.auth.guards import permission_required
from web.console import products_forms as forms
from web.console.forms_common import page_arg, pages, read, selected_ids
from web.extensions import services
from web.input_limits import optional_int

bp = Blueprint("products", __name__)
PER_PAGE = 20


def _choices(session) -> dict:
    from crm.tags.service import choices

    tags = [(t.id, t.name) for t in choices(session, None) if t.enabled and t.owner_id is None]
    flat = categories.flatten(categories.tree(session))
    return {"category_options": [(n["id"], "　" * n["depth"] + n["name"]) for n in flat],
            "brand_options": [(b.id, b.name) for b in categories.list_brands(session)], "tag_options": tags}


def _query() -> tuple[catalog_search.ProductQuery, dict]:
    args = {k: request.args.get(k, "").strip() for k in ("q", "code", "category", "brand", "tag", "price_min",
                                                          "price_max", "shelf", "low_stock")}
    errors = {}
    prices = {}
    for key, label in (("price_min", "最低价"), ("price_max", "最高价")):
        try:
            prices[key] = yuan_to_fen(args[key], key, label, optional=True)
        except CommerceError as exc:
            errors[key], prices[key] = exc.message, None
    query = catalog_search.ProductQuery(
        q=args["q"], code=args["code"], category_id=optional_int(args["category"]),
        brand_id=optional_int(args["brand"]), tag_id=optional_int(args["tag"]), price_min_fen=prices["price_min"],
        price_max_fen=prices["price_max"], shelf=args["shelf"] if args["shelf"] in SHELF_STATES else "",
        low_stock=args["low_stock"] == "1")
    return query, {"args": {k: v for k, v in args.items() if v}, "filter_errors": errors}


@bp.get("/products")
@permission_required("products.view")
def index():
    query, extra = _query()
    page = page_arg()

    def load(s):
        return catalog_search.search(s, query, page, PER_PAGE), _choices(s)

    (rows, total), choices = read(load)
    return render_template("products/index.html", rows=rows, total=total, page=page, pages=pages(total, PER_PAGE),
                           shelf_states=SHELF_STATES, yuan=fen_to_yuan, **choices, **extra)


def _own_images(spu) -> list:
    ids = list(spu.images or []) if spu else []
    return read(lambda s: [m for m in (s.get(materials.Material, i) for i in ids) if m is not None])


def _render_form(spu, values: dict, dims: list, sku_rows: list, errors: dict, status: int = 200):
    return render_template("products/form.html", spu=spu, values=values, dims=dims, sku_rows=sku_rows, errors=errors,
                           sku_states=SKU_STATES, images=_own_images(spu), max_dims=forms.MAX_DIM_ROWS,
                           **read(_choices)), status


def _values_from_spu(spu) -> dict:
    mp = spu.miniprogram or {}
    return {"code": spu.code, "name": spu.name, "subtitle": spu.subtitle, "category_id": spu.category_id or "",
            "brand_id": spu.brand_id or "", "description": spu.description, "link_url": spu.link_url,
            "attributes": forms.attributes_text(spu.attributes), "tag_ids": spu.tag_ids or [],
            "audience_tag_ids": (spu.audience or {}).get("tag_ids", []), "one_time": spu.one_time,
            "mp_appid": mp.get("appid", ""), "mp_path": mp.get("path", ""), "mp_title": mp.get("title", ""),
            "images": spu.images or []}


def _values_from_form() -> dict:
    form = request.form
    values = {k: form.get(k, "") for k in ("code", "name", "subtitle", "category_id", "brand_id", "description",
                                           "link_url", "attributes", "mp_appid", "mp_path", "mp_title")}
    values.update(tag_ids=form.getlist("tag_ids"), audience_tag_ids=form.getlist("audience_tag_ids"),
                  one_time=form.get("one_time") == "1", images=form.getlist("images"))
    return values


def _dims_for_display(dims: list) -> list:
    rows = [{"name": d.get("name", ""), "values": d["values"] if isinstance(d.get("values"), str)
             else "、".join(d.get("values") or [])} for d in dims]
    return (rows + [{"name": "", "values": ""}] * forms.MAX_DIM_ROWS)[:forms.MAX_DIM_ROWS]


def _save(spu_id=None):
    """Generates the SKU table (生成规格) or saves: uploads new pictures into 素材 and the product in
    one transaction; a refusal keeps everything typed and names the field."""
    from commerce.catalog.specs import clean_dims

    svc = services()
    existing = read(lambda s: {k.spec_key: k for k in products.skus_of(s, spu_id)}) if spu_id else {}
    spu = read(lambda s: products.get_spu(s, spu_id)) if spu_id else None
    values, typed = _values_from_form(), forms.sku_rows_from_form()
    raw_dims = forms.dims_from_form()
    try:
        dims = clean_dims(raw_dims)
    except CommerceError as exc:
        return _render_form(spu, values, _dims_for_display(raw_dims), typed, forms.form_errors(exc), 400)
    sku_rows = forms.sku_table(dims, typed, existing)
    if request.form.get("action") == "generate":
        return _render_form(spu, values, _dims_for_display(raw_dims), sku_rows, {})
    uploads = [(f.filename, f.stream.read(materials.max_bytes(svc.settings) + 1))
               for f in request.files.getlist("image_files") if f and f.filename]
    stored = []

    def work(s):
        data = forms.spu_data(sku_rows)
        for image_id in data["images"]:
            if s.get(materials.Material, image_id) is None:
                raise CommerceError("图片素材不存在", {"images": f"素材 {image_id} 不存在"})
        for filename, blob in uploads:
            try:
                material = materials.save_upload(s, svc.settings, filename, blob, g.user.id, svc.now())
            except content.ContentError as exc:
                raise CommerceError(f"图片「{filename}」未上传：{exc.message}", {"image_files": exc.message}) from None
            stored.append(material.stored_path)
            data["images"].append(material.id)
        if spu_id is None:
            return products.create_spu(s, data, user_id=g.user.id).id
        return products.update_spu(s, spu_id, data, user_id=g.user.id).id

    try:
        with svc.db.write() as s:
            saved_id = work(s)
    except CommerceError as exc:
        for path in stored:  # the transaction rolled back: the files it wrote must go too
            (materials.materials_dir(svc.settings) / path).unlink(missing_ok=True)
        return _render_form(spu, values, _dims_for_display(raw_dims), sku_rows, forms.form_errors(exc), 400)
    flash("已保存商品", "success")
    return redirect(url_for("products.detail", spu_id=saved_id))


@bp.route("/products/new", methods=["GET", "POST"])
@permission_required("products.manage")
def new():
    if request.method == "POST":
        return _save()
    blank = {"code": "", "name": "", "subtitle": "", "category_id": request.args.get("category", ""), "brand_id": "",
             "description": "", "link_url": "", "attributes": "", "tag_ids": [], "audience_tag_ids": [],
             "one_time": False, "mp_appid": "", "mp_path": "", "mp_title": "", "images": []}
    return _render_form(None, blank, _dims_for_display([]), forms.sku_table([], [], {}), {})


@bp.route("/products/<int:spu_id>/edit", methods=["GET", "POST"])
@permission_required("products.manage")
def edit(spu_id: int):
    try:
        spu = read(lambda s: products.get_spu(s, spu_id))
    except ProductNotFound:
        abort(404)
    if request.method == "POST":
        return _save(spu_id)
    existing = read(lambda s: {k.spec_key: k for k in products.skus_of(s, spu_id)})
    rows = forms.sku_table(spu.spec_dims or [], [], existing)
    return _render_form(spu, _values_from_spu(spu), _dims_for_display(spu.spec_dims or []), rows, {})


@bp.get("/products/<int:spu_id>")
@permission_required("products.view")
def detail(spu_id: int):
    def load(s):
        spu = products.get_spu(s, spu_id)
        names = dict(_choices(s)["category_options"])
        brand = categories.get_brand(s, spu.brand_id).name if spu.brand_id else ""
        history = versions.list_versions(s, spu_id)
        users = _user_names(s, {v.changed_by for v in history})
        return spu, products.skus_of(s, spu_id), names.get(spu.category_id, "").strip("　"), brand, history, users

    try:
        spu, skus, category, brand, history, users = read(load)
    except ProductNotFound:
        abort(404)
    tags = dict(read(_choices)["tag_options"])
    return render_template("products/detail.html", spu=spu, skus=skus, category=category, brand=brand,
                           history=history, users=users, images=_own_images(spu), yuan=fen_to_yuan,
                           spec_label=spec_label, shelf_states=SHELF_STATES, sku_states=SKU_STATES, tags=tags,
                           description_lines=(spu.description or "").splitlines())


def _user_names(session, ids) -> dict:
    from crm.people.models import User

    ids = [i for i in ids if i]
    if not ids:
        return {}
    return {u.id: u.display_name or u.username for u in session.exec(
        select(User).where(User.id.in_(ids)))}


@bp.get("/products/<int:spu_id>/images/<int:material_id>")
@permission_required("products.view")
def image(spu_id: int, material_id: int):
    """A product's picture for anyone who may see products (素材管理 itself needs content.view)."""
    settings = services().settings
    try:
        spu = read(lambda s: products.get_spu(s, spu_id))
    except ProductNotFound:
        abort(404)
    if material_id not in (spu.images or []):
        abort(404)
    material = read(lambda s: s.get(materials.Material, material_id))
    path = materials.file_path(settings, material) if material else None
    if path is None or material.mime not in materials.IMAGE_TYPES.values():
        abort(404)
    response = send_file(path, mimetype=material.mime, max_age=3600, conditional=True)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _act(spu_id: int, fn, done: str):
    try:
        with services().db.write() as s:
            fn(s)
    except ProductNotFound:
        abort(404)
    except CommerceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("products.detail", spu_id=spu_id))
    flash(done, "success")
    return None


@bp.post("/products/<int:spu_id>/shelf")
@permission_required("products.manage")
def shelf(spu_id: int):
    state = request.form.get("shelf", "")
    refused = _act(spu_id, lambda s: products.set_shelf(s, spu_id, state, user_id=g.user.id),
                   "已上架" if state == "on" else "已下架")
    return refused or redirect(_back() or url_for("products.detail", spu_id=spu_id))


def _back() -> str:
    """The list page (with its filters) the action came from; only our own /products paths."""
    back = request.form.get("back", "")
    return back if back.startswith("/products") and "//" not in back and "\\" not in back else ""


@bp.post("/products/batch-shelf")
@permission_required("products.manage")
def batch_shelf():
    state = request.form.get("shelf", "")
    ids = selected_ids()
    if not ids or state not in ("on", "off"):
        flash("请先勾选商品", "error")
        return redirect(url_for("products.index"))
    try:
        with services().db.write() as s:
            changed, refused = products.set_shelf_many(s, ids, state, user_id=g.user.id)
    except CommerceError as exc:
        flash(exc.message, "error")
        return redirect(url_for("products.index"))
    flash(f"已{'上架' if state == 'on' else '下架'} {changed} 个商品", "success")
    for message in refused[:10]:
        flash(message, "error")
    return redirect(_back() or url_for("products.index"))


@bp.post("/products/<int:spu_id>/delete")
@permission_required("products.manage")
def delete(spu_id: int):
    refused = _act(spu_id, lambda s: products.delete_spu(s, spu_id, user_id=g.user.id), "已删除商品")
    return refused or redirect(url_for("products.index"))


from web.console import products_io  # noqa: E402,F401 - 导入/导出 routes on this blueprint
