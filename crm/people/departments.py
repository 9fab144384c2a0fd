"""组织管理: the department tree (总部 → 销售部 → 营销一组 …) and who works where.

A user may sit in several departments. A department can be renamed, moved under another one
and reordered among its siblings; it can only be deleted once it has no sub-departments and
no members, so nobody silently loses their place in the organisation. "包含下级" lists the
members of a department together with those of every department below it.

Every function takes the Database and runs its own transaction (like the rest of
crm.people); bad input raises PeopleError with a Chinese message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Optional

from sqlalchemy import delete, func, select as sa_select
from sqlmodel import Session, col, select

from config.db import Database
from crm.people.errors import PeopleError
from crm.people.models import Department, User, UserDepartment

MAX_NAME = 100


@dataclass
class DepartmentNode:
    """One department of the tree with its direct member count and its children in order."""

    id: int
    name: str
    parent_id: Optional[int]
    position: int
    member_count: int = 0
    children: list["DepartmentNode"] = field(default_factory=list)
    depth: int = 0


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise PeopleError("部门名称不能为空", "name")
    if len(name) > MAX_NAME:
        raise PeopleError(f"部门名称不能超过 {MAX_NAME} 个字符", "name")
    return name


def _get(session: Session, department_id: int) -> Department:
    dep = session.get(Department, department_id)
    if dep is None:
        raise PeopleError("部门不存在")
    return dep


def _siblings(session: Session, parent_id: Optional[int], exclude: Optional[int] = None) -> list[Department]:
    stmt = select(Department).where(Department.parent_id == parent_id if parent_id is not None
                                    else col(Department.parent_id).is_(None))
    if exclude is not None:
        stmt = stmt.where(Department.id != exclude)
    return list(session.exec(stmt.order_by(Department.position, Department.id)).all())


def _refuse_duplicate(session: Session, parent_id: Optional[int], name: str, exclude: Optional[int] = None) -> None:
    if any(d.name == name for d in _siblings(session, parent_id, exclude)):
        raise PeopleError(f"同一上级部门下已有名为「{name}」的部门", "name")


def descendant_ids(session: Session, department_id: int) -> list[int]:
    """The department and every department below it (one recursive query, any depth)."""
    table = Department.__table__
    tree = sa_select(table.c.id).where(table.c.id == department_id).cte("dep_tree", recursive=True)
    tree = tree.union_all(sa_select(table.c.id).where(table.c.parent_id == tree.c.id))
    return [row[0] for row in session.execute(sa_select(tree.c.id)).all()]


def create_department(db: Database, name: str, parent_id: Optional[int] = None) -> Department:
    name = _clean_name(name)
    with db.write() as session:
        if parent_id is not None:
            _get(session, parent_id)
        _refuse_duplicate(session, parent_id, name)
        last = session.exec(sa_select(func.max(Department.position)).where(
            Department.parent_id == parent_id if parent_id is not None
            else col(Department.parent_id).is_(None))).scalar()
        dep = Department(name=name, parent_id=parent_id, position=(last or 0) + 1)
        session.add(dep)
        session.flush()
        session.refresh(dep)
        return dep


def rename_department(db: Database, department_id: int, name: str) -> Department:
    name = _clean_name(name)
    with db.write() as session:
        dep = _get(session, department_id)
        _refuse_duplicate(session, dep.parent_id, name, exclude=dep.id)
        dep.name = name
        session.add(dep)
        return dep


def move_department(db: Database, department_id: int, parent_id: Optional[int],
                    position: Optional[int] = None) -> Department:
    """Puts the department under `parent_id` (None: top level) at index `position` among its new
    siblings (None: last). Moving a department under itself or its own sub-department is refused."""
    with db.write() as session:
        dep = _get(session, department_id)
        if parent_id is not None:
            _get(session, parent_id)
            if parent_id in descendant_ids(session, dep.id):
                raise PeopleError("不能把部门移动到它自己或它的下级部门之下", "parent_id")
        _refuse_duplicate(session, parent_id, dep.name, exclude=dep.id)
        siblings = _siblings(session, parent_id, exclude=dep.id)
        index = len(siblings) if position is None else max(0, min(int(position), len(siblings)))
        siblings.insert(index, dep)
        dep.parent_id = parent_id
        # Renumber the whole sibling list so positions stay dense and the order is unambiguous.
        for i, sibling in enumerate(siblings, start=1):
            sibling.position = i
            session.add(sibling)
        return dep


def shift_department(db: Database, department_id: int, step: int) -> Department:
    """上移 / 下移: one place up (step=-1) or down (step=1) among its siblings."""
    with db.read() as session:
        dep = _get(session, department_id)
        order = [d.id for d in _siblings(session, dep.parent_id)]
        parent_id = dep.parent_id
    index = order.index(department_id) + (1 if step > 0 else -1)
    return move_department(db, department_id, parent_id, max(0, index))


def delete_department(db: Database, department_id: int) -> None:
    with db.write() as session:
        dep = _get(session, department_id)
        children = session.exec(sa_select(func.count()).select_from(Department)
                                .where(Department.parent_id == dep.id)).scalar()
        if children:
            raise PeopleError(f"部门「{dep.name}」还有 {children} 个下级部门，请先移动或删除下级部门")
        members = session.exec(sa_select(func.count()).select_from(UserDepartment)
                               .where(UserDepartment.department_id == dep.id)).scalar()
        if members:
            raise PeopleError(f"部门「{dep.name}」还有 {members} 名成员，请先移出成员")
        session.delete(dep)


def tree(db: Database) -> list[DepartmentNode]:
    """The whole tree, top-level departments first, each level in display order."""
    with db.read() as session:
        deps = session.exec(select(Department).order_by(Department.position, Department.id)).all()
        counts = dict(session.exec(sa_select(UserDepartment.department_id, func.count())
                                   .group_by(UserDepartment.department_id)).all())
    nodes = {d.id: DepartmentNode(d.id, d.name, d.parent_id, d.position, counts.get(d.id, 0)) for d in deps}
    roots: list[DepartmentNode] = []
    for dep in deps:
        node = nodes[dep.id]
        parent = nodes.get(dep.parent_id) if dep.parent_id is not None else None
        (parent.children if parent else roots).append(node)
    _set_depth(roots, 0)
    return roots


def _set_depth(nodes: list[DepartmentNode], depth: int) -> None:
    for node in nodes:
        node.depth = depth
        _set_depth(node.children, depth + 1)


def flatten(nodes: list[DepartmentNode]) -> list[DepartmentNode]:
    """The tree in display order as one list (for indented pickers)."""
    out: list[DepartmentNode] = []
    for node in nodes:
        out.append(node)
        out.extend(flatten(node.children))
    return out


def add_users(db: Database, department_id: int, user_ids: Iterable[int]) -> int:
    """Adds users to a department (those already in it are left alone); returns how many were added."""
    wanted = sorted({int(u) for u in user_ids})
    if not wanted:
        raise PeopleError("请选择要加入部门的用户", "user_ids")
    with db.write() as session:
        _get(session, department_id)
        found = set(session.exec(select(User.id).where(col(User.id).in_(wanted))).all())
        if len(found) != len(wanted):
            raise PeopleError("部分用户不存在，请刷新页面后重试", "user_ids")
        present = set(session.exec(select(UserDepartment.user_id).where(
            UserDepartment.department_id == department_id, col(UserDepartment.user_id).in_(wanted))).all())
        for user_id in wanted:
            if user_id not in present:
                session.add(UserDepartment(user_id=user_id, department_id=department_id))
        return len(set(wanted) - present)


def remove_user(db: Database, department_id: int, user_id: int) -> int:
    with db.write() as session:
        _get(session, department_id)
        return session.execute(delete(UserDepartment).where(
            UserDepartment.department_id == department_id, UserDepartment.user_id == user_id)).rowcount


def set_user_departments(db: Database, user_id: int, department_ids: Iterable[int]) -> list[int]:
    """所属部门 on the user form: replaces the user's departments with exactly these."""
    wanted = sorted({int(d) for d in department_ids})
    with db.write() as session:
        if session.get(User, user_id) is None:
            raise PeopleError("用户不存在")
        found = set(session.exec(select(Department.id).where(col(Department.id).in_(wanted))).all()) if wanted else set()
        if len(found) != len(wanted):
            raise PeopleError("部分部门不存在，请刷新页面后重试", "department_ids")
        session.execute(delete(UserDepartment).where(UserDepartment.user_id == user_id))
        for dep_id in wanted:
            session.add(UserDepartment(user_id=user_id, department_id=dep_id))
    return wanted


