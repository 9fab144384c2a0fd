"""登录 / 退出 / 修改密码."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from redis.exceptions import RedisError

from config.errors import LimiterUnavailable
from crm.audit import logins as login_log
from crm.people import service as people
from web import menu_registry
from web.auth.forms import errors_from, form_value
from web.auth.guards import login_required
from web.auth.session import login_user, logout_user, safe_next
from web.extensions import rate_limiter, services

bp = Blueprint("auth", __name__)
LIMITER_DOWN = "登录服务暂时不可用，请稍后再试"


def _landing(user) -> str:
    """首页 when the user may see it, else the first menu page they can open."""
    _, perms = people.load_identity(services().db, user.id)
    views = current_app.view_functions
    if "dashboard.index" in views and "dashboard.view" in perms:
        return url_for("dashboard.index")
    endpoint = menu_registry.first_allowed_endpoint(perms, views)
    return url_for(endpoint) if endpoint else url_for("account.notifications")


def _log_login(result: str, username: str, user_id=None, detail: str = "") -> None:
    svc = services()
    login_log.record_login(svc.db, username=username, result=result, ip=request.remote_addr or "",
                           user_agent=request.headers.get("User-Agent", ""), now=svc.clock.now(), user_id=user_id,
                           detail=detail)


def _throttle():
    return people.LoginThrottle(rate_limiter(), services().settings)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if g.get("user") is not None and request.method == "GET":
        return redirect(safe_next(request.args.get("next")) or _landing(g.user))
    errors, username, headers, status = {}, "", {}, 200
    if request.method == "POST":
        username = form_value("username")
        password = request.form.get("password", "")
        if not username or not password:
            errors, status = {"__all__": ["请输入用户名和密码"]}, 400
            _log_login("missing", username)
        else:
            svc, ip = services(), request.remote_addr or ""
            try:
                _throttle().attempt(username, ip)
                user = people.authenticate(svc.db, username, password, svc.clock.now())
            except people.LoginThrottled as exc:
                errors, status, headers = errors_from(exc), 429, {"Retry-After": str(exc.retry_after)}
                _log_login("throttled", username, detail=f"{exc.retry_after} 秒后可重试")
            except (RedisError, LimiterUnavailable):
                # The shared counters are out of reach: refuse (fail closed) rather than let
                # guesses through unthrottled or answer 500.
                errors, status, headers = {"__all__": [LIMITER_DOWN]}, 503, {"Retry-After": "30"}
                _log_login("unavailable", username)
            except people.PeopleError as exc:
                errors, status = errors_from(exc), 400
                login_log.record_failed_password(svc.db, username=username, message=str(exc), ip=ip, now=svc.clock.now(),
                                                 user_agent=request.headers.get("User-Agent", ""))
            else:
                _throttle().succeeded(username, ip)
                login_user(user)
                _log_login("success", username, user.id)
                if user.must_change_password:
                    flash("请先设置新密码后再继续使用", "warning")
                    return redirect(url_for("auth.password"))
                return redirect(safe_next(request.args.get("next")) or _landing(user))
    return render_template("auth/login.html", errors=errors, username=username), status, headers


@bp.post("/logout")
def logout():
    user = g.get("user")
    if user is not None:
        _log_login("logout", user.username, user.id)
    logout_user()
    flash("已退出登录", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    errors = {}
    if request.method == "POST":
        try:
            user = people.change_password(
                services().db, g.user.id, request.form.get("old_password", ""),
                request.form.get("new_password", ""), request.form.get("confirm", ""))
        except people.PeopleError as exc:
            errors = errors_from(exc)
        else:
            # The change ended every session of the user; this browser gets a new one.
            login_user(user)
            flash("密码已修改，其他设备上的登录已失效", "success")
            return redirect(_landing(user))
    forced = bool(g.user.must_change_password)
    return render_template("auth/password.html", errors=errors, forced=forced), (400 if errors else 200)
