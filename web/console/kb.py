"""智能回复 (kb.manage): topics and entries (CRUD, import from .json/.xlsx), a 试一试 box that shows
the match and its confidence against the threshold, the answer log with 已解决 / 未解决 and the
解决率, and the 待人工 list (conversations.view: a 业务员 sees those of their own accounts)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from sqlmodel import select

from community.errors import CommunityError, CommunityNotFound
from community.kb import entries as kb_entries
from community.kb import review
from community.kb.answer import decide
from community.kb.index import snapshot
from community.kb.models import ENTRY_KINDS, RESOLUTIONS, KbEntry, KbTopic
from web.auth.guards import has_permission, permission_required
from web.console.forms_common import error_map, read, write
from web.extensions import runtime
from web.input_limits import optional_int

bp = Blueprint("kb", __name__)
LOG_PAGE = 30
MAX_UPLOAD = 5 * 1024 * 1024


def _form_values(entry: KbEntry | None, topics: dict) -> dict:
    if entry is None:
        return {"kind": "qa"}
    return {"kind": entry.kind, "question": entry.question, "alternatives": "\n".join(entry.alternatives),
            "answer": entry.answer, "keywords": "\n".join(entry.keywords), "topic": topics.get(entry.topic_id, ""),
            "enabled": entry.enabled}


def _page(errors=None, values=None, status=200, edit_id=None, topic_id=None):
    rt = runtime()
    min_score = rt.settings.kb_min_score
    q = (request.args.get("q") or "").strip()[:300]
    topic = topic_id or optional_int(request.args.get("topic"))
    resolution = request.args.get("resolution", "")

    def load(s):
        topics = {t.id: t.name for t in s.exec(select(KbTopic).order_by(KbTopic.name))}
        stmt = select(KbEntry).order_by(KbEntry.topic_id, KbEntry.id)
        if topic:
            stmt = stmt.where(KbEntry.topic_id == topic)
        rows = s.exec(stmt).all()
        edit = s.get(KbEntry, edit_id) if edit_id else None
        trial = None
        if q:
            trial = {"decision": decide(s, q, min_score), "matches": snapshot(s).search(q, limit=3)}
        since = rt.services.now() - timedelta(days=30)
        return topics, rows, edit, trial, review.resolution_rate(s), review.resolution_rate(s, since), \
            review.recent(s, LOG_PAGE, resolution)

    topics, rows, edit, trial, rate, rate30, logs = read(load)
    if edit_id and edit is None:
        abort(404)
    return render_template("kb/index.html", topics=topics, rows=rows, edit=edit, trial=trial, q=q, topic=topic,
                           rate=rate, rate30=rate30, logs=logs, resolution=resolution, resolutions=RESOLUTIONS,
                           kinds=ENTRY_KINDS, min_score=min_score, errors=errors or {},
                           values=values if values is not None else _form_values(edit, topics),
                           target=review.TARGET_RATE), status


@bp.get("/kb")
@permission_required("kb.manage")
def index():
    return _page(edit_id=optional_int(request.args.get("edit")))


def _entry_form() -> dict:
    f = request.form
    return {"kind": f.get("kind", "qa"), "question": f.get("question", ""), "alternatives": f.get("alternatives", ""),
            "answer": f.get("answer", ""), "keywords": f.get("keywords", ""), "topic": f.get("topic", ""),
            "enabled": f.get("enabled") == "1"}


@bp.post("/kb/entries")
@bp.post("/kb/entries/<int:entry_id>")
@permission_required("kb.manage")
def save_entry(entry_id: int | None = None):
    values = _entry_form()
    now = runtime().services.now()
    try:
        entry = write(lambda s: kb_entries.save_entry(s, values, entry_id=entry_id, now=now))
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        return _page(error_map(exc), values, 400, edit_id=entry_id)
    flash(f"已保存知识条目「{entry.question}」", "success")
    return redirect(url_for("kb.index", edit=entry.id))


@bp.post("/kb/entries/<int:entry_id>/delete")
@permission_required("kb.manage")
def delete_entry(entry_id: int):
    try:
        write(lambda s: kb_entries.delete_entry(s, entry_id))
    except CommunityNotFound:
        abort(404)
    flash("已删除知识条目", "success")
    return redirect(url_for("kb.index"))


@bp.post("/kb/topics/<int:topic_id>")
@permission_required("kb.manage")
def rename_topic(topic_id: int):
    name = request.form.get("name", "")
    try:
        write(lambda s: kb_entries.rename_topic(s, topic_id, name))
    except CommunityNotFound:
        abort(404)
    except CommunityError as exc:
        return _page(error_map(exc), None, 400, topic_id=topic_id)
    flash(f"主题已改名为「{name.strip()}」", "success")
    return redirect(url_for("kb.index", topic=topic_id))


@bp.post("/kb/topics/<int:topic_id>/delete")
@permission_required("kb.manage")
def delete_topic(topic_id: int):
    now = runtime().services.now()
    try:
        n = write(lambda s: kb_entries.delete_topic(s, topic_id, now))
    except CommunityNotFound:
        abort(404)
    flash(f"已删除主题，其下 {n} 条知识保留为「未分主题」", "success")
    return redirect(url_for("kb.index"))


@bp.post("/kb/import")
@permission_required("kb.manage")
def import_file():
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _page({"file": ["请选择 .json 或 .xlsx 文件"]}, None, 400)
    raw = upload.read(MAX_UPLOAD + 1)
    if len(raw) > MAX_UPLOAD:
        return _page({"file": ["文件不能超过 5 MB"]}, None, 400)
    now = runtime().services.now()
    try:
        rows = kb_entries.parse_import(upload.filename, raw)
        count = write(lambda s: kb_entries.import_rows(s, rows, now=now))
    except CommunityError as exc:
        return _page(error_map(exc), None, 400)
    flash(f"已导入 {count} 条知识（相同编号的条目已更新）", "success")
    return redirect(url_for("kb.index"))


@bp.post("/kb/logs/<int:log_id>/<any(resolved, unresolved):resolution>")
@permission_required("kb.manage")
def mark(log_id: int, resolution: str):
    now = runtime().services.now()
    try:
        write(lambda s: review.mark(s, log_id, resolution, g.user.id, now))
    except CommunityNotFound:
        abort(404)
    flash(f"已标记为{RESOLUTIONS[resolution]}", "success")
    return redirect(url_for("kb.index") + "#answer-log")


@bp.get("/kb/pending")
@permission_required("conversations.view")
def pending():
    view_all = has_permission("conversations.view_all")
    rows = read(lambda s: review.pending(s, g.user.id, view_all))
    return render_template("kb/pending.html", rows=rows)


@bp.post("/kb/pending/<int:conversation_id>/done")
@permission_required("conversations.view")
def take_over(conversation_id: int):
    view_all = has_permission("conversations.view_all")
    now = runtime().services.now()
    try:
        write(lambda s: review.take_over(s, conversation_id, g.user.id, view_all, now))
    except CommunityNotFound:
        abort(404)
    flash("已处理，会话移出待人工列表", "success")
    return redirect(url_for("kb.pending"))