def departments_of(db: Database, user_ids: Iterable[int]) -> dict[int, list[Department]]:
    """Each user's departments, in tree display order of their names."""
    ids = sorted({int(u) for u in user_ids})
    if not ids:
        return {}
    with db.read() as session:
        rows = session.exec(select(UserDepartment.user_id, Department)
                            .join(Department, Department.id == UserDepartment.department_id)
                            .where(col(UserDepartment.user_id).in_(ids))
                            .order_by(Department.position, Department.id)).all()
    out: dict[int, list[Department]] = {}
    for user_id, dep in rows:
        out.setdefault(user_id, []).append(dep)
    return out


def department_users(db: Database, department_id: Optional[int], include_children: bool = True,
                     search: str = "") -> list[User]:
    """Members of a department (and, with 包含下级, of every department below it), each once.
    `department_id` None lists every user; `search` matches username or name."""
    with db.read() as session:
        stmt = select(User).order_by(User.id)
        if department_id is not None:
            _get(session, department_id)
            deps = descendant_ids(session, department_id) if include_children else [department_id]
            members = select(UserDepartment.user_id).where(col(UserDepartment.department_id).in_(deps))
            stmt = stmt.where(col(User.id).in_(members))
        if search.strip():
            like = f"%{search.strip()}%"
            stmt = stmt.where(col(User.username).ilike(like) | col(User.display_name).ilike(like))
        return list(session.exec(stmt).all())


__all__ = [
    "DepartmentNode", "add_users", "create_department", "delete_department", "department_users",
    "departments_of", "descendant_ids", "flatten", "move_department", "remove_user", "rename_department",
    "set_user_departments", "shift_department", "tree",
]
