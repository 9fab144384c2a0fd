"""公司管理: the companies customers work for, each with its customer list and a detail page.

Functions take a Session; bad input raises CrmError with Chinese field messages.
"""
from __future__ import annotations

from sqlalchemy import func, or_, update
from sqlmodel import Session, select

from crm.customers.models import Company, Customer
from crm.errors import CrmError, NotFound
from crm.scope import Viewer, customers as customer_scope

_LIMITS = {"name": 200, "industry": 100, "address": 300, "phone": 32, "remark": 1000}
_LABELS = {"name": "公司名称", "industry": "行业", "address": "地址", "phone": "电话", "remark": "备注"}


def list_companies(session: Session, q: str = "", page: int = 1, per_page: int = 20) -> tuple[list[dict], int]:
    """Companies with their customer counts, filtered by name/industry."""
    counts = (select(Customer.company_id, func.count().label("n")).where(Customer.status == "active")
              .group_by(Customer.company_id).subquery())
    query = select(Company, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.company_id == Company.id)
    total_q = select(func.count()).select_from(Company)
    if q:
        cond = or_(Company.name.contains(q, autoescape=True), Company.industry.contains(q, autoescape=True))
        query, total_q = query.where(cond), total_q.where(cond)
    rows = session.execute(query.order_by(Company.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()
    return [{"company": c, "customers": n} for c, n in rows], session.scalar(total_q) or 0


def get_company(session: Session, company_id: int) -> Company:
    row = session.get(Company, company_id)
    if row is None:
        raise NotFound("公司不存在或已删除")
    return row


def company_choices(session: Session) -> list[tuple[int, str]]:
    return [(c.id, c.name) for c in session.exec(select(Company).order_by(Company.name))]


def _validate(session: Session, data: dict, company_id: int | None) -> dict:
    clean, errors = {}, {}
    for key, limit in _LIMITS.items():
        value = str(data.get(key) or "").strip()
        if len(value) > limit:
            errors[key] = f"{_LABELS[key]}最多 {limit} 字"
        clean[key] = value
    if not clean["name"]:
        errors["name"] = "请填写公司名称"
    else:
        clash = session.exec(select(Company).where(Company.name == clean["name"])).first()
        if clash is not None and clash.id != company_id:
            errors["name"] = f"公司「{clean['name']}」已存在"
    if errors:
        raise CrmError("公司信息有误，请检查", errors)
    return clean


def create_company(session: Session, data: dict) -> Company:
    row = Company(**_validate(session, data, None))
    session.add(row)
    session.flush()
    return row


def update_company(session: Session, company_id: int, data: dict) -> Company:
    row = get_company(session, company_id)
    for key, value in _validate(session, data, company_id).items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return row


def delete_company(session: Session, company_id: int) -> None:
    """Deletes the company; its customers stay, without a company."""
    row = get_company(session, company_id)
    session.execute(update(Customer).where(Customer.company_id == company_id).values(company_id=None))
    session.delete(row)
    session.flush()


def company_customers(session: Session, company_id: int, viewer: Viewer, limit: int = 200) -> list[Customer]:
    """The company's contacts that `viewer` may see (crm.scope)."""
    return list(session.exec(select(Customer).where(Customer.company_id == company_id, Customer.status == "active",
                                                    customer_scope(viewer))
                             .order_by(Customer.id.desc()).limit(limit)))


def find_or_create_by_names(session: Session, names: set[str]) -> dict[str, int]:
    """Name → id for an import's 公司 column, creating the missing companies (one INSERT each)."""
    names = {n.strip()[:200] for n in names if n and n.strip()}
    found = {c.name: c.id for c in session.exec(select(Company).where(Company.name.in_(names)))} if names else {}
    for name in sorted(names - set(found)):
        row = Company(name=name)
        session.add(row)
        session.flush()
        found[name] = row.id
    return found
