"""企业微信 console: 授权设置 (secrets sealed, never shown back), 测试连接, 同步状态 with 立即同步 per
kind, the callback URL to paste into WeCom with the accepted/refused counts, 员工映射 (unmatched
members mapped to our users by hand) and 标签映射. Everything needs 企业微信管理 (wecom.manage)."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from sqlmodel import select

from crm.people.models import Department, User
from integrations.errors import IntegrationError, IntegrationNotFound, PlatformError
from integrations.wecom import callbacks, corps
from integrations.wecom.models import (SYNC_KIND_LABELS, SYNC_KINDS, WecomContact, WecomDepartment, WecomGroupChat,
                                       WecomMember, WecomTagMap)
from integrations.wecom.sync import run_sync
from integrations.wecom.sync_org import map_member
from web.console.forms_common import error_map, read, write
from web.auth.guards import permission_required
from web.extensions import services
from web.input_limits import bounded_int

bp = Blueprint("wecom", __name__)
FIELDS = ("corp_id", "name", "agent_id") + corps.SECRET_FIELDS


def _overview(session):
    corp = corps.first_corp(session)
    if corp is None:
        return None, {}
    count = lambda model, *where: len(session.exec(select(model.id).where(model.corp_pk == corp.id, *where)).all())  # noqa: E731
    totals = {"departments": count(WecomDepartment, WecomDepartment.removed == False),  # noqa: E712
              "members": count(WecomMember, WecomMember.removed == False),  # noqa: E712
              "unmatched": count(WecomMember, WecomMember.removed == False, WecomMember.user_id == None),  # noqa: E711,E712
              "contacts": count(WecomContact, WecomContact.deleted_at == None),  # noqa: E711
              "tags": count(WecomTagMap, WecomTagMap.removed == False),  # noqa: E712
              "groups": count(WecomGroupChat, WecomGroupChat.dismissed_at == None),  # noqa: E711
              "callbacks": callbacks.counts(session, corp.id)}
    session.expunge(corp)
    return corp, totals


def _render(values=None, errors=None, status=200, tests=None):
    corp, totals = read(_overview)
    if values is None:
        values = {k: getattr(corp, k) for k in ("corp_id", "name", "agent_id")} if corp else {}
    callback_url = url_for("wecom_callback.verify", corp_id=corp.corp_id, _external=True) if corp else ""
    sidebar_url = url_for("wecom_sidebar.page", corp_id=corp.corp_id, _external=True) if corp else ""
    return render_template("wecom/index.html", corp=corp, totals=totals, values=values, errors=errors or {},
                           kinds=[(k, SYNC_KIND_LABELS[k]) for k in SYNC_KINDS], callback_url=callback_url,
                           sidebar_url=sidebar_url, tests=tests or [], summary_labels=SUMMARY_LABELS,
                           sync_times={k: datetime.fromisoformat(v["at"]) for k, v in ((corp.sync_status or {}) if corp else {}).items()},
                           reason_labels=REASON_LABELS), status


REASON_LABELS = {"bad_signature": "签名错误", "stale_timestamp": "时间戳过期", "replay": "重放", "bad_padding": "解密失败（填充错误）",
                 "wrong_receiver": "接收方（ReceiveId）不符", "malformed": "格式错误"}


@bp.get("/wecom")
@permission_required("wecom.manage")
def index():
    return _render()


@bp.post("/wecom/settings")
@permission_required("wecom.manage")
def save_settings():
    values = {k: request.form.get(k, "") for k in FIELDS}
    existing = read(corps.first_corp)
    try:
        write(lambda s: corps.save_corp(s, values, existing.id if existing else None))
    except IntegrationError as exc:
        shown = {k: v for k, v in values.items() if k not in corps.SECRET_FIELDS}
        return _render(shown, error_map(exc), 400)
    flash("已保存企业微信授权信息（密钥已加密保存）", "success")
    return redirect(url_for("wecom.index"))


def _corp_or_404():
    corp = read(lambda s: corps.first_corp(s))
    if corp is None:
        abort(404)
    return corp


@bp.post("/wecom/test")
@permission_required("wecom.manage")
def test_connection():
    corp = _corp_or_404()
    return _render(tests=corps.test_connection(services().settings, corp))


@bp.post("/wecom/sync/<kind>")
@permission_required("wecom.manage")
def sync_now(kind: str):
    if kind not in SYNC_KINDS:
        abort(404)
    corp = _corp_or_404()
    try:
        summary = run_sync(services(), corp.id, kind)
    except PlatformError as exc:
        flash(f"{SYNC_KIND_LABELS[kind]}同步失败：{exc}", "error")
    else:
        flash(f"{SYNC_KIND_LABELS[kind]}同步完成：" + "，".join(f"{SUMMARY_LABELS.get(k, k)} {v}" for k, v in summary.items()),
              "success")
    return redirect(url_for("wecom.index"))


SUMMARY_LABELS = {"departments": "部门", "members": "员工", "matched": "已匹配", "unmatched": "未匹配", "contacts": "客户",
                  "new": "新增", "changed": "变更", "removed": "移除", "customers_created": "新建客户", "wecom_tags": "企业标签",
                  "tags_created": "新建本地标签", "pushed": "推送到企业微信", "groups": "客户群", "dismissed": "已解散"}


@bp.get("/wecom/members")
@permission_required("wecom.manage")
def members():
    corp = _corp_or_404()

    def load(s):
        rows = s.exec(select(WecomMember).where(WecomMember.corp_pk == corp.id, WecomMember.removed == False)  # noqa: E712
                      .order_by(WecomMember.user_id.is_not(None), WecomMember.userid)).all()
        depts = {d.wecom_id: d.name for d in s.exec(select(WecomDepartment).where(WecomDepartment.corp_pk == corp.id))}
        users = s.exec(select(User).where(User.enabled == True).order_by(User.username)).all()  # noqa: E712
        mapped = {d.wecom_id: d.department_id for d in s.exec(select(WecomDepartment).where(WecomDepartment.corp_pk == corp.id))}
        ours = {d.id: d.name for d in s.exec(select(Department))}
        return rows, depts, users, {k: ours.get(v, "") for k, v in mapped.items()}

    rows, depts, users, dept_map = read(load)
    return render_template("wecom/members.html", corp=corp, rows=rows, depts=depts, users=users, dept_map=dept_map)


@bp.post("/wecom/members/<int:member_id>/map")
@permission_required("wecom.manage")
def map_member_view(member_id: int):
    corp = _corp_or_404()
    raw = request.form.get("user_id", "")
    try:
        user_id = bounded_int(raw) if raw else None
        row = write(lambda s: map_member(s, corp.id, member_id, user_id))
    except (TypeError, ValueError):
        flash("请选择系统用户", "error")
        return redirect(url_for("wecom.members"))
    except IntegrationNotFound:
        abort(404)
    except IntegrationError as exc:
        flash(str(exc), "error")
        return redirect(url_for("wecom.members"))
    flash(f"已{'映射' if row.user_id else '取消映射'}员工「{row.name}」", "success")
    return redirect(url_for("wecom.members"))


@bp.get("/wecom/tags")
@permission_required("wecom.manage")
def tags():
    corp = _corp_or_404()
    rows = read(lambda s: s.exec(select(WecomTagMap).where(WecomTagMap.corp_pk == corp.id)
                                 .order_by(WecomTagMap.group_name, WecomTagMap.name)).all())
    return render_template("wecom/tags.html", corp=corp, rows=rows)
