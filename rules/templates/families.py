"""Which permission governs a strategy: its template key decides. Workbench features come in
families (内容运营, 社群, 流量), each with its own view/manage permissions, so a 内容运营 can author
朋友圈同步 tasks while the strategies every other template key (a 场景获客 lead pipeline, a
hand-written strategy) stays behind 自动化策略管理's strategies.view / strategies.manage.

Family keys and permission names are stored (Role.permissions): never rename them without a data
migration. The permission names are declared with their labels in crm/people/permissions.py."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Family:
    key: str
    label: str
    view: str  # the permission to see the family's tasks
    manage: str  # the permission to create, edit, enable/disable and delete them
    templates: tuple[str, ...] = ()

    def permission(self, action: str) -> str:
        return self.manage if action == "manage" else self.view


GENERAL = Family("general", "自动化策略", "strategies.view", "strategies.manage")
FAMILIES: dict[str, Family] = {f.key: f for f in (
    Family("content", "内容运营", "workbench_content.view", "workbench_content.manage", ("moment_sync", "auto_like")),
    Family("community", "社群运营", "workbench_community.view", "workbench_community.manage",
           ("group_push", "group_welcome", "auto_group", "checkin", "reminder")),
    Family("traffic", "流量运营", "workbench_traffic.view", "workbench_traffic.manage", ("traffic_split", "keyword_reply")),
)}
_BY_TEMPLATE = {t: f for f in FAMILIES.values() for t in f.templates}


def family_of(template_key: Optional[str]) -> Family:
    """The family governing a strategy with this template key (GENERAL for none or an unknown key:
    a strategy nobody declared stays with whoever may edit any strategy)."""
    return _BY_TEMPLATE.get(template_key or "", GENERAL)


def hidden_templates(permissions) -> tuple[str, ...]:
    """Template keys of the families a user may not even view: lists leave their tasks out."""
    granted = set(permissions)
    return tuple(t for f in FAMILIES.values() if f.view not in granted for t in f.templates)


def governing(template_key: Optional[str], action: str) -> str:
    """The permission a user needs to `action` ("view" | "manage") a strategy of this template."""
    return family_of(template_key).permission(action)
