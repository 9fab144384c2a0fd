"""What the three kinds of group rules (分组规则, 分配规则, 回收规则) share: finding one, saving
cleaned fields, deleting, 启用/禁用, the drag-and-drop order, and the checks on a rule's name
and switches."""
from __future__ import annotations

from typing import Iterable, Optional

from sqlmodel import Session

from crm.errors import NotFound

FALSE_VALUES = (False, "0", "false", "off", "")


def clean_name(data: dict, errors: dict) -> str:
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "请填写规则名称"
    elif len(name) > 100:
        errors["name"] = "规则名称最多 100 个字"
    return name


def switch(data: dict, key: str, default: bool = True) -> bool:
    """A checkbox or JSON boolean; missing means the default."""
    return data.get(key, default) not in FALSE_VALUES


class RuleBook:
    def __init__(self, model, label: str):
        self.model = model
        self.label = label

    def get(self, session: Session, rule_id):
        valid = isinstance(rule_id, int) and not isinstance(rule_id, bool)
        rule = session.get(self.model, rule_id) if valid else None
        if rule is None:
            raise NotFound(f"{self.label}不存在")
        return rule

    def save(self, session: Session, rule, clean: dict):
        for key, value in clean.items():
            setattr(rule, key, value)
        session.add(rule)
        session.flush()
        return rule

    def delete(self, session: Session, rule_id: int) -> None:
        session.delete(self.get(session, rule_id))
        session.flush()

    def set_enabled(self, session: Session, rule_id: int, enabled: bool):
        rule = self.get(session, rule_id)
        rule.enabled = bool(enabled)
        session.add(rule)
        session.flush()
        return rule

    def reorder(self, session: Session, order: Iterable[int], group_id: Optional[int] = None) -> None:
        """The first id of the dragged list runs first (position 1 is the highest priority)."""
        for position, rule_id in enumerate(order, start=1):
            rule = session.get(self.model, rule_id)
            if rule is not None and (group_id is None or rule.group_id == group_id):
                rule.position = position
                session.add(rule)
        session.flush()
