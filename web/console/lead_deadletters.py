"""线索死信: submissions that could not become leads (bad phone, unknown channel, scene switched off
…) and leads whose processing failed, each with its reason. After fixing the cause (the scene's
mapping rules, the channel) an operator 重新处理 them — a new lead, or the reason it still fails —
or 丢弃 them. The second tab lists refused platform callbacks (forged signature, replay …) and
counts them by reason.

Payloads hold personal data: phones and e-mails are masked unless the user holds pii.view."""
from __future__ import annotations

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from sqlalchemy import func
from sqlmodel import col, select

from config.pii import mask_value
from crm.leads import intake
from crm.leads.errors import LeadsError
from crm.leads.models import DEAD_LETTER_STATUSES, LeadDeadLetter, LeadScene, WebhookRejection
from crm.leads.stats import REJECTION_REASONS
from web.auth.guards import permission_required
from web.console.forms_common import PER_PAGE, page_arg, pages, query_args, read, selected_ids
from web.console.leads import pretty
from web.extensions import services
from web.input_limits import optional_int

bp = Blueprint("lead_deadletters", __name__)

STATUSES = DEAD_LETTER_STATUSES
STATUS_TONES = {"open": ("待处理", "red"), "redriven": ("已重新处理", "green"), "discarded": ("已丢弃", "gray")}
SOURCES = {"api": "接口", "webhook": "平台推送", "pull": "平台同步", "file": "文件导入", "pipeline": "处理流程",
           "payment": "付款码", "qr": "扫码表单", "console": "手工录入"}
MAX_BULK = 200  # one click re-drives at most this many (each is its own transaction)


def _int(name: str):
    return optional_int(request.args.get(name))


def _dead_letters(session, status: str, scene_id, source: str, page: int):
    """(rows, total) of the filtered dead letters, newest first — one page."""
    conds = []
    if status in STATUSES:
        conds.append(LeadDeadLetter.status == status)
    if scene_id:
        conds.append(LeadDeadLetter.scene_id == scene_id)
    if source:
        conds.append(LeadDeadLetter.source == source)
    total = session.exec(select(func.count()).select_from(LeadDeadLetter).where(*conds)).one()
    rows = session.exec(select(LeadDeadLetter).where(*conds).order_by(col(LeadDeadLetter.id).desc())
                        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    return list(rows), total


def _rejections(session, page: int):
    """(rows, total rows, {reason: calls}, {adapter: calls}, calls) of refused webhook calls, newest first;
    a rate-limit row stands for all its window's refused calls (hits)."""
    total = session.exec(select(func.count()).select_from(WebhookRejection)).one()
    calls = session.exec(select(func.coalesce(func.sum(WebhookRejection.hits), 0))).one()
    rows = session.exec(select(WebhookRejection).order_by(col(WebhookRejection.id).desc())
                        .offset((page - 1) * PER_PAGE).limit(PER_PAGE)).all()
    by_reason = dict(session.exec(select(WebhookRejection.reason, func.sum(WebhookRejection.hits)).group_by(WebhookRejection.reason)
                                  .order_by(func.sum(WebhookRejection.hits).desc())).all())
    by_adapter = dict(session.exec(select(WebhookRejection.adapter, func.sum(WebhookRejection.hits))
                                   .group_by(WebhookRejection.adapter)).all())
    return list(rows), total, by_reason, by_adapter, calls


def _masked() -> bool:
    return "pii.view" not in g.permissions


def _pretty(data) -> str:
    return pretty(data, _masked())


@bp.get("/leads/deadletters")
@permission_required("leads.manage")
def index():
    page, tab = page_arg(), request.args.get("tab", "deadletters")
    status = request.args.get("status", "open")
    scene_id, source = _int("scene"), request.args.get("source", "")

    def load(s):
        scenes = dict(s.exec(select(LeadScene.id, LeadScene.name).order_by(LeadScene.id)).all())
        if tab == "rejections":
            rows, total, by_reason, by_adapter, calls = _rejections(s, page)
            return {"scenes": scenes, "rows": rows, "total": total, "by_reason": by_reason, "by_adapter": by_adapter,
                    "calls": calls}
        rows, total = _dead_letters(s, status, scene_id, source, page)
        return {"scenes": scenes, "rows": rows, "total": total}

    data = read(load)
    args = {**query_args("status", "scene", "source", "tab"), "status": status}
    if tab == "rejections":
        return render_template("lead_deadletters/rejections.html", reasons=REJECTION_REASONS, page=page,
                               pages=pages(data["total"]), args={"tab": "rejections"}, **data)
    return render_template("lead_deadletters/index.html", statuses=STATUSES, status_tones=STATUS_TONES,
                           sources=SOURCES, status=status, scene_id=scene_id, source=source, page=page,
                           pages=pages(data["total"]), args=args, pretty=_pretty, **data)


def _back():
    target = request.form.get("next") or ""
    safe = target.startswith("/") and not target.startswith(("//", "/\\"))
    return redirect(target if safe else url_for("lead_deadletters.index"))


def _each(action) -> tuple[list, list]:
    """Runs `action(id)` for each ticked dead letter (each in its own transaction, so one that
    still fails does not hold back the others): ([(id, result)], [(id, reason)])."""
    done, failed = [], []
    for dead_letter_id in selected_ids()[:MAX_BULK]:
        try:
            done.append((dead_letter_id, action(dead_letter_id)))
        except LeadsError as exc:
            failed.append((dead_letter_id, mask_value(exc.message) if _masked() else exc.message))
    return done, failed


@bp.post("/leads/deadletters/redrive")
@permission_required("leads.manage")
def redrive():
    """Processes the ticked dead letters again under the scenes' current rules."""
    svc = services()
    done, failed = _each(lambda i: intake.redrive(svc.db, i, svc.settings.timezone, now=svc.now()))
    if done:
        leads = "、".join(f"#{lead_id}" for _, lead_id in done)
        flash(f"已重新处理 {len(done)} 条死信，生成或更新线索 {leads}", "success")
    for dead_letter_id, reason in failed:
        flash(f"死信 #{dead_letter_id} {reason}", "error")
    if not done and not failed:
        flash("请先勾选要重新处理的死信", "warning")
    return _back()


@bp.post("/leads/deadletters/discard")
@permission_required("leads.manage")
def discard():
    done, failed = _each(lambda i: intake.discard(services().db, i))
    if done:
        flash(f"已丢弃 {len(done)} 条死信", "success")
    for dead_letter_id, reason in failed:
        flash(f"死信 #{dead_letter_id} {reason}", "error")
    if not done and not failed:
        flash("请先勾选要丢弃的死信", "warning")
    return _back()
