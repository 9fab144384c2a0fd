"""分配规则的配置: what a marketer sets under 获客场景配置 → 线索分配, checked before it is saved.

A scene keeps an ordered list of rules. The first rule whose condition rows match a lead decides
who gets it — 轮询, 随机, 按权重, 按负载 (fewest open leads), 按地区, 按技能标签 or 按线索价值 —
among the rule's people (or its team's salespeople), each with an optional daily cap. Working
hours decide whether a lead arriving at night goes to the backup people or waits; the backups
also take the leads that nobody in a rule can take (everyone capped or disabled).

Every problem is reported at once, keyed by where it is (`assignment_rules.rules[0].user_ids`),
with a Chinese message that names the rule.
"""
from __future__ import annotations

from typing import Callable, Optional

from sqlalchemy import select
from sqlmodel import Session

from config.errors import ClockError
from config.timewindow import normalize_clock
from crm.groups.models import CustomerGroup, GroupMember
from crm.groups.rulebook import switch
from crm.leads.errors import LeadsError
from crm.people.models import User
from crm.tags.models import Tag
from rules.conditions import ConditionError, parse_conditions

METHODS = {"round_robin": "轮询", "random": "随机", "weighted": "按权重", "load": "按负载", "region": "按地区",
           "skill": "按技能标签", "value": "按线索价值"}
