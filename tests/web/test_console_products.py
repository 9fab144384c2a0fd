"""产品管理 pages: the form generates SKUs from two dimensions, takes 元 exactly, refuses bad input
next to the field, the list searches, the page shows versions and escapes the description."""
from __future__ import annotations

import re

from sqlmodel import func, select

from commerce.catalog.models import ProductSku, ProductSpu, ProductVersion
from commerce.stock.models import StockMovement

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _token(client, path="/products"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', html).group(1)


def _form(token, **extra) -> dict:
    data = {"csrf_token": token, "code": "T100", "name": "夏季纯棉T恤", "description": "<script>alert(1)</script>\n第二行",
            "attributes": "材质：纯棉", "dim-0-name": "颜色", "dim-0-values": "红、蓝", "dim-1-name": "尺码",
            "dim-1-values": "M,L", "action": "save"}
    keys = ["颜色=红;尺码=M", "颜色=红;尺码=L", "颜色=蓝;尺码=M", "颜色=蓝;尺码=L"]
    for i, key in enumerate(keys):
        data.update({f"sku-{i}-key": key, f"sku-{i}-code": "", f"sku-{i}-price": "99.9", f"sku-{i}-market": "",
                     f"sku-{i}-stock": "5", f"sku-{i}-threshold": "1", f"sku-{i}-status": "active"})
    data.update(extra)
    return data


def test_generate_then_save_creates_skus_with_exact_prices_and_stock(client, admin_user, login, app_db):
    login(client)
    token = _token(client)
    generated = client.post("/products/new", data={"csrf_token": token, "code": "T100", "name": "T恤",
                                                   "dim-0-name": "颜色", "dim-0-values": "红、蓝", "dim-1-name": "尺码",
                                                   "dim-1-values": "M,L", "action": "generate"})
    html = generated.get_data(as_text=True)
    assert generated.status_code == 200 and html.count('name="sku-') >= 4 * 6 and "红 / M" in html
    saved = client.post("/products/new", data=_form(token))
    assert saved.status_code == 302
    with app_db.read() as s:
        skus = s.exec(select(ProductSku)).all()
        assert len(skus) == 4 and {k.price_fen for k in skus} == {9990} and {k.on_hand for k in skus} == {5}
        assert len({k.code for k in skus}) == 4
        spu_id = s.exec(select(ProductSpu.id)).one()
    page = client.get(f"/products/{spu_id}").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert "v1" in page and "新建商品" in page and "99.90" in page and "纯棉" in page


def test_bad_price_and_stock_are_refused_next_to_the_field_writing_nothing(client, admin_user, login, app_db):
    login(client)
    token = _token(client)
    for extra, message in (({"sku-2-price": "1.234"}, "最多两位小数"), ({"sku-1-price": "-3"}, "不能为负数"),
                           ({"sku-0-stock": "2.5"}, "库存必须是不小于 0 的整数"), ({"category_id": "999"}, "类目不存在"),
                           ({"sku-3-code": "DUP", "sku-2-code": "DUP"}, "重复")):
        answer = client.post("/products/new", data=_form(token, **extra))
        assert answer.status_code == 400, extra
        assert message in answer.get_data(as_text=True), extra
    with app_db.read() as s:
        for model in (ProductSpu, ProductSku, StockMovement, ProductVersion):
            assert s.exec(select(func.count()).select_from(model)).one() == 0


def test_image_upload_is_checked_by_magic_bytes_and_served_on_the_product(client, admin_user, login, app_db):
    login(client)
    token = _token(client)
    import io

    bad = client.post("/products/new", data={**_form(token), "image_files": (io.BytesIO(b"%PDF-1.4"), "x.png")},
                      content_type="multipart/form-data")
    assert bad.status_code == 400 and "不是图片" in bad.get_data(as_text=True)
    good = client.post("/products/new", data={**_form(token), "image_files": (io.BytesIO(PNG), "a.png")},
                       content_type="multipart/form-data")
    assert good.status_code == 302
    with app_db.read() as s:
        spu = s.exec(select(ProductSpu)).one()
    assert len(spu.images) == 1
    image = client.get(f"/products/{spu.id}/images/{spu.images[0]}")
    assert image.status_code == 200 and image.mimetype == "image/png"
    image.close()
    assert client.get(f"/products/{spu.id}/images/{spu.images[0] + 1}").status_code == 404


def test_list_search_shelf_edit_and_delete(client, admin_user, login, app_db):
    login(client)
    token = _token(client)
    client.post("/products/new", data=_form(token))
    with app_db.read() as s:
        spu_id = s.exec(select(ProductSpu.id)).one()
    assert "夏季纯棉T恤" in client.get("/products?q=纯棉T").get_data(as_text=True)
    assert "夏季纯棉T恤" in client.get("/products?q=T100-0").get_data(as_text=True)
    assert "没有找到商品" in client.get("/products?q=羽绒服").get_data(as_text=True)
    assert "没有找到商品" in client.get("/products?price_min=100").get_data(as_text=True)
    assert "最高价" in client.get("/products?price_max=abc").get_data(as_text=True)
    assert "没有找到商品" in client.get("/products?low_stock=1").get_data(as_text=True)  # 5 on hand, warning at 1
    assert client.post(f"/products/{spu_id}/shelf", data={"csrf_token": token, "shelf": "on"}).status_code == 302
    assert "夏季纯棉T恤" in client.get("/products?shelf=on").get_data(as_text=True)
    edit = client.get(f"/products/{spu_id}/edit").get_data(as_text=True)
    assert 'value="99.90"' in edit
    form = _form(token, **{"dim-0-values": "红", "sku-0-price": "88"})
    for i in (2, 3):
        for name in ("key", "code", "price", "market", "stock", "threshold", "status"):
            form.pop(f"sku-{i}-{name}")
    form.update({"sku-0-code": "T100-01", "sku-1-code": "T100-02"})
    assert client.post(f"/products/{spu_id}/edit", data=form).status_code == 302
    with app_db.read() as s:
        skus = {k.spec_key: k for k in s.exec(select(ProductSku))}
    assert skus["颜色=红;尺码=M"].price_fen == 8800 and skus["颜色=蓝;尺码=M"].status == "disabled"
    page = client.get(f"/products/{spu_id}").get_data(as_text=True)
    assert "v3" in page and "已上架" in page and "售价" in page
    assert "查看这一版" in page and "88.00" in page and "99.90" in page  # v3 and v1 snapshots
    assert client.post(f"/products/{spu_id}/delete", data={"csrf_token": token}).status_code == 302
    assert client.get(f"/products/{spu_id}").status_code == 404


def test_catalog_page_categories_and_brands(client, admin_user, login, app_db):
    login(client)
    token = _token(client, "/products/catalog")
    client.post("/products/catalog/categories", data={"csrf_token": token, "name": "服装"})
    client.post("/products/catalog/brands", data={"csrf_token": token, "name": "优衣", "remark": "日系"})
    page = client.get("/products/catalog").get_data(as_text=True)
    assert "服装" in page and "优衣" in page
    refused = client.post("/products/catalog/categories", data={"csrf_token": token, "name": ""},
                          follow_redirects=True).get_data(as_text=True)
    assert "类目名称不能为空" in refused


def test_stock_operations_need_a_reason_and_land_in_the_ledger(client, admin_user, login, app_db):
    login(client)
    token = _token(client)
    client.post("/products/new", data=_form(token))
    with app_db.read() as s:
        code = s.exec(select(ProductSku.code).order_by(ProductSku.id)).first()
    no_reason = client.post("/stock/operations", data={"csrf_token": token, "operation": "in", "sku_code": code,
                                                       "quantity": "3", "reason": ""})
    assert no_reason.status_code == 400 and "请填写原因" in no_reason.get_data(as_text=True)
    fraction = client.post("/stock/operations", data={"csrf_token": token, "operation": "out", "sku_code": code,
                                                      "quantity": "1.5", "reason": "报损"})
    assert fraction.status_code == 400 and "正整数" in fraction.get_data(as_text=True)
    over = client.post("/stock/operations", data={"csrf_token": token, "operation": "out", "sku_code": code,
                                                  "quantity": "6", "reason": "报损"})
    assert over.status_code == 400 and "库存不足" in over.get_data(as_text=True)
    for op, qty in (("in", "3"), ("out", "2"), ("adjust", "10")):
        assert client.post("/stock/operations", data={"csrf_token": token, "operation": op, "sku_code": code,
                                                      "quantity": qty, "reason": "月末盘点"}).status_code == 302
    page = client.get(f"/stock?sku={code}").get_data(as_text=True)
    assert page.count("月末盘点") >= 3 and "系统管理员" in page
    with app_db.read() as s:
        assert s.exec(select(ProductSku.on_hand).where(ProductSku.code == code)).one() == 10


def test_import_upload_runs_as_a_job_with_an_error_sheet_and_export_downloads(client, admin_user, login, app, app_db):
    import io

    from openpyxl import Workbook, load_workbook

    from commerce.catalog.import_rows import COLUMNS
    from crm.jobs.runner import JobRunner

    login(client)
    token = _token(client, "/products/import")
    assert client.get("/products/import/template.xlsx").status_code == 200
    wb = Workbook()
    wb.active.append([label for _, label in COLUMNS])
    wb.active.append(["A1", "保温杯", "", "", "", "", "A1-1", "39.9", "", 8, "", "", ""])
    wb.active.append(["B1", "茶叶", "", "", "", "", "B1-1", "abc", "", 8, "", "", ""])
    sheet = io.BytesIO()
    wb.save(sheet)
    sheet.seek(0)
    answer = client.post("/products/import", data={"csrf_token": token, "file": (sheet, "商品.xlsx")},
                         content_type="multipart/form-data")
    assert answer.status_code == 302
    JobRunner(app.extensions["ckb"].services).run_pending()
    page = client.get("/products/import").get_data(as_text=True)
    assert "新建商品 1" in page and "失败 1 行" in page and "错误明细" in page
    job_id = int(re.search(r"/products/import/jobs/(\d+)/result", page).group(1))
    errors = client.get(f"/products/import/jobs/{job_id}/result")
    rows = list(load_workbook(io.BytesIO(errors.data)).active.iter_rows(min_row=2, values_only=True))
    errors.close()
    assert rows == [(3, "售价(元)", "售价(元)必须是金额（元），如 12.50")]
    export = client.get("/products/export.xlsx?q=保温")
    exported = list(load_workbook(io.BytesIO(export.data)).active.iter_rows(min_row=2, values_only=True))
    export.close()
    assert [r[0] for r in exported] == ["A1"]
    bad = client.post("/products/import", data={"csrf_token": token, "file": (io.BytesIO(b"x"), "a.pdf")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "只支持 .xlsx 和 .csv 文件" in bad.get_data(as_text=True)


def test_batch_shelf_names_the_products_it_could_not_shelve(client, admin_user, login, app_db):
    login(client)
    token = _token(client)
    client.post("/products/new", data=_form(token))
    client.post("/products/new", data=_form(token, code="T200", name="冬季毛衣", **{f"sku-{i}-code": f"T200-{i}" for i in range(4)}))
    with app_db.write() as s:
        ids = list(s.exec(select(ProductSpu.id).order_by(ProductSpu.id)))
        for sku in s.exec(select(ProductSku).where(ProductSku.spu_id == ids[1])):
            sku.status = "disabled"
            s.add(sku)
    page = client.post("/products/batch-shelf", data={"csrf_token": token, "shelf": "on", "ids": [str(i) for i in ids]},
                       follow_redirects=True).get_data(as_text=True)
    assert "已上架 1 个商品" in page and "冬季毛衣：没有在售的规格，不能上架" in page
    with app_db.read() as s:
        assert [spu.shelf for spu in s.exec(select(ProductSpu).order_by(ProductSpu.id))] == ["on", "draft"]


def test_saving_the_edit_form_never_writes_back_a_stale_stock_figure(client, admin_user, login, app_db):
    from commerce.stock import ledger

    login(client)
    token = _token(client)
    client.post("/products/new", data=_form(token))
    with app_db.read() as s:
        spu_id = s.exec(select(ProductSpu.id)).one()
    form_html = client.get(f"/products/{spu_id}/edit").get_data(as_text=True)
    shown = dict(re.findall(r'name="(sku-\d+-(?:key|code|price|market|stock|stock0|threshold|status))" value="([^"]*)"',
                            form_html))
    with app_db.write() as s:  # an order ships 2 units while the form is open
        sku = s.exec(select(ProductSku).where(ProductSku.spec_key == shown["sku-0-key"])).one()
        ledger.reserve(s, sku.id, 2, order_id=7)
        ledger.consume(s, sku.id, 2, order_id=7)
    data = {"csrf_token": token, "code": "T100", "name": "夏季纯棉T恤", "dim-0-name": "颜色", "dim-0-values": "红、蓝",
            "dim-1-name": "尺码", "dim-1-values": "M,L", "action": "save", **shown, "sku-0-price": "79"}
    assert client.post(f"/products/{spu_id}/edit", data=data).status_code == 302
    with app_db.read() as s:
        sku = s.get(ProductSku, sku.id)
        assert (sku.on_hand, sku.price_fen) == (3, 7900)
        assert s.exec(select(func.count()).select_from(StockMovement).where(StockMovement.kind == "adjust")).one() == 0
