"""组织管理 (department tree and its people) and 脱敏管理 (who sees full mobile numbers)."""
from __future__ import annotations

from typing import Optional

from flask import Blueprint, g, render_template, request, url_for

from crm.people import departments as deps
from crm.people import masking
from crm.people import service as people
from crm.people.permissions import user_permissions
from web.auth.forms import form_flag, form_value, int_list, password_or_initial, post_action
from web.auth.guards import permission_required
from web.extensions import services
from web.input_limits import optional_int

bp = Blueprint("org", __name__)


def _db():
    return services().db


def _optional_int(value) -> Optional[int]:
    return optional_int(value)


def _back(dep_id: Optional[int] = None) -> str:
    dep_id = dep_id if dep_id is not None else _optional_int(request.form.get("back_dep"))
    return url_for("org.index", dep=dep_id) if dep_id else url_for("org.index")


@bp.get("/org")
@permission_required("org.manage")
def index():
    tree = deps.tree(_db())
    flat = deps.flatten(tree)
    selected_id = _optional_int(request.args.get("dep"))
    selected = next((n for n in flat if n.id == selected_id), None)
    include_children = request.args.get("children", "1") != "0"
    search = request.args.get("q", "").strip()
    users = deps.department_users(_db(), selected.id if selected else None, include_children, search)
    memberships = deps.departments_of(_db(), [u.id for u in users])
    everyone = [u for u, _ in people.list_users(_db())]
    member_ids = {u.id for u in deps.department_users(_db(), selected.id, False)} if selected else set()
    candidates = [u for u in everyone if u.id not in member_ids]
    below = {n.id for n in deps.flatten([selected])} if selected else set()
    return render_template("org/index.html", flat=flat, selected=selected, users=users,
                           memberships=memberships, include_children=include_children, search=search,
                           candidates=candidates, parent_options=_options(flat),
                           move_options=_options([n for n in flat if n.id not in below]),
                           candidate_options=[(u.id, f"{u.display_name}（{u.username}）") for u in candidates])


def _options(nodes) -> list[tuple[int, str]]:
    """Indented department names for a <select> ("　　营销一组" under 销售部)."""
    return [(n.id, "　" * n.depth + n.name) for n in nodes]


@bp.post("/org/departments")
@permission_required("org.manage")
def dep_create():
    parent_id = _optional_int(request.form.get("parent_id"))
    return post_action(lambda: deps.create_department(_db(), form_value("name"), parent_id),
                       lambda dep: f"已创建部门「{dep.name}」", _back(parent_id), error_prefix="创建部门失败：")


@bp.post("/org/departments/<int:dep_id>/rename")
@permission_required("org.manage")
def dep_rename(dep_id: int):
    return post_action(lambda: deps.rename_department(_db(), dep_id, form_value("name")),
                       lambda dep: f"已重命名为「{dep.name}」", _back(dep_id), error_prefix="重命名失败：")


@bp.post("/org/departments/<int:dep_id>/move")
@permission_required("org.manage")
def dep_move(dep_id: int):
    parent_id = _optional_int(request.form.get("parent_id"))
    return post_action(lambda: deps.move_department(_db(), dep_id, parent_id),
                       lambda dep: f"已移动部门「{dep.name}」", _back(dep_id), error_prefix="移动失败：")


@bp.post("/org/departments/<int:dep_id>/shift")
@permission_required("org.manage")
def dep_shift(dep_id: int):
    step = 1 if request.form.get("direction") == "down" else -1
    return post_action(lambda: deps.shift_department(_db(), dep_id, step),
                       "已调整顺序", _back(), error_prefix="调整顺序失败：")


@bp.post("/org/departments/<int:dep_id>/delete")
@permission_required("org.manage")
def dep_delete(dep_id: int):
    return post_action(lambda: deps.delete_department(_db(), dep_id), "部门已删除", url_for("org.index"),
                       error_prefix="删除失败：")


@bp.post("/org/departments/<int:dep_id>/users")
@permission_required("org.manage")
def dep_add_users(dep_id: int):
    user_ids = int_list("user_ids")
    return post_action(lambda: deps.add_users(_db(), dep_id, user_ids),
                       lambda n: f"已添加 {n} 名人员", _back(dep_id), error_prefix="添加人员失败：")


@bp.post("/org/departments/<int:dep_id>/users/<int:user_id>/remove")
@permission_required("org.manage")
def dep_remove_user(dep_id: int, user_id: int):
    return post_action(lambda: deps.remove_user(_db(), dep_id, user_id), "已移出部门", _back(dep_id))


@bp.post("/org/users/<int:user_id>/enabled")
@permission_required("org.manage")
def user_enabled(user_id: int):
    enabled = form_flag("enabled")
    return post_action(lambda: people.set_enabled(_db(), user_id, enabled, actor_id=g.user.id),
                       lambda user: f"已{'启用' if enabled else '停用'}「{user.display_name}」", _back())


@bp.post("/org/users/<int:user_id>/reset-password")
@permission_required("org.manage")
def user_reset_password(user_id: int):
    return post_action(lambda: people.reset_password(_db(), user_id, password_or_initial()[0]),
                       lambda user: f"已重置「{user.display_name}」的密码，对方下次登录时需修改密码",
                       _back(), error_prefix="重置密码失败：")


@bp.get("/org/masking", endpoint="masking")
@permission_required("masking.manage")
def masking_page():
    search = request.args.get("q", "").strip()
    rows = []
    by_id = {u.id: roles for u, roles in people.list_users(_db())}
    for user in masking.list_mask_modes(_db(), search):
        effective = masking.mask_mode_of(user, user_permissions(user, by_id.get(user.id, [])))
        rows.append({"user": user, "mode": user.mask_mode if user.mask_mode in masking.MODES else masking.MASK,
                     "effective": effective, "forced": effective != user.mask_mode and effective == masking.CLEAR})
    return render_template("org/masking.html", rows=rows, search=search, modes=masking.MODES,
                           labels=masking.MODE_LABELS, helps=masking.MODE_HELP)


@bp.post("/org/masking")
@permission_required("masking.manage")
def mask_set():
    user_ids = int_list("user_ids")
    mode = form_value("mode")
    label = masking.MODE_LABELS.get(mode, mode)
    return post_action(lambda: masking.set_mask_mode(_db(), user_ids, mode),
                       lambda ids: f"已将 {len(ids)} 名用户设为「{label}」",
                       url_for("org.masking", q=request.form.get("q") or None), error_prefix="脱敏设置失败：")