# Methods recorded on an assignment that no rule has.
OTHER_METHODS = {"backup": "备用分配人", "manual": "手动分配", "owner": "沿用客户负责人"}
# The methods that first narrow the people down by the lead (its region, tags, value); the list
# key in the rule holds those narrower lists.
ENTRY_LISTS = {"region": "regions", "skill": "skills", "value": "tiers"}
OUTSIDE_HOURS = {"backup": "交给备用分配人", "hold": "暂不分配，等待人工处理"}
WEEKDAYS = {1: "周一", 2: "周二", 3: "周三", 4: "周四", 5: "周五", 6: "周六", 7: "周日"}
DEFAULT_HOURS = {"enabled": False, "weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}
MAX_RULES = 50
MAX_PEOPLE = 200
MAX_WEIGHT = 100  # smooth weighted round-robin walks one period of sum(weights) picks
MAX_CAP = 10000


class _Bad(ValueError):
    """One entry value that cannot be used; the message follows "规则「X」："."""


def _int(raw) -> int:
    if isinstance(raw, bool) or raw is None or isinstance(raw, float) and not raw.is_integer():
        raise ValueError(raw)
    return int(str(raw).strip()) if isinstance(raw, str) else int(raw)


def people_text(users: list[User]) -> str:
    return "、".join(u.display_name or u.username for u in users)


class _Checker:
    """Collects every problem of one configuration; users and groups are read once each."""

    def __init__(self, session: Session):
        self.session = session
        self.errors: dict[str, str] = {}

    def fail(self, key: str, message: str) -> None:
        self.errors.setdefault(f"assignment_rules.{key}", message)

    def users(self, raw, key: str, who: str) -> list[int]:
        """Distinct user ids in the order given; each must exist and be enabled."""
        if raw in (None, ""):
            return []
        if isinstance(raw, str):  # a form's "3,5,8"
            raw = [item for item in raw.replace("，", ",").split(",") if item.strip()]
        items = raw if isinstance(raw, list) else None
        if items is None:
            self.fail(key, f"{who}：人员列表格式不正确")
            return []
        ids: list[int] = []
        for item in items:
            try:
                ids.append(_int(item))
            except (TypeError, ValueError):
                self.fail(key, f"{who}：人员编号「{item}」无效")
                return []
        ids = list(dict.fromkeys(ids))
        if len(ids) > MAX_PEOPLE:
            self.fail(key, f"{who}：最多选择 {MAX_PEOPLE} 人")
            return []
        found = {u.id: u for u in self.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
        missing = [i for i in ids if i not in found]
        disabled = [found[i] for i in ids if i in found and not found[i].enabled]
        if missing:
            self.fail(key, f"{who}：用户 {'、'.join(f'#{i}' for i in missing)} 不存在")
        elif disabled:
            self.fail(key, f"{who}：{people_text(disabled)} 已停用")
        return ids

    def group(self, raw, key: str, who: str) -> tuple[Optional[int], list[int]]:
        """(group id, its salespeople) or (None, [])."""
        if raw in (None, "", 0):
            return None, []
        try:
            group = self.session.get(CustomerGroup, _int(raw))
        except (TypeError, ValueError):
            group = None
        if group is None:
            self.fail(key, f"{who}：所选团队（客户分组）不存在")
            return None, []
        sales = list(self.session.scalars(select(GroupMember.user_id).where(
            GroupMember.group_id == group.id, GroupMember.role == "sales").order_by(GroupMember.user_id)))
        return group.id, sales

    def entries(self, raw, key: str, who: str, what: str, read: Callable) -> list[dict]:
        """regions / skills / tiers: [{<what>: value, "user_ids": [...]}], each value once."""
        if raw in (None, ""):
            return []
        if not isinstance(raw, list):
            self.fail(key, f"{who}：{what}列表格式不正确")
            return []
        out, seen = [], set()
        for j, item in enumerate(raw):
            where = f"{key}[{j}]"
            if not isinstance(item, dict):
                self.fail(where, f"{who}：第 {j + 1} 个{what}格式不正确")
                continue
            try:
                field, value = read(self.session, item)
            except _Bad as exc:
                self.fail(where, f"{who}：第 {j + 1} 个{what}{exc}")
                continue
            if value in seen:
                self.fail(f"{where}.{field}", f"{who}：{what}「{value}」重复")
                continue
            seen.add(value)
            users = self.users(item.get("user_ids"), f"{where}.user_ids", f"{who}的{what}「{value}」")
            if not users:
                self.fail(f"{where}.user_ids", f"{who}：请为{what}「{value}」选择负责人")
            out.append({field: value, "user_ids": users})
        return out


def _region(session: Session, item: dict) -> tuple[str, str]:
    region = str(item.get("region") or "").strip()
    if not region:
        raise _Bad("没有填写地区")
    if len(region) > 64:
        raise _Bad("的名称最多 64 个字")
    return "region", region


def _skill(session: Session, item: dict) -> tuple[str, int]:
    try:
        tag = session.get(Tag, _int(item.get("tag_id")))
    except (TypeError, ValueError):
        tag = None
    if tag is None:
        raise _Bad("的标签不存在")
    return "tag_id", tag.id


def _tier(session: Session, item: dict) -> tuple[str, float]:
    raw = item.get("min_value")
    try:
        if isinstance(raw, bool):
            raise ValueError(raw)
        value = float(raw)
    except (TypeError, ValueError):
        raise _Bad("的最低价值应为数字") from None
    if not 0 <= value < 1e15:
        raise _Bad("的最低价值应不小于 0")
    return "min_value", int(value) if value.is_integer() else value


def _weights(check: _Checker, raw, key: str, who: str, pool: list[int]) -> dict[str, int]:
    """{"<user id>": 1..100}; every key must be one of the rule's people."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        check.fail(key, f"{who}：权重格式不正确")
        return {}
    out = {}
    for user_key, weight in raw.items():
        try:
            user_id, weight = _int(user_key), _int(weight)
        except (TypeError, ValueError):
            check.fail(key, f"{who}：权重应为 1–{MAX_WEIGHT} 的整数")
            continue
        if not 1 <= weight <= MAX_WEIGHT:
            check.fail(key, f"{who}：权重应为 1–{MAX_WEIGHT} 的整数")
        elif user_id not in pool:
            check.fail(key, f"{who}：设置了权重的用户 #{user_id} 不在分配人员中")
        else:
            out[str(user_id)] = weight
    return out


def _check_tiers(check: _Checker, tiers: list[dict], key: str, who: str) -> None:
    for j in range(1, len(tiers)):
        low, high = tiers[j - 1]["min_value"], tiers[j]["min_value"]
        if high <= low:
            check.fail(f"{key}[{j}].min_value",
                       f"{who}：价值档位应按最低价值从小到大排列（第 {j + 1} 档 {high} 不大于第 {j} 档 {low}）")


def _rule(check: _Checker, i: int, raw, fields: list[dict], tz: str, names: set) -> Optional[dict]:
    key = f"rules[{i}]"
    if not isinstance(raw, dict):
        check.fail(key, f"第 {i + 1} 条分配规则格式不正确")
        return None
    name = str(raw.get("name") or "").strip()
    who = f"规则「{name}」" if name else f"第 {i + 1} 条分配规则"
    if not name:
        check.fail(f"{key}.name", f"{who}：请填写规则名称")
    elif len(name) > 100:
        check.fail(f"{key}.name", f"{who}：规则名称最多 100 个字")
    elif name in names:
        check.fail(f"{key}.name", f"规则名称「{name}」重复")
    names.add(name)
    method = str(raw.get("method") or "round_robin")
    if method not in METHODS:
        check.fail(f"{key}.method", f"{who}：不认识的分配方式「{method}」")
    rows = raw.get("rows") or []
    try:
        parse_conditions(rows, fields, tz)
    except ConditionError as exc:
        check.fail(f"{key}.rows", f"{who}：{exc.message}")
    group_id, sales = check.group(raw.get("group_id"), f"{key}.group_id", who)
    user_ids = check.users(raw.get("user_ids"), f"{key}.user_ids", who)
    pool = user_ids or sales
    entries = {field: [] for field in ENTRY_LISTS.values()}
    for field, (what, read) in (("regions", ("地区", _region)), ("skills", ("标签", _skill)),
                                ("tiers", ("价值档位", _tier))):
        entries[field] = check.entries(raw.get(field), f"{key}.{field}", who, what, read)
    _check_tiers(check, entries["tiers"], f"{key}.tiers", who)
    try:
        cap = _int(raw.get("cap_per_day") or 0)
    except (TypeError, ValueError):
        cap = -1
    if not 0 <= cap <= MAX_CAP:
        check.fail(f"{key}.cap_per_day", f"{who}：每人每天上限应为 0–{MAX_CAP} 的整数（0 表示不限）")
    if method in ENTRY_LISTS and not entries[ENTRY_LISTS[method]]:
        what = {"region": "地区", "skill": "技能标签", "value": "价值档位"}[method]
        check.fail(f"{key}.{ENTRY_LISTS[method]}", f"{who}：{METHODS[method]}分配请至少设置一个{what}")
    elif method in METHODS and method not in ENTRY_LISTS and not pool:
        message = f"{who}：所选团队还没有业务员" if group_id else f"{who}：请选择分配人员或团队"
        check.fail(f"{key}.user_ids", message)
    weights = _weights(check, raw.get("weights"), f"{key}.weights", who, pool)
    if group_id:
        members = set(check.session.scalars(select(GroupMember.user_id).where(GroupMember.group_id == group_id)))
        everyone = set(user_ids).union(*(e["user_ids"] for lists in entries.values() for e in lists))
        outsiders = [u for u in check.session.scalars(select(User).where(User.id.in_(everyone - members)))]
        if outsiders:
            check.fail(f"{key}.user_ids", f"{who}：{people_text(outsiders)} 不是所选团队的成员")
    return {"name": name, "rows": rows, "method": method, "user_ids": user_ids, "group_id": group_id,
            "weights": weights, **entries, "cap_per_day": max(cap, 0)}


def _clock(raw, default: str, *, end: bool = False) -> Optional[str]:
    try:
        return normalize_clock(raw if raw not in (None, "") else default, end=end)
    except ClockError:
        return None


def _hours(check: _Checker, raw) -> dict:
    if raw in (None, ""):
        return dict(DEFAULT_HOURS)
    if not isinstance(raw, dict):
        check.fail("working_hours", "工作时间格式不正确")
        return dict(DEFAULT_HOURS)
    enabled = switch(raw, "enabled", False)
    days = raw.get("weekdays", DEFAULT_HOURS["weekdays"])
    try:
        weekdays = sorted({_int(d) for d in (days or [])})
    except (TypeError, ValueError):
        weekdays = [0]
    if any(d not in WEEKDAYS for d in weekdays):
        check.fail("working_hours.weekdays", "工作日只能是周一到周日（1–7）")
    elif enabled and not weekdays:
        check.fail("working_hours.weekdays", "启用工作时间时，请至少选择一个工作日")
    start, end = _clock(raw.get("start"), DEFAULT_HOURS["start"]), _clock(raw.get("end"), DEFAULT_HOURS["end"], end=True)
    if start is None:
        check.fail("working_hours.start", "上班时间应为 时:分（如 09:00）")
    if end is None:
        check.fail("working_hours.end", "下班时间应为 时:分（如 18:00）")
    if start and start == end:
        check.fail("working_hours.end", "上班和下班时间不能相同")
    return {"enabled": enabled, "weekdays": weekdays, "start": start or DEFAULT_HOURS["start"],
            "end": end or DEFAULT_HOURS["end"]}


def clean_assignment_rules(session: Session, data, fields: list[dict], tz: str | None = None) -> dict:
    """The configuration as stored; raises LeadsError naming every problem (nothing is saved).

    `fields` are the scene's event fields (crm.leads.fields.lead_event_fields); `tz` is the
    console's zone for date values typed in condition rows."""
    check = _Checker(session)
    fields = [{**f, "name": f.get("name") or f.get("key")} for f in fields or [] if isinstance(f, dict)]
    data = {} if data in (None, "") else data
    if not isinstance(data, dict):
        raise LeadsError("分配规则有误：格式不正确", {"assignment_rules": "分配规则格式不正确"})
    raw_rules = data.get("rules") or []
    if not isinstance(raw_rules, list):
        check.fail("rules", "分配规则列表格式不正确")
        raw_rules = []
    if len(raw_rules) > MAX_RULES:
        check.fail("rules", f"分配规则最多 {MAX_RULES} 条")
    names: set = set()
    rules = [_rule(check, i, raw, fields, tz, names) for i, raw in enumerate(raw_rules[:MAX_RULES])]
    hours = _hours(check, data.get("working_hours"))
    outside = str(data.get("outside_hours") or "backup")
    if outside not in OUTSIDE_HOURS:
        check.fail("outside_hours", f"非工作时间的处理方式「{outside}」无效")
    backups = check.users(data.get("backup_user_ids"), "backup_user_ids", "备用分配人")
    if hours["enabled"] and outside == "backup" and not backups:
        check.fail("backup_user_ids", "非工作时间交给备用分配人时，请至少选择一位备用分配人")
    if check.errors:
        first = next(iter(check.errors.values()))
        raise LeadsError(f"分配规则有误：{first}" + (f"（共 {len(check.errors)} 处）" if len(check.errors) > 1 else ""),
                         check.errors)
    return {"rules": [r for r in rules if r], "working_hours": hours, "outside_hours": outside,
            "backup_user_ids": backups, "notify_assignee": switch(data, "notify_assignee", True)}


def hours_text(hours: dict) -> str:
    """「周一至周五 09:00–18:00」 as the log and the console show it."""
    days = sorted(hours.get("weekdays") or [])
    if len(days) > 2 and days == list(range(days[0], days[-1] + 1)):
        day_text = f"{WEEKDAYS[days[0]]}至{WEEKDAYS[days[-1]]}"
    else:
        day_text = "、".join(WEEKDAYS[d] for d in days) or "无工作日"
    return f"{day_text} {hours.get('start')}–{hours.get('end')}"


__all__ = ["DEFAULT_HOURS", "ENTRY_LISTS", "METHODS", "OTHER_METHODS", "OUTSIDE_HOURS", "WEEKDAYS",
           "clean_assignment_rules", "hours_text", "people_text"]
