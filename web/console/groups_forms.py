"""Reading the 客户分组 console's forms: the audience editor (条件行 + 包含/不包含标签, or 自定义SQL)
into an audience spec, the choices its selects offer, and group/member forms."""
from __future__ import annotations

from flask import g, request
from sqlalchemy import select

from crm.customers.fieldset import customer_fields
from crm.groups.models import CustomerGroup
from crm.people.models import User
from rules.conditions import operators_metadata
from web.input_limits import int_values

ROW_KEYS = ("lparen", "field", "op", "value", "rparen", "join")


def _ints(name: str) -> list[int]:
    return int_values(request.form.getlist(name))


def spec_from_form() -> dict:
    """{"mode", "rows", "include_tags", "exclude_tags", "sql"} from the editor's inputs; rows
    without a field are blank lines and are dropped."""
    columns = {k: request.form.getlist(f"cond_{k}") for k in ROW_KEYS}
    rows = []
    for i, field in enumerate(columns["field"]):
        if not field.strip():
            continue
        row = {k: (columns[k][i] if i < len(columns[k]) else "") for k in ROW_KEYS}
        row["lparen"], row["rparen"] = len(row["lparen"].strip()), len(row["rparen"].strip())
        rows.append(row)
    mode = "sql" if request.form.get("mode") == "sql" else "conditions"
    spec = {"mode": mode, "include_tags": _ints("include_tags"), "exclude_tags": _ints("exclude_tags")}
    if mode == "sql":
        spec["sql"] = request.form.get("sql", "")
    else:
        spec["rows"] = rows
    return spec


def editor_context(session) -> dict:
    """What the audience editor's selects offer: customer fields, operators, tags."""
    try:
        from crm.tags.service import choices

        tags = [(t.id, t.name) for t in choices(session, g.user.id if g.get("user") else None)]
    except ImportError:  # the tags area not installed: the editor hides the tag pickers
        tags = []
    return {"fields": customer_fields(session), "operators": operators_metadata(), "tag_choices": tags}


def group_choices(session) -> list[tuple[int, str]]:
    return [(gid, name) for gid, name in session.execute(
        select(CustomerGroup.id, CustomerGroup.name).order_by(CustomerGroup.position, CustomerGroup.id))]


def user_choices(session) -> list[tuple[int, str]]:
    return [(u.id, u.display_name or u.username) for u in session.scalars(
        select(User).where(User.enabled.is_(True)).order_by(User.username))]


def group_form() -> dict:
    members = [{"user_id": u, "role": "sales"} for u in _ints("sales")]
    members += [{"user_id": u, "role": "manager"} for u in _ints("managers")]
    return {"name": request.form.get("name", ""), "remark": request.form.get("remark", ""), "members": members,
            "allow_requests": request.form.get("allow_requests") == "1",
            "requests_per_day": request.form.get("requests_per_day", "0"),
            "customers_per_request": request.form.get("customers_per_request", "0")}


def flag(name: str) -> bool:
    return request.form.get(name) == "1"


def ints(name: str) -> list[int]:
    return _ints(name)
