"""功能注册's storage: read the stored menu overrides with the revision they belong to, and
change them (each change bumps the revision so every web process re-reads on its next request).
What a key means (which groups and endpoints exist) is the web layer's declaration; this module
only stores, and refuses what could never be shown (an over-long label)."""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import delete, select, update
from sqlmodel import Session

from config.clock import utcnow
from crm.people.errors import PeopleError
from crm.people.menu_models import MenuOverride, MenuRevision

KINDS = ("group", "item")
LABEL_MAX = 40


def revision(session: Session) -> int:
    value = session.execute(select(MenuRevision.revision).where(MenuRevision.id == 1)).scalar()
    return int(value or 0)


def load(session: Session) -> dict[tuple[str, str], MenuOverride]:
    return {(r.kind, r.key): r for r in session.execute(select(MenuOverride)).scalars()}


def _bump(session: Session) -> None:
    if not session.execute(update(MenuRevision).where(MenuRevision.id == 1)
                           .values(revision=MenuRevision.revision + 1)).rowcount:
        session.add(MenuRevision(id=1, revision=1))
    session.flush()


def _row(session: Session, kind: str, key: str) -> MenuOverride:
    if kind not in KINDS:
        raise PeopleError(f"未知的菜单类型「{kind}」")
    return session.get(MenuOverride, (kind, key)) or MenuOverride(kind=kind, key=key)


def _save(session: Session, row: MenuOverride, user: str) -> None:
    row.updated_by, row.updated_at = user, utcnow()
    if row.position is None and not row.hidden and not row.label:
        if session.get(MenuOverride, (row.kind, row.key)) is not None:
            session.delete(row)  # back to the declaration: no row
    else:
        session.add(row)


def set_hidden(session: Session, kind: str, key: str, hidden: bool, user: str = "") -> None:
    row = _row(session, kind, key)
    row.hidden = hidden
    _save(session, row, user)
    _bump(session)


def rename(session: Session, kind: str, key: str, label: Optional[str], user: str = "") -> None:
    """A new label; empty restores the declared one."""
    label = (label or "").strip()
    if len(label) > LABEL_MAX:
        raise PeopleError(f"名称最多 {LABEL_MAX} 个字符", "label")
    row = _row(session, kind, key)
    row.label = label
    _save(session, row, user)
    _bump(session)


def set_order(session: Session, kind: str, keys: Iterable[str], user: str = "") -> None:
    """Stores the full order of one list (the groups, or the items of one group) as positions."""
    for position, key in enumerate(keys):
        row = _row(session, kind, key)
        row.position = position
        _save(session, row, user)
    _bump(session)


def reset(session: Session) -> int:
    """恢复默认: forgets every override; returns how many there were."""
    count = session.execute(delete(MenuOverride)).rowcount
    _bump(session)
    return count
