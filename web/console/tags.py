"""标签管理: the category tree (left) and the tag list (right) with batch 启用/禁用/删除/自动打标签,
the tag form, and the job progress of 自动打标签. The rule editor and 标签历史 live in
web/console/tags_rules.py on the same blueprint."""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for

from crm.errors import CrmError, NotFound
from crm.jobs.runner import job_status, list_jobs
from crm.tags import categories, jobs as tag_jobs, service
from crm.tags.models import TAG_KIND_LABELS
from web.auth.guards import permission_required
from web.console.forms_common import error_map, page_arg, pages, read, selected_ids
from web.extensions import runtime, services
from web.input_limits import optional_int

bp = Blueprint("tags", __name__)
PER_PAGE = 20


def uid() -> int:
    return g.user.id


def tz() -> str:
    return services().settings.timezone


def _int_arg(value) -> Optional[int]:
    return optional_int(value)


def object_arg() -> str:
    """The 适用对象 the page is on (客户档案 unless ?object=product|company)."""
    value = request.values.get("object", "customer")
    return value if value in categories.OBJECT_TYPES else "customer"


def write(fn):
    with services().db.write() as session:
        return fn(session)


def _tree_options(flat: list[dict], exclude: set[int] = frozenset()) -> list[tuple[int, str]]:
    return [(n["id"], "　" * n["depth"] + n["name"]) for n in flat if n["id"] not in exclude]


@bp.get("/tags")
@permission_required("tags.view")
def index():
    category_id = _int_arg(request.args.get("category"))
    include_children = request.args.get("children", "1") != "0"
    keyword = request.args.get("q", "").strip()
    page = page_arg()

    def load(s):
        chosen = s.get(categories.TagCategory, category_id) if category_id else None
        ot = chosen.object_type if chosen is not None else object_arg()  # a category link names its object
        tree = categories.tree(s, ot)
        rows, total = service.list_tags(s, uid(), category_id, include_children, keyword, page=page,
                                        per_page=PER_PAGE, object_type=ot)
        return tree, rows, total, ot

    tree, rows, total, object_type = read(load)
    flat = categories.flatten(tree)
    selected = next((n for n in flat if n["id"] == category_id), None)
    below = {n["id"] for n in categories.flatten([selected])} if selected else set()
    job_id = _int_arg(request.args.get("job"))
    return render_template(
        "tags/index.html", flat=flat, selected=selected, rows=rows, total=total, page=page,
        pages=pages(total, PER_PAGE), include_children=include_children, keyword=keyword,
        kind_labels=TAG_KIND_LABELS, parent_options=_tree_options(flat),
        move_options=_tree_options(flat, below), job=job_status(services().db, job_id) if job_id else None,
        recent_jobs=list_jobs(services().db, kind=tag_jobs.KIND, limit=5), object_type=object_type,
        object_types=categories.OBJECT_TYPES)


def _back(category_id: Optional[int] = None):
    category_id = category_id or _int_arg(request.form.get("back_category"))
    return redirect(url_for("tags.index", category=category_id) if category_id else url_for("tags.index"))


def _category_data() -> dict:
    return {"name": request.form.get("name", ""), "parent_id": _int_arg(request.form.get("parent_id")),
            "position": request.form.get("position", "0") or "0", "object_type": object_arg()}


def _flash_error(exc: CrmError, prefix: str) -> None:
    details = [m for msgs in error_map(exc).values() for m in msgs if m != exc.message]
    flash(prefix + exc.message + ("：" + "；".join(details) if details else ""), "error")


@bp.post("/tags/categories")
@permission_required("tags.manage")
def category_create():
    try:
        category = write(lambda s: categories.create_category(s, _category_data()))
    except CrmError as exc:
        _flash_error(exc, "添加分类失败：")
        return _back()
    flash(f"已添加分类「{category.name}」", "success")
    return _back(category.id)


@bp.post("/tags/categories/<int:category_id>")
@permission_required("tags.manage")
def category_update(category_id: int):
    try:
        category = write(lambda s: categories.update_category(s, category_id, _category_data()))
    except NotFound:
        abort(404)
    except CrmError as exc:
        _flash_error(exc, "保存分类失败：")
        return _back(category_id)
    flash(f"已保存分类「{category.name}」", "success")
    return _back(category_id)


@bp.post("/tags/categories/<int:category_id>/delete")
@permission_required("tags.manage")
def category_delete(category_id: int):
    try:
        write(lambda s: categories.delete_category(s, category_id))
    except NotFound:
        abort(404)
    except CrmError as exc:
        _flash_error(exc, "不能删除：")
        return _back(category_id)
    flash("已删除分类", "success")
    return _back()


def _tag_form_data() -> dict:
    return {key: request.form.get(key, "") for key in ("name", "kind", "category_id", "validity_days", "score")} | {
        "enabled": request.form.get("enabled", "1") == "1"}


