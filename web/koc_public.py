"""The KOC's own H5 page (no console login): `/k/<token>` where the token is signed per KOC
(community.koc.links). It shows only that KOC's tasks, earnings board and groups, and lets them start
a 群打卡 in a group they lead: an ordinary 工作台 群打卡 task (engine.workbench) bound to that group,
announced in the group through the one send path. Public, so: rate limits per link and per IP, a
signed form token instead of the session CSRF token, and one running check-in per group and keyword
(a double-tapped 发起 starts one)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, render_template, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlmodel import select

from community.errors import CommunityError
from community.koc import board as koc_board
from community.koc import checkins, links, roster, tasks
from community.koc.models import TASK_KINDS, TASK_STATES, KocCheckin
from devices.budget_plan import write_with_budget
from devices.models import ChatGroup
from engine.workbench import save_task, set_tasks_enabled
from rules.models import Strategy
from web.extensions import csrf, rate_limiter, runtime, services

bp = Blueprint("koc_public", __name__)
csrf.exempt(bp)  # visitors have no session: a signed, time-limited form token replaces the CSRF token

FORM_SALT = "ckb.koc_public.form"
FORM_MAX_AGE = 3600
MESSAGES = {"not_found": "链接无效或已失效，请联系运营同学获取新的链接。",
            "rate": "操作过于频繁，请稍后再试。",
            "bad_token": "页面已过期，请刷新后重试。"}


def _limited() -> bool:
    limit = services().settings.koc_h5_limit_per_minute
    token = request.view_args.get("token", "")[-24:]
    for key in (f"koc:h5:ip:{(request.remote_addr or '')[:64]}", f"koc:h5:link:{token}"):
        allowed, _retry = rate_limiter().hit(key, limit, 60)
        if not allowed:
            return True
    return False


def _message(text: str, status: int):
    return render_template("koc_public/message.html", message=text), status


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=FORM_SALT)


def _home(token: str, koc_id: int, errors=None, values=None, notice: str = "", status: int = 200):
    svc = services()
    now = svc.now()
    with svc.db.write() as s:
        tasks.check(s, now, koc_id)
    with svc.db.read() as s:
        koc = roster.get(s, koc_id)
        board = koc_board.board(s, koc, now - timedelta(days=30), now)
        groups = s.exec(select(ChatGroup).where(ChatGroup.id.in_(roster.group_ids(s, koc_id)))).all()
        started = checkins.started_in(s, koc_id, 10)
        names = {g.id: g.name for g in groups}
        own_tasks = tasks.list_for(s, koc_id, 50)
    form_token = _serializer().dumps({"k": koc_id})
    return render_template("koc_public/home.html", token=token, koc=koc, board=board, groups=groups, started=started,
                           names=names, tasks=own_tasks, kinds=TASK_KINDS, states=TASK_STATES, form_token=form_token,
                           errors=errors or {}, values=values or {"keyword": "打卡", "points": "2"}, notice=notice), status


def _koc_id(token: str):
    with services().db.read() as s:
        koc = links.koc_for(s, current_app.secret_key, token)
        return koc.id if koc else None


@bp.get("/k/<token>")
def home(token: str):
    if _limited():
        return _message(MESSAGES["rate"], 429)
    koc_id = _koc_id(token)
    if koc_id is None:
        return _message(MESSAGES["not_found"], 404)
    return _home(token, koc_id)


def _announcement(koc_name: str, keyword: str, points: int) -> str:
    reward = f"，每次得 {points} 积分" if points else ""
    return f"【群打卡】{koc_name} 发起了打卡：在群里发送「{keyword}」即可打卡，每人每天一次{reward}～"


@bp.post("/k/<token>/checkin")
def start_checkin(token: str):
    if _limited():
        return _message(MESSAGES["rate"], 429)
    koc_id = _koc_id(token)
    if koc_id is None:
        return _message(MESSAGES["not_found"], 404)
    values = {k: request.form.get(k, "").strip()[:50] for k in ("group_id", "keyword", "points")}
    try:
        data = _serializer().loads(request.form.get("form_token", ""), max_age=FORM_MAX_AGE)
        if data.get("k") != koc_id:
            raise BadSignature("another KOC's form")
    except (SignatureExpired, BadSignature, AttributeError):
        return _home(token, koc_id, {"__all__": [MESSAGES["bad_token"]]}, values, status=400)
    rt, svc = runtime(), services()
    now = svc.now()
    group_id = int(values["group_id"]) if values["group_id"].isdigit() else None

    def start(s):
        koc = roster.get(s, koc_id)
        group, keyword, each = checkins.check_request(s, koc, group_id, values["keyword"], values["points"] or 0)
        running = s.exec(select(KocCheckin).join(Strategy, Strategy.id == KocCheckin.strategy_id).where(
            KocCheckin.group_id == group.id, KocCheckin.keyword == keyword, Strategy.enabled == True)).first()  # noqa: E712
        if running is not None:
            return running, False
        strategy = save_task(s, "checkin", {"name": f"KOC {koc.name}·{group.name} 打卡"[:100], "group_ids": [group.id],
                                            "keyword": keyword, "points": each,
                                            "reply_text": "{nickname} 打卡成功！今天第 {rank} 位，累计打卡 {days} 天"},
                             rt.registry, svc.settings.timezone, now, user=f"KOC:{koc.name}"[:64])
        set_tasks_enabled(s, [strategy.id], True)
        return checkins.record_start(s, koc, group, keyword, each, strategy.id, _announcement(koc.name, keyword, each),
                                     now, f"koc-checkin:{koc.id}:{group.id}:{strategy.id}", settings=svc.settings), True

    try:
        started, new = write_with_budget(svc.db, start, settings=svc.settings, redis=svc.redis, now=now)
    except CommunityError as exc:
        return _home(token, koc_id, {k: [v] for k, v in exc.errors.items()} or {"__all__": [exc.message]}, values,
                     status=400)
    rt.invalidate()  # the matcher picks the new check-in up at once
    notice = (f"已在群里发起打卡「{started.keyword}」，群成员发送口令即可打卡" if new
              else f"该群的打卡「{started.keyword}」已在进行中")
    return _home(token, koc_id, notice=notice)
