"""用户管理 and 角色管理: staff accounts, their roles, and what each role may see and do."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, g, render_template, request, url_for

from crm.people import service as people
from crm.people.permissions import PERMISSION_GROUPS
from web import menu_registry, navigation
from web.auth.forms import form_flag, form_value, password_or_initial, post_action, submit
from web.auth.guards import permission_required
from web.extensions import services

bp = Blueprint("users", __name__)


def _db():
    return services().db


def _role_choices():
    people.ensure_builtin_roles(_db())
    return [role for role, _ in people.list_roles(_db())]


@bp.get("/users")
@permission_required("users.view")
def index():
    search = request.args.get("q", "").strip()
    return render_template("users/list.html", rows=people.list_users(_db(), search), search=search)


@bp.route("/users/new", methods=["GET", "POST"])
@permission_required("users.manage")
def new():
    errors, values = {}, {"roles": [], "must_change_password": True}
    if request.method == "POST":
        values = _user_form_values()
        password, initial = password_or_initial()
        done, errors = submit(lambda: people.create_user(
            _db(), values["username"], password,
            display_name=values["display_name"], email=values["email"], mobile=values["mobile"],
            roles=values["roles"], is_admin=values["is_admin"],
            must_change_password=values["must_change_password"] or initial),
            lambda user: f"已创建用户「{user.display_name}」", url_for("users.index"))
        if done:
            return done
    return _user_form(None, values, errors)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@permission_required("users.manage")
def edit(user_id: int):
    user = people.get_user(_db(), user_id) or abort(404)
    errors = {}
    values = {"username": user.username, "display_name": user.display_name, "email": user.email,
              "mobile": user.mobile, "is_admin": user.is_admin,
              "roles": [r.code for r in people.roles_of(_db(), user_id)]}
    if request.method == "POST":
        values = _user_form_values(username=user.username)
        done, errors = submit(lambda: people.update_user(
            _db(), user_id, display_name=values["display_name"], email=values["email"],
            mobile=values["mobile"], roles=values["roles"], is_admin=values["is_admin"],
            actor_id=g.user.id),
            lambda saved: f"已保存用户「{saved.display_name}」", url_for("users.index"))
        if done:
            return done
    return _user_form(user, values, errors)


def _user_form(user, values, errors):
    svc = services()
    sessions = people.list_sessions(svc.db, user.id, svc.clock.now(),
                                    timedelta(hours=svc.settings.session_idle_hours)) if user else []
    return render_template("users/form.html", user=user, values=values, errors=errors,
                           roles=_role_choices(), sessions=sessions), (400 if errors else 200)


@bp.post("/users/<int:user_id>/sessions/<int:session_id>/revoke")
@permission_required("users.manage")
def session_revoke(user_id: int, session_id: int):
    return post_action(lambda: people.revoke_session(_db(), user_id, session_id, services().clock.now()),
                       "登录会话已结束，该设备需要重新登录", url_for("users.edit", user_id=user_id))


def _user_form_values(username: str = "") -> dict:
    return {
        "username": username or form_value("username"),
        "display_name": form_value("display_name"),
        "email": form_value("email"),
        "mobile": form_value("mobile"),
        "roles": request.form.getlist("roles"),
        "is_admin": form_flag("is_admin"),
        "must_change_password": form_flag("must_change_password"),
    }


@bp.post("/users/<int:user_id>/enabled")
@permission_required("users.manage")
def set_enabled(user_id: int):
    enabled = form_flag("enabled")
    return post_action(lambda: people.set_enabled(_db(), user_id, enabled, actor_id=g.user.id),
                       lambda user: f"已{'启用' if enabled else '停用'}用户「{user.display_name}」",
                       url_for("users.index"))


@bp.post("/users/<int:user_id>/reset-password")
@permission_required("users.manage")
def reset_password(user_id: int):
    return post_action(lambda: people.reset_password(_db(), user_id, password_or_initial()[0]),
                       lambda user: f"已重置「{user.display_name}」的密码，对方下次登录时需修改密码",
                       url_for("users.index"), error_prefix="重置密码失败：")


@bp.get("/roles")
@permission_required("roles.manage")
def roles():
    people.ensure_builtin_roles(_db())
    return render_template("users/roles.html", rows=people.list_roles(_db()))


@bp.route("/roles/new", methods=["GET", "POST"])
@permission_required("roles.manage")
def role_new():
    errors, values = {}, {"code": "", "name": "", "permissions": []}
    if request.method == "POST":
        values = {"code": form_value("code"), "name": form_value("name"),
                  "permissions": request.form.getlist("permissions")}
        done, errors = submit(lambda: people.create_role(_db(), values["code"], values["name"],
                                                         values["permissions"]),
                              lambda role: f"已创建角色「{role.name}」", url_for("users.roles"))
        if done:
            return done
    return _role_form(None, values, errors)


@bp.route("/roles/<int:role_id>/edit", methods=["GET", "POST"])
@permission_required("roles.manage")
def role_edit(role_id: int):
    role = people.get_role(_db(), role_id) or abort(404)
    errors, values = {}, {"code": role.code, "name": role.name, "permissions": list(role.permissions)}
    if request.method == "POST":
        values = {"code": role.code, "name": form_value("name"),
                  "permissions": request.form.getlist("permissions")}
        done, errors = submit(lambda: people.update_role(_db(), role_id, values["name"],
                                                         values["permissions"]),
                              lambda saved: f"已保存角色「{saved.name}」", url_for("users.roles"))
        if done:
            return done
    return _role_form(role, values, errors)


def _role_form(role, values, errors):
    return render_template("users/role_form.html", role=role, values=values, errors=errors,
                           groups=PERMISSION_GROUPS,
                           preview=navigation.menu_preview(values["permissions"], menu_registry.arranged())), (400 if errors else 200)


@bp.get("/roles/<int:role_id>/preview")
@permission_required("roles.manage")
def role_preview(role_id: int):
    role = people.get_role(_db(), role_id) or abort(404)
    return render_template("users/role_preview.html", role=role,
                           preview=navigation.menu_preview(role.permissions, menu_registry.arranged()))


@bp.post("/roles/<int:role_id>/delete")
@permission_required("roles.manage")
def role_delete(role_id: int):
    return post_action(lambda: people.delete_role(_db(), role_id), "角色已删除", url_for("users.roles"))
