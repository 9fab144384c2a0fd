"""我的信息: who I am here — name, roles, departments, last sign-in and how many customers I follow."""
from __future__ import annotations

from sqlalchemy import func
from sqlmodel import Session, select

from analytics.panels import register
from analytics.panels.base import Door, Panel, PanelContext
from crm.customers.models import Customer
from crm.people.models import Department, Role, User, UserDepartment, UserRole


@register
class MyInfo(Panel):
    key = "my_info"
    title = "我的信息"
    permission = "dashboard.view"
    page = "dashboard.index"
    description = "姓名、角色、部门、最近登录与我负责的客户数"

    def data(self, session: Session, ctx: PanelContext) -> dict:
        user = session.get(User, ctx.user_id)
        roles = session.exec(select(Role.name).join(UserRole, UserRole.role_id == Role.id)
                             .where(UserRole.user_id == ctx.user_id).order_by(Role.id)).all()
        departments = session.exec(select(Department.name).join(UserDepartment, UserDepartment.department_id == Department.id)
                                   .where(UserDepartment.user_id == ctx.user_id).order_by(Department.id)).all()
        # owner_id is indexed: the count reads only this person's rows.
        customers = session.exec(select(func.count()).select_from(Customer).where(
            Customer.owner_id == ctx.user_id, Customer.status == "active")).one()
        return {"name": (user.display_name or user.username) if user else "", "username": user.username if user else "",
                "is_admin": bool(user and user.is_admin), "roles": list(roles), "departments": list(departments),
                "last_login_at": user.last_login_at if user else None, "customers": int(customers),
                "customers_door": Door("customers.index", {"view": "mine"})}
