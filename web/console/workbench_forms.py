"""Reading the 新建任务 wizard's form into the template's answers, and the choices its selects
offer (accounts, groups, 内容库 items, staff) — read once per page."""
from __future__ import annotations

from flask import request
from sqlmodel import select

from crm.people.models import User
from devices.models import ChatGroup, ContentItem, WechatAccount

LIST_FIELDS = {"account_ids", "group_ids", "content_ids", "source_account_ids", "weekdays"}
FLAGS = {"comment"}
# The repeated row inputs (target_id[], rule_keyword[] …) read by _rows; a plain field that merely
# starts the same way (target_kind) is an answer like any other.
ROW_FIELDS = {"target_id", "target_weight", "target_daily_cap", "target_tag", "rule_match", "rule_keyword", "rule_reply"}


def _rows(prefix: str, names: tuple[str, ...]) -> list[dict]:
    columns = {n: request.form.getlist(f"{prefix}{n}") for n in names}
    count = max((len(v) for v in columns.values()), default=0)
    rows = [{n: (columns[n][i] if i < len(columns[n]) else "") for n in names} for i in range(count)]
    return [r for r in rows if any(str(v).strip() for v in r.values())]


def form_config(template_key: str) -> dict:
    """The posted wizard as the template's answers (kept verbatim so the wizard reopens them)."""
    config: dict = {}
    for name in request.form.keys():
        if name == "csrf_token" or name in ROW_FIELDS:
            continue
        config[name] = request.form.getlist(name) if name in LIST_FIELDS else request.form.get(name, "")
    for name in FLAGS:
        config[name] = request.form.get(name) == "1"
    if template_key == "traffic_split":
        config["targets"] = [{"id": r["id"], "weight": r["weight"] or 1, "daily_cap": r["daily_cap"] or 0, "tag": r["tag"]}
                             for r in _rows("target_", ("id", "weight", "daily_cap", "tag")) if r["id"]]
    if template_key == "keyword_reply":
        config["rules"] = _rows("rule_", ("match", "keyword", "reply"))
    return config


def choices(session) -> dict:
    accounts = session.exec(select(WechatAccount).order_by(WechatAccount.id)).all()
    groups = session.exec(select(ChatGroup).order_by(ChatGroup.id)).all()
    contents = session.exec(select(ContentItem).where(ContentItem.enabled == True).order_by(ContentItem.id.desc())).all()  # noqa: E712
    users = session.exec(select(User).where(User.enabled == True).order_by(User.id)).all()  # noqa: E712
    names = {a.id: a.nickname or a.wxid for a in accounts}
    return {
        "accounts": [(a.id, f"{a.nickname or a.wxid}（健康分 {a.health_score}）") for a in accounts],
        "groups": [(g.id, f"{g.name or g.chatroom_id} · {names.get(g.account_id, '')}") for g in groups],
        "contents": [(c.id, f"{c.title}（{c.kind}）") for c in contents],
        # 朋友圈同步 posts its items in the order the browser sends them, which is the list's order: the
        # 内容库's own (oldest first), so a series 第1天, 第2天 … goes out in that order.
        "contents_in_order": [(c.id, f"{c.title}（{c.kind}）") for c in reversed(contents)],
        "users": [(u.id, u.display_name or u.username) for u in users],
        "account_names": names,
        "group_names": {g.id: g.name or g.chatroom_id for g in groups},
    }
