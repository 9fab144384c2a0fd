"""The 群活 rollup: new group messages since the watermark are counted into the day tables.

A job (cron, every minute) reads chat_message rows past the watermark in id order, in batches,
keeps the group ones and adds them per (group, local day) and per (group, day, sender) with one
upsert per touched row — the cost per message is a share of a batch query plus a dict update.
Rows newer than SETTLE_SECONDS are left for the next run: ids are taken before commit, so a
transaction that commits late could otherwise be skipped past (recompute_day repairs any day
from the messages themselves, e.g. after an import of old messages).

Joins, quits and members are recomputed for the touched days from chat_group_member (indexed
ranges on joined_at / left_at); a member first seen by a full sync is not a join.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import and_, bindparam, delete, false, func, or_, select, update
from sqlmodel import Session

from community.activity.days import bounds, day_of
from community.activity.models import ActivityMark, GroupActivityDay, GroupSpeakerDay
from community.activity.upsert import insert_for
from conversations.models import ChatMessage, Conversation
from devices.models import ChatGroup, ChatGroupMember, WechatAccount

MARK_KEY = "messages"
SETTLE_SECONDS = 5
BATCH = 5000
COUNTED_TYPES_EXCLUDED = ("event",)  # join/leave notices and the like are not someone speaking
DAY = GroupActivityDay.__table__
SPEAKER = GroupSpeakerDay.__table__
_SET_FIGURES = (update(DAY).where(DAY.c.group_id == bindparam("g"), DAY.c.day == bindparam("d"))
                .values(speakers=bindparam("sp"), joins=bindparam("jo"), quits=bindparam("qu"), members=bindparam("me")))


def _mark(session: Session) -> ActivityMark:
    mark = session.get(ActivityMark, MARK_KEY)
    if mark is None:
        mark = ActivityMark(key=MARK_KEY, last_id=0)
        session.add(mark)
        session.flush()
    return mark


def _batch(session: Session, after_id: int, settled_before: datetime, limit: int) -> list:
    return session.execute(
        select(ChatMessage.id, ChatMessage.sent_at, ChatMessage.sender_id, ChatMessage.sender_name,
               ChatMessage.direction, ChatMessage.msg_type, ChatMessage.account_id, Conversation.kind,
               Conversation.group_id)
        .join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(ChatMessage.id > after_id, ChatMessage.created_at < settled_before)
        .order_by(ChatMessage.id).limit(limit)).all()


def _speaker(row, account_wxids: dict) -> tuple[str, str]:
    """Who spoke: the sender, or for our own outbound message the account itself."""
    if row.sender_id:
        return row.sender_id, row.sender_name or ""
    return account_wxids.get(row.account_id, f"account:{row.account_id}"), "本号"


def _account_wxids(session: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(WechatAccount.id, WechatAccount.wxid).where(WechatAccount.id.in_(ids))).all())


def _tally(session: Session, rows: list, tz: str) -> tuple[dict, dict]:
    """{(group, day): (messages, last sent)} and {(group, day, sender): (messages, name)} of these rows."""
    wxids = _account_wxids(session, {r.account_id for r in rows if not r.sender_id})
    per_day: dict = {}
    per_speaker: dict = {}
    for r in rows:
        day = day_of(r.sent_at, tz)
        n, last = per_day.get((r.group_id, day), (0, None))
        per_day[(r.group_id, day)] = (n + 1, r.sent_at if last is None or r.sent_at > last else last)
        sender, name = _speaker(r, wxids)
        key = (r.group_id, day, sender[:64])
        per_speaker[key] = (per_speaker.get(key, (0, ""))[0] + 1, name or per_speaker.get(key, (0, ""))[1])
    return per_day, per_speaker


def _add(session: Session, per_day: dict, per_speaker: dict) -> None:
    if per_day:
        stmt = insert_for(session, DAY)
        stmt = stmt.on_conflict_do_update(
            index_elements=["group_id", "day"],
            set_={"messages": DAY.c.messages + stmt.excluded.messages,
                  "last_message_at": func.coalesce(
                      func.max(DAY.c.last_message_at, stmt.excluded.last_message_at)
                      if session.get_bind().dialect.name == "sqlite"
                      else func.greatest(DAY.c.last_message_at, stmt.excluded.last_message_at),
                      stmt.excluded.last_message_at)})
        session.execute(stmt, [{"group_id": g, "day": d, "messages": n, "last_message_at": last, "speakers": 0,
                                "joins": 0, "quits": 0, "members": 0} for (g, d), (n, last) in per_day.items()])
    if per_speaker:
        stmt = insert_for(session, SPEAKER)
        stmt = stmt.on_conflict_do_update(
            index_elements=["group_id", "day", "sender_id"],
            set_={"messages": SPEAKER.c.messages + stmt.excluded.messages,
                  "sender_name": stmt.excluded.sender_name})
        session.execute(stmt, [{"group_id": g, "day": d, "sender_id": s, "sender_name": name[:100], "messages": n}
                               for (g, d, s), (n, name) in per_speaker.items()])


def refresh_days(session: Session, pairs: set[tuple[int, date]], tz: str, now: datetime) -> None:
    """Recomputes speakers, joins, quits and members of these (group, day) rows."""
    by_day: dict[date, set[int]] = defaultdict(set)
    for group_id, day in pairs:
        by_day[day].add(group_id)
    today = day_of(now, tz)
    for day, groups in by_day.items():
        start, end = bounds(day, tz)
        ids = sorted(groups)
        stmt = insert_for(session, DAY)
        session.execute(stmt.on_conflict_do_nothing(index_elements=["group_id", "day"]),
                        [{"group_id": g, "day": day, "messages": 0, "speakers": 0, "joins": 0, "quits": 0,
                          "members": 0, "last_message_at": None} for g in ids])
        speakers = dict(session.execute(select(SPEAKER.c.group_id, func.count()).where(
            SPEAKER.c.day == day, SPEAKER.c.group_id.in_(ids)).group_by(SPEAKER.c.group_id)).all())
        m = ChatGroupMember
        joins = dict(session.execute(select(m.group_id, func.count()).where(
            m.group_id.in_(ids), m.joined_at >= start, m.joined_at < end, m.joined_via_sync == false())
            .group_by(m.group_id)).all())
        quits = dict(session.execute(select(m.group_id, func.count()).where(
            m.group_id.in_(ids), m.left_at >= start, m.left_at < end).group_by(m.group_id)).all())
        if day >= today:  # today: the live member count the sync keeps
            members = dict(session.execute(select(ChatGroup.id, ChatGroup.member_count).where(ChatGroup.id.in_(ids))).all())
        else:  # a past day: who was in the group at its end
            members = dict(session.execute(select(m.group_id, func.count()).where(
                m.group_id.in_(ids), m.joined_at < end, or_(m.left_at.is_(None), m.left_at >= end))
                .group_by(m.group_id)).all())
        session.execute(_SET_FIGURES, [{"g": g, "d": day, "sp": speakers.get(g, 0), "jo": joins.get(g, 0),
                                        "qu": quits.get(g, 0), "me": members.get(g, 0)} for g in ids])


def roll_up(session: Session, now: datetime, tz: str, batch: int = BATCH, max_batches: int = 200) -> dict:
    """Counts group messages past the watermark; returns {"messages", "groups", "last_id"}."""
    mark = _mark(session)
    settled = now - timedelta(seconds=SETTLE_SECONDS)
    counted, touched = 0, set()
    for _ in range(max_batches):
        rows = _batch(session, mark.last_id, settled, batch)
        if not rows:
            break
        wanted = [r for r in rows if r.kind == "group" and r.group_id is not None
                  and r.msg_type not in COUNTED_TYPES_EXCLUDED]
        per_day, per_speaker = _tally(session, wanted, tz)
        counted += len(wanted)
        _add(session, per_day, per_speaker)
        touched.update(per_day)
        mark.last_id = rows[-1].id
        if len(rows) < batch:
            break
    # today's joins and quits move without messages too: refresh every group with a change today
    today = day_of(now, tz)
    start, _end = bounds(today, tz)
    m = ChatGroupMember
    changed = session.execute(select(m.group_id).where(or_(
        and_(m.joined_at >= start, m.joined_via_sync == false()), m.left_at >= start)).distinct()).scalars().all()
    touched.update((g, today) for g in changed)
    if touched:
        refresh_days(session, touched, tz, now)
    mark.updated_at = now
    session.add(mark)
    return {"messages": counted, "groups": len({g for g, _ in touched}), "last_id": mark.last_id}


def recompute_day(session: Session, day: date, tz: str, now: datetime, group_ids: list[int] | None = None) -> int:
    """Rebuilds one local day from the messages themselves (repairs late or imported messages);
    returns how many group messages it counted."""
    start, end = bounds(day, tz)
    conditions = [Conversation.kind == "group", ChatMessage.sent_at >= start, ChatMessage.sent_at < end,
                  ChatMessage.msg_type.notin_(COUNTED_TYPES_EXCLUDED), ChatMessage.id <= _mark(session).last_id]
    if group_ids is not None:
        conditions.append(Conversation.group_id.in_(group_ids))
    rows = session.execute(
        select(Conversation.group_id, ChatMessage.sender_id, ChatMessage.sender_name, ChatMessage.account_id,
               ChatMessage.sent_at, ChatMessage.direction, Conversation.kind)
        .join(Conversation, Conversation.id == ChatMessage.conversation_id).where(*conditions)).all()
    day_filter = [DAY.c.day == day] + ([DAY.c.group_id.in_(group_ids)] if group_ids is not None else [])
    speaker_filter = [SPEAKER.c.day == day] + ([SPEAKER.c.group_id.in_(group_ids)] if group_ids is not None else [])
    session.execute(delete(SPEAKER).where(*speaker_filter))
    session.execute(update(DAY).where(*day_filter).values(messages=0, last_message_at=None))
    per_day, per_speaker = _tally(session, [r for r in rows if r.group_id is not None], tz)
    _add(session, per_day, per_speaker)
    m = ChatGroupMember
    moved = select(m.group_id).where(or_(and_(m.joined_at >= start, m.joined_at < end),
                                         and_(m.left_at >= start, m.left_at < end)))
    if group_ids is not None:
        moved = moved.where(m.group_id.in_(group_ids))
    groups = (set(session.execute(select(DAY.c.group_id).where(*day_filter)).scalars().all()) | {g for g, _ in per_day}
              | set(session.execute(moved.distinct()).scalars().all()))
    refresh_days(session, {(g, day) for g in groups}, tz, now)
    return len(rows)
