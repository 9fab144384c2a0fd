"""抖音授权: the 抖音号 authorised for each 抖音获客 scene, with their token health (正常 / 即将失效 /
已过期 / 已撤销), 授权抖音号 (获取授权链接 → the platform's consent page → 抖音授权回调 here), 刷新令牌
and 取消授权. The consent's state is bound to the scene, the user and this browser session
(crm/leads/douyin_accounts.py), so a callback started elsewhere is refused."""
from __future__ import annotations

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for

from sqlmodel import col, select

from crm.errors import CrmError
from crm.leads.douyin_accounts import DOUYIN_SCENE_TYPES, health, scene_accounts
from crm.leads.models import LeadScene
from engine import douyin_auth, douyin_client
from engine.douyin_client import DouyinError
from web.auth.guards import permission_required
from web.console.forms_common import read
from web.extensions import services

bp = Blueprint("lead_douyin", __name__)
NONCE_KEY = "douyin_oauth_nonce"


def _page_data(s):
    scenes = s.exec(select(LeadScene).where(col(LeadScene.scene_type).in_(DOUYIN_SCENE_TYPES)).order_by(LeadScene.id)).all()
    return [(scene, scene_accounts(s, scene.id)) for scene in scenes]


@bp.get("/leads/douyin")
@permission_required("leads.view")
def index():
    svc = services()
    rows = read(_page_data)
    now, days = svc.now(), svc.settings.douyin_alert_days
    return render_template("lead_douyin/index.html", rows=rows, configured=douyin_client.configured(svc.settings),
                           health=lambda a: health(a, now, days))


def _callback_url() -> str:
    base = services().settings.public_base_url.rstrip("/")
    return (base + url_for("lead_douyin.callback")) if base else url_for("lead_douyin.callback", _external=True)


# A link, not a form: the console's CSP allows forms to post only to this site, and this answer redirects
# to the platform. Opening it only starts a consent bound to this user's own session (the state), so a
# forged link gains an attacker nothing.
@bp.get("/leads/douyin/scenes/<int:scene_id>/authorize")
@permission_required("scenes.manage")
def authorize(scene_id: int):
    try:
        url, nonce = douyin_auth.start_authorisation(services(), scene_id, g.user.id, _callback_url())
    except CrmError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
        return redirect(url_for("lead_douyin.index"))
    except DouyinError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("lead_douyin.index"))
    session[NONCE_KEY] = nonce  # one consent at a time per browser; the callback pops it
    return redirect(url)


@bp.get("/leads/douyin/callback")
@permission_required("scenes.manage")
def callback():
    nonce = session.pop(NONCE_KEY, None)
    if request.args.get("error") or not request.args.get("code"):
        flash("抖音授权未完成：用户拒绝了授权或平台未返回授权码", "danger")
        return redirect(url_for("lead_douyin.index"))
    try:
        account = douyin_auth.complete_authorisation(services(), g.user.id, request.args.get("state", ""), nonce,
                                                     request.args.get("code", ""))
    except CrmError as exc:
        flash(exc.message, "danger")
        return redirect(url_for("lead_douyin.index"))
    except DouyinError as exc:
        flash(f"抖音授权失败：{exc.message}", "danger")
        return redirect(url_for("lead_douyin.index"))
    flash(f"已授权抖音号「{account.nickname or account.open_id}」", "success")
    return redirect(url_for("lead_douyin.index"))


def _account_action(account_id: int, action, done: str):
    try:
        action(services(), account_id)
    except CrmError as exc:
        if exc.status == 404:
            abort(404)
        flash(exc.message, "danger")
    except DouyinError as exc:
        flash(exc.message, "danger")
    else:
        flash(done, "success")
    return redirect(url_for("lead_douyin.index"))


@bp.post("/leads/douyin/accounts/<int:account_id>/refresh")
@permission_required("scenes.manage")
def refresh(account_id: int):
    return _account_action(account_id, lambda svc, aid: douyin_auth.fresh_token(svc, aid, force=True), "已刷新令牌")


@bp.post("/leads/douyin/accounts/<int:account_id>/revoke")
@permission_required("scenes.manage")
def revoke(account_id: int):
    return _account_action(account_id, douyin_auth.revoke, "已取消授权，该抖音号不再同步粉丝")
