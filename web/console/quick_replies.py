"""快捷回复库 (话术库): the library page (search, categories; create / edit / delete with
quick_replies.manage), and the chat box's picker — a JSON search that renders each reply for the
customer of one conversation the user may use, and a POST counting a reply picked into the box."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from sqlmodel import select

from conversations.errors import ConversationError, ConversationNotFound
from conversations.quick_replies import categories as cats, rendering, service, variables
from conversations.quick_replies.access import load_conversation
from conversations.quick_replies.models import VISIBILITY
from crm.people.models import Department
from devices.models import ContentItem, Material
from web.auth.guards import current_viewer, has_permission, permission_required
from web.console.forms_common import error_map, json_error, read
from web.extensions import services

bp = Blueprint("quick_replies", __name__)
MANAGE = "quick_replies.manage"
PICK_LIMIT = 20


def _category_arg():
    raw = request.args.get("category")
    if raw in (None, ""):
        return None
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


@bp.get("/quick-replies")
@permission_required("conversations.view")
def index():
    q = (request.args.get("q") or "").strip()[:50]
    category = _category_arg()
    viewer = current_viewer()

    def load(s):
        rows = service.search(s, viewer, service.ReplyFilter(q, category))
        names = rendering.categories_by_id(s)
        departments = {d.id: d.name for d in s.exec(select(Department))}
        return rows, cats.list_categories(s), names, departments
    rows, categories, names, departments = read(load)
    return render_template("quick_replies/list.html", rows=rows, categories=categories, names=names,
                           departments=departments, q=q, category=category, can_manage=has_permission(MANAGE),
                           visibility=VISIBILITY)


def _form() -> dict:
    f = request.form
    attachments = [{"kind": "material", "id": v} for v in f.getlist("material_ids") if v.strip()]
    attachments += [{"kind": "content", "id": v} for v in f.getlist("content_ids") if v.strip()]
    return {"title": f.get("title", ""), "text": f.get("text", ""), "category_id": f.get("category_id") or None,
            "visibility": f.get("visibility", "all"), "department_ids": f.getlist("department_ids"),
            "attachments": attachments}


def _page(reply, values, errors, status=200):
    def load(s):
        return (variables.variable_names(s), cats.list_categories(s), list(s.exec(select(Department).order_by(Department.position, Department.id))),
                list(s.exec(select(Material).order_by(Material.id.desc()).limit(200))),
                list(s.exec(select(ContentItem).where(ContentItem.enabled == True).order_by(ContentItem.id.desc()).limit(200))))  # noqa: E712
    names, categories, departments, materials, items = read(load)
    chosen = values.get("attachments") or []
    return render_template("quick_replies/form.html", reply=reply, values=values, errors=errors, variables=names,
                           categories=categories, departments=departments, materials=materials, items=items,
                           visibility=VISIBILITY,
                           material_ids=[str(a["id"]) for a in chosen if a.get("kind") == "material"],
                           content_ids=[str(a["id"]) for a in chosen if a.get("kind") == "content"]), status


def _save(fn):
    svc = services()
    with svc.db.write() as s:
        return fn(s, svc.now())


@bp.route("/quick-replies/new", methods=["GET", "POST"])
@permission_required(MANAGE)
def new():
    if request.method == "POST":
        values = _form()
        try:
            reply = _save(lambda s, now: service.create_reply(s, values, current_viewer().user_id, now))
        except ConversationError as exc:
            return _page(None, values, error_map(exc), 400)
        flash(f"已添加快捷回复「{reply.title}」", "success")
        return redirect(url_for("quick_replies.index"))
    return _page(None, {"visibility": "all", "category_id": request.args.get("category")}, {})


@bp.route("/quick-replies/<int:reply_id>", methods=["GET", "POST"])
@permission_required(MANAGE)
def edit(reply_id: int):
    viewer = current_viewer()
    try:
        reply = read(lambda s: service.get_reply(s, reply_id, viewer))
    except ConversationNotFound:
        abort(404)
    if request.method == "POST":
        values = _form()
        try:
            _save(lambda s, now: service.update_reply(s, reply_id, values, viewer, now))
        except ConversationNotFound:
            abort(404)
        except ConversationError as exc:
            return _page(reply, values, error_map(exc), 400)
        flash("快捷回复已保存", "success")
        return redirect(url_for("quick_replies.index"))
    return _page(reply, reply.model_dump(), {})


@bp.post("/quick-replies/<int:reply_id>/delete")
@permission_required(MANAGE)
def delete(reply_id: int):
    try:
        _save(lambda s, now: service.delete_reply(s, reply_id, current_viewer()))
    except ConversationNotFound:
        abort(404)
    flash("快捷回复已删除", "success")
    return redirect(url_for("quick_replies.index"))


@bp.post("/quick-replies/categories")
@permission_required(MANAGE)
def category_new():
    try:
        row = _save(lambda s, now: cats.create_category(s, request.form.to_dict()))
    except ConversationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("quick_replies.index"))
    flash(f"已添加分类「{row.name}」", "success")
    return redirect(url_for("quick_replies.index", category=row.id))


@bp.post("/quick-replies/categories/<int:category_id>")
@permission_required(MANAGE)
def category_edit(category_id: int):
    try:
        _save(lambda s, now: cats.update_category(s, category_id, request.form.to_dict()))
    except ConversationNotFound:
        abort(404)
    except ConversationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("quick_replies.index", category=category_id))
    flash("分类已保存", "success")
    return redirect(url_for("quick_replies.index", category=category_id))


@bp.post("/quick-replies/categories/<int:category_id>/delete")
@permission_required(MANAGE)
def category_delete(category_id: int):
    try:
        moved = _save(lambda s, now: cats.delete_category(s, category_id))
    except ConversationNotFound:
        abort(404)
    flash(f"分类已删除，{moved} 条快捷回复移到「未分类」", "success")
    return redirect(url_for("quick_replies.index"))


@bp.get("/quick-replies/pick")
@permission_required("conversations.view")
def pick():
    """The chat box's search: replies matching ?q= rendered for the customer of ?conversation_id=.
    Replies cannot print a contact field (see conversations.quick_replies.variables), so the text is
    the one that will be sent, unmasked."""
    viewer = current_viewer()
    q = (request.args.get("q") or "").strip()[:50]

    def load(s):
        conversation = load_conversation(s, viewer, request.args.get("conversation_id"))
        data = rendering.conversation_values(s, conversation)
        names = rendering.categories_by_id(s)
        return [rendering.as_dict(s, r, data, names) for r in service.search(s, viewer, service.ReplyFilter(q), PICK_LIMIT)]
    try:
        items = read(load)
    except ConversationNotFound as exc:
        return json_error(exc, 404)
    return jsonify({"items": items})


@bp.post("/quick-replies/<int:reply_id>/used")
@permission_required("conversations.view")
def used(reply_id: int):
    """Counts one use of a reply picked into the chat box of a conversation the user may use."""
    viewer = current_viewer()
    body = request.get_json(silent=True) or request.form.to_dict()

    def count(s, now):
        load_conversation(s, viewer, body.get("conversation_id"))
        reply = service.get_reply(s, reply_id, viewer)
        service.count_use(s, reply.id, now=now)
        return reply.send_count + 1
    try:
        total = _save(count)
    except ConversationNotFound as exc:
        return json_error(exc, 404)
    return jsonify({"id": reply_id, "send_count": total})