def _tag_form(tag, values: dict, errors: dict, status: int = 200):
    ot = read(lambda s: categories.get_category(s, tag.category_id).object_type) if tag else object_arg()
    flat = categories.flatten(read(lambda s: categories.tree(s, ot)))
    kinds = list(TAG_KIND_LABELS) if tag is None else (["personal"] if tag.kind == "personal" else ["auto", "manual"])
    return render_template("tags/form.html", tag=tag, values=values, errors=errors, object_type=ot,
                           object_label=categories.OBJECT_TYPES[ot], category_options=_tree_options(flat),
                           kind_options=[(k, TAG_KIND_LABELS[k]) for k in kinds]), status


@bp.route("/tags/new", methods=["GET", "POST"])
@permission_required("tags.manage")
def tag_new():
    values = {"name": "", "kind": "manual", "category_id": request.args.get("category", ""), "validity_days": "",
              "score": "0", "enabled": True}
    if request.method == "POST":
        values = _tag_form_data()
        try:
            tag = write(lambda s: service.create_tag(s, values, uid(), services().now()))
        except CrmError as exc:
            return _tag_form(None, values, error_map(exc), 400)
        flash(f"已添加标签「{tag.name}」" + ("，请配置标签规则" if tag.kind == "auto" else ""), "success")
        if tag.kind == "auto":
            return redirect(url_for("tags.tag_rule", tag_id=tag.id))
        return redirect(url_for("tags.index", category=tag.category_id))
    return _tag_form(None, values, {})


@bp.route("/tags/<int:tag_id>/edit", methods=["GET", "POST"])
@permission_required("tags.manage")
def tag_edit(tag_id: int):
    try:
        tag = read(lambda s: service.get_tag(s, tag_id, uid()))
    except NotFound:
        abort(404)
    values = {"name": tag.name, "kind": tag.kind, "category_id": tag.category_id,
              "validity_days": tag.validity_days or "", "score": tag.score, "enabled": tag.enabled}
    if request.method == "POST":
        values = _tag_form_data()
        try:
            write(lambda s: service.update_tag(s, tag_id, values, uid(), services().now()))
        except CrmError as exc:
            return _tag_form(tag, values, error_map(exc), 400)
        flash(f"已保存标签「{values['name']}」", "success")
        return redirect(url_for("tags.index", category=values["category_id"]))
    return _tag_form(tag, values, {})


@bp.post("/tags/batch")
@permission_required("tags.manage")
def batch():
    """批量 启用 / 禁用 / 删除 / 自动打标签 on the ticked tags."""
    action, ids = request.form.get("action", ""), selected_ids("ids")
    if not ids:
        flash("请先勾选标签", "error")
        return _back()
    try:
        if action in ("enable", "disable"):
            n = write(lambda s: service.set_enabled(s, ids, action == "enable", uid()))
            flash(f"已{'启用' if action == 'enable' else '禁用'} {n} 个标签", "success")
        elif action == "delete":
            def delete_all(s):
                return sum(service.delete_tag(s, tag_id, uid(), services().now()) for tag_id in ids)
            removed = write(delete_all)
            flash(f"已删除 {len(ids)} 个标签（从 {removed} 位客户身上移除）", "success")
        elif action == "autotag":
            return _submit_autotag(ids)
        else:
            abort(400)
    except NotFound:
        abort(404)
    except CrmError as exc:
        _flash_error(exc, "操作失败：")
    return _back()


def _submit_autotag(ids: list[int]):
    def auto_only(s):
        tags = [service.get_tag(s, tag_id, uid()) for tag_id in ids]
        return [t.id for t in tags if t.kind == "auto" and t.enabled], [t.name for t in tags if t.kind != "auto"]

    auto_ids, others = read(auto_only)
    if not auto_ids:
        flash("所选标签中没有启用的自动标签；手动标签请在客户档案中标记", "error")
        return _back()
    job = tag_jobs.submit_autotag(services().db, auto_ids, uid(), tz(), services().now())
    jobs = getattr(runtime(), "jobs", None)
    if jobs is not None and hasattr(jobs, "wake"):
        jobs.wake()
    note = f"（已跳过非自动标签：{'、'.join(others)}）" if others else ""
    flash(f"已提交自动打标签任务 #{job.id}，共 {len(auto_ids)} 个标签{note}", "success")
    return redirect(url_for("tags.index", job=job.id, category=_int_arg(request.form.get("back_category"))))


@bp.get("/tags/jobs/<int:job_id>")
@permission_required("tags.view")
def job(job_id: int):
    status = job_status(services().db, job_id)
    if status is None or status["kind"] != tag_jobs.KIND:
        abort(404)
    return jsonify({"job": status})


from web.console import tags_rules  # noqa: E402,F401 - the rule editor and 标签历史 routes of this blueprint
from web.console import tags_multirule, tags_personal  # noqa: E402,F401 - 多条规则, 个人标签, 复制 (seed 001)
