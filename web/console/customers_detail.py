"""客户详情 and the customer form: basic info, tags, contact info, groups, follow-ups, growth
record, attachments and the configured extra tabs; create and edit (built-in + custom fields).
Mobile/e-mail are shown in full only where 脱敏管理 allows it for this customer."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, make_response, flash, g, redirect, render_template, request, send_file, url_for
from markupsafe import Markup

from commerce.orders.detail import customer_orders
from commerce.recommend.ranker import recommend
from community.rewards.ledger import customer_rewards
from config.pii import mask_text
from conversations import friend_profile
from crm.customers import attachments, detail, service, tabs, ui_templates
from crm.customers.companies import company_choices
from crm.customers.fields import enum_items_by_field, list_fields
from crm.people.masking import can_see_full
from crm.tags.service import choices as tag_choices
from crm.errors import CrmError, NotFound
from integrations.mp.fans import of_customer as mp_fans_of
from integrations.wecom import linking as wecom_linking
from web.auth.guards import current_viewer, has_permission, permission_required
from web.auth.security_headers import CSP
from web.console.customers import bp
from web.console.forms_common import error_map, read
from web.extensions import services

FORM_FIELDS = ("name", "mobile", "email", "wechat_id", "gender", "birthday", "city", "source", "company_id")


def _full_contact(session, customer_id: int) -> bool:
    return can_see_full(session, g.user, g.permissions, customer_id)


def _masked_contacts(customer) -> dict:
    """What a user without the right sees in the edit form instead of the full mobile/e-mail."""
    return {k: mask_text(getattr(customer, k)) for k in ("mobile", "email") if getattr(customer, k)}


@bp.get("/customers/<int:customer_id>")
@permission_required("customers.view")
def show(customer_id: int):
    def load(s):
        data = detail.customer_detail(s, customer_id, current_viewer())
        data["full_contact"] = _full_contact(s, customer_id)
        data["recommendations"] = recommend(s, customer_id) if "products.view" in g.permissions else None  # 推荐商品
        data["tag_choices"] = tag_choices(s, g.user.id, ("manual", "personal")) if "tags.apply" in g.permissions else []
        data["wechat_friends"] = (friend_profile.customer_friends(s, current_viewer(), customer_id)
                                  if "accounts.view" in g.permissions else None)  # 微信好友 (好友详情 links)
        return data

    try:
        data = read(load)
    except NotFound:
        abort(404)
    c = data["customer"]
    shown = (lambda v: v or "") if data["full_contact"] else (lambda v: mask_text(v) if v else "")
    context = {"id": c.id, "name": c.name, "mobile": shown(c.mobile), "email": shown(c.email), "city": c.city,
               "source": c.source, "gender": c.gender, "attrs": dict(c.attrs or {})}
    extra = []
    for tab in data["tabs"]:
        if tab.kind == "url":
            extra.append({"tab": tab, "url": tabs.tab_url(tab, context)})
        elif tab.kind == ui_templates.UI_TAB_KIND:  # a UI 模板 by its 模板编号 (UI 模板管理)
            html = read(lambda s, code=tab.content: ui_templates.render_for(ui_templates.by_code(s, code), context))
            extra.append({"tab": tab, "html": Markup(html)})
        else:
            # Autoescaped in the Jinja sandbox; the operator's own markup is allowed (CSP blocks scripts).
            extra.append({"tab": tab, "html": Markup(tabs.render_template_tab(tab, context))})
    orders = read(lambda s: customer_orders(s, customer_id, current_viewer())) if has_permission("orders.view") else None
    mp_fans = read(lambda s: mp_fans_of(s, customer_id))  # 微信粉丝 bound to this customer (integrations.mp)
    wecom_contacts = read(lambda s: wecom_linking.contacts_of(s, customer_id))  # 企业微信 section
    rewards = read(lambda s: customer_rewards(s, customer_id)) if has_permission("rewards.manage") else None  # 积分与权益
    response = make_response(render_template("customers/detail.html", d=data, shown=shown, extra_tabs=extra,
                                             max_mb=attachments.MAX_BYTES // (1024 * 1024), orders=orders,
                                             mp_fans=mp_fans, wecom_contacts=wecom_contacts,
                                             wecom_linked_by=wecom_linking.LINKED_BY_LABELS, rewards=rewards))
    origins = sorted({_origin(t["url"]) for t in extra if t.get("url")})
    if origins:
        # The site-wide CSP frames nothing; the configured 客户详情TABS origins may be framed here.
        response.headers["Content-Security-Policy"] = CSP + "; frame-src " + " ".join(origins)
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _form_data() -> dict:
    data = {k: request.form.get(k, "") for k in FORM_FIELDS}
    data["attrs"] = {k[5:]: v for k, v in request.form.items() if k.startswith("attr_")}
    for f in read(list_fields):
        if f.type == "boolean" and f"attr_{f.key}" not in request.form:
            data["attrs"][f.key] = ""
    return data


def _form(customer=None, values=None, errors=None, status=200):
    def load(s):
        choices = {k: [(i["value"], i["label"]) for i in items] for k, items in enum_items_by_field(s).items()}
        return {"fields": list_fields(s), "enum_choices": choices, "companies": company_choices(s)}

    if values is None:
        values = {k: getattr(customer, k, "") or "" for k in FORM_FIELDS} if customer else {k: "" for k in FORM_FIELDS}
        values["attrs"] = dict(customer.attrs or {}) if customer else {}
        if customer and customer.birthday:
            values["birthday"] = customer.birthday.isoformat()
    return render_template("customers/form.html", customer=customer, values=values, errors=errors or {},
                           **read(load)), status


@bp.route("/customers/new", methods=["GET", "POST"])
@permission_required("customers.manage")
def new():
    if request.method == "POST":
        data = _form_data()
        try:
            with services().db.write() as s:
                c = service.create_customer(s, data, g.user.id, viewer=current_viewer())
        except CrmError as exc:
            return _form(values=data, errors=error_map(exc), status=400)
        flash(f"已创建客户「{c.name}」", "success")
        return redirect(url_for("customers.show", customer_id=c.id))
    return _form()


@bp.route("/customers/<int:customer_id>/edit", methods=["GET", "POST"])
@permission_required("customers.manage")
def edit(customer_id: int):
    try:
        customer = read(lambda s: service.get_customer(s, customer_id, current_viewer()))
    except NotFound:
        abort(404)
    masked = {} if read(lambda s: _full_contact(s, customer_id)) else _masked_contacts(customer)
    if request.method == "POST":
        data = _form_data()
        for key, shown in masked.items():
            if data.get(key) == shown:  # left as displayed: keep the stored value, never the mask
                data.pop(key)
        try:
            with services().db.write() as s:
                service.update_customer(s, customer_id, data, g.user.id, viewer=current_viewer())
        except CrmError as exc:
            return _form(customer.model_copy(update=masked), values={**data, **masked}, errors=error_map(exc), status=400)
        flash("已保存客户资料", "success")
        return redirect(url_for("customers.show", customer_id=customer_id))
    return _form(customer.model_copy(update=masked))


@bp.post("/customers/<int:customer_id>/attachments")
@permission_required("customers.manage")
def upload(customer_id: int):
    try:
        read(lambda s: service.get_customer(s, customer_id, current_viewer()))
    except NotFound:
        abort(404)
    file = request.files.get("file")
    if file is None or not file.filename:
        flash("请选择要上传的文件", "danger")
        return redirect(url_for("customers.show", customer_id=customer_id, _anchor="attachments"))
    svc = services()
    try:
        with svc.db.write() as s:
            attachments.save_attachment(s, svc.settings.var_dir, customer_id, file.filename, file.stream, g.user.id,
                                        viewer=current_viewer())
    except NotFound:
        abort(404)
    except CrmError as exc:
        flash(exc.message, "danger")
    else:
        flash("附件已上传", "success")
    return redirect(url_for("customers.show", customer_id=customer_id, _anchor="attachments"))


@bp.get("/customers/<int:customer_id>/attachments/<int:attachment_id>")
@permission_required("customers.view")
def download(customer_id: int, attachment_id: int):
    try:
        row, path = read(lambda s: attachments.attachment_path(s, services().settings.var_dir, customer_id,
                                                               attachment_id, viewer=current_viewer()))
    except NotFound:
        abort(404)
    return send_file(path, as_attachment=True, download_name=row.filename)


@bp.post("/customers/<int:customer_id>/attachments/<int:attachment_id>/delete")
@permission_required("customers.manage")
def delete_attachment(customer_id: int, attachment_id: int):
    svc = services()
    try:
        with svc.db.write() as s:
            attachments.delete_attachment(s, svc.settings.var_dir, customer_id, attachment_id, g.user.id,
                                          viewer=current_viewer())
    except NotFound:
        abort(404)
    flash("附件已删除", "success")
    return redirect(url_for("customers.show", customer_id=customer_id, _anchor="attachments"))
