"""/api/v1/customers/… batch actions, the console's 批量操作 bar over the API: 打标签 / 移除标签,
加入分组, 分配给业务员 (the customer's owner becomes that member of the group), 退回小组公海 /
公司公海, 移入回收站 and back (回收站客户 → 公海), plus 客户批量转移 (customers.transfer). Each takes up to 1000 customer ids and runs in one transaction: any id the
token may not see (another salesperson's customer or an unknown one), an unknown group, user or
tag refuses the whole batch naming it, and nothing is written.
"""
from __future__ import annotations

from flask import Blueprint, g

from crm.customers.bulk import MAX_IDS, BulkAction, run_bulk
from crm.errors import CrmError
from crm.groups.transfer import transfer
from web.api.common import BadRequest, error_response, ids_arg, json_body, ok
from web.api.customers import TAG
from web.api.customers_search import _int, _int_list, _refuse_unknown
from web.api.spec import INT, INT_LIST, STR, api_route, obj
from web.auth.guards import api_auth, current_viewer
from web.extensions import services

bp = Blueprint("api_customer_actions", __name__, url_prefix="/api/v1")
bp.register_error_handler(CrmError, error_response)

IDS = {**INT_LIST, "maxItems": MAX_IDS, "description": "客户编号（最多 1000 个）"}
RESULT = obj({"action": STR, "requested": INT, "changed": INT})
COMMON_ERRORS = {"404": "客户、分组、业务员或标签不存在（附编号；整批不执行）", "422": "参数无效（附字段名）"}


def _body(fields: dict, required: tuple) -> dict:
    return {**obj({"ids": IDS, **fields}, ("ids", *required)), "additionalProperties": False}


def _run(action: str, fields: dict) -> dict:
    """Parses the body (ids and the action's own fields), runs the action, answers the counts."""
    data = json_body()
    _refuse_unknown(data, ("ids", *fields))
    ids = ids_arg(data)
    req = BulkAction(action, ids)
    if "group_id" in fields:
        req.group_id = _int(data, "group_id", low=-2 ** 63, high=2 ** 63 - 1)
    if "user_id" in fields:
        req.user_id = _int(data, "user_id", low=-2 ** 63, high=2 ** 63 - 1)
    if "tag_ids" in fields:
        req.tag_ids = _int_list(data, "tag_ids", 100)
    if "reason" in fields:
        reason = data.get("reason") or ""
        if not isinstance(reason, str):
            raise BadRequest("reason 应为字符串", {"reason": "应为字符串"}, status=422, code="invalid")
        req.reason = reason.strip()
    svc = services()
    with svc.db.write() as session:
        changed = run_bulk(session, current_viewer(), req, strict=True, now=svc.now(), tz=svc.settings.timezone)
    return ok({"action": action, "requested": len(set(ids)), "changed": changed})


TAGS_IN = _body({"tag_ids": {**INT_LIST, "maxItems": 100}}, ("tag_ids",))
GROUP_IN = _body({"group_id": INT}, ("group_id",))
ASSIGN_IN = _body({"group_id": {**INT, "description": "分组（业务员须是其成员；客户不在该组时先加入）"},
                   "user_id": {**INT, "description": "分配给的业务员，成为客户负责人"}}, ("group_id", "user_id"))
RELEASE_IN = _body({"to": {"type": "string", "enum": ["group_pool", "company_pool"],
                           "description": "group_pool 退回小组公海（需 group_id）/ company_pool 退回公司公海"},
                    "group_id": INT}, ("to",))
RECYCLE_IN = _body({"reason": {**STR, "maxLength": 500}}, ())


@api_route(bp, "/customers/tags/add", "POST", "批量打标签（手动来源；自动标签、禁用标签与别人的个人标签不可用）", TAG,
           body=TAGS_IN, permission="tags.apply", operation_id="addCustomerTags",
           responses={"200": RESULT, **COMMON_ERRORS},
           examples={"request": {"ids": [12, 13], "tag_ids": [7]}, "200": {"action": "tag", "requested": 2, "changed": 2}})
@api_auth("tags.apply")
def add_tags():
    return _run("tag", {"tag_ids": None})


@api_route(bp, "/customers/tags/remove", "POST", "批量移除标签", TAG, body=TAGS_IN, permission="tags.apply",
           operation_id="removeCustomerTags", responses={"200": RESULT, **COMMON_ERRORS},
           examples={"request": {"ids": [12], "tag_ids": [7]}, "200": {"action": "untag", "requested": 1, "changed": 1}})
@api_auth("tags.apply")
def remove_tags():
    return _run("untag", {"tag_ids": None})


@api_route(bp, "/customers/group", "POST", "加入客户分组（进入该组公海，未分配）", TAG, body=GROUP_IN,
           permission="customers.manage", operation_id="addCustomersToGroup", responses={"200": RESULT, **COMMON_ERRORS},
           examples={"request": {"ids": [12, 13], "group_id": 2}, "200": {"action": "group", "requested": 2, "changed": 2}})
@api_auth("customers.manage")
def add_to_group():
    return _run("group", {"group_id": None})


@api_route(bp, "/customers/assign", "POST", "分配给业务员（组内成员；成为客户负责人）", TAG, body=ASSIGN_IN,
           permission="customers.manage", operation_id="assignCustomers", responses={"200": RESULT, **COMMON_ERRORS},
           examples={"request": {"ids": [12], "group_id": 2, "user_id": 5},
                     "200": {"action": "assign", "requested": 1, "changed": 1}})
@api_auth("customers.manage")
def assign():
    return _run("assign", {"group_id": None, "user_id": None})


@api_route(bp, "/customers/release", "POST", "退回公海：小组公海（留在组内、取消分配）或公司公海（离开所有分组、无负责人）",
           TAG, body=RELEASE_IN, permission="customers.manage", operation_id="releaseCustomers",
           responses={"200": RESULT, **COMMON_ERRORS},
           examples={"request": {"ids": [12], "to": "company_pool"},
                     "200": {"action": "release_company", "requested": 1, "changed": 1}})
@api_auth("customers.manage")
def release():
    data = json_body()
    to = data.get("to")
    if to not in ("group_pool", "company_pool"):
        raise BadRequest("to 应为 group_pool 或 company_pool", {"to": "应为 group_pool 或 company_pool"},
                         status=422, code="invalid")
    if to == "group_pool":
        return _run("release_group", {"group_id": None, "to": None})
    return _run("release_company", {"to": None})


@api_route(bp, "/customers/recycle", "POST", "批量移入回收站", TAG, body=RECYCLE_IN, permission="customers.manage",
           operation_id="recycleCustomers", responses={"200": RESULT, **COMMON_ERRORS},
           examples={"request": {"ids": [12, 13], "reason": "空号"},
                     "200": {"action": "recycle", "requested": 2, "changed": 2}})
@api_auth("customers.manage")
def recycle():
    return _run("recycle", {"reason": None})



@api_route(bp, "/customers/restore", "POST", "从回收站退回公司公海（无分组、无负责人）", TAG, body=_body({}, ()),
           permission="customers.manage", operation_id="restoreCustomers", responses={"200": RESULT, **COMMON_ERRORS},
           examples={"request": {"ids": [12]}, "200": {"action": "restore", "requested": 1, "changed": 1}})
@api_auth("customers.manage")
def restore():
    return _run("restore", {})


TRANSFER_FIELDS = {"from_user_id": {**INT, "description": "转出的业务员"}, "to_user_id": {**INT, "description": "接收的业务员"},
                   "ids": {**IDS, "description": "部分转移：这些客户（只转移转出人名下、你可见的）；不给则全部转移"},
                   "reason": {**STR, "maxLength": 500, "description": "转移原因（必填）"}}
TRANSFER_IN = {**obj(TRANSFER_FIELDS, ("from_user_id", "to_user_id", "reason")), "additionalProperties": False}


@api_route(bp, "/customers/transfer", "POST", "客户批量转移：某业务员的全部或部分客户（含分配与未完成的跟进任务）转给另一位",
           TAG, body=TRANSFER_IN, permission="customers.transfer", operation_id="transferCustomers",
           responses={"200": RESULT, "422": "业务员无效、接收人不是相关分组成员或未填原因（附字段名）"},
           examples={"request": {"from_user_id": 5, "to_user_id": 6, "reason": "业务员离职"},
                     "200": {"action": "transfer", "requested": 0, "changed": 18}})
@api_auth("customers.transfer")
def transfer_customers():
    data = json_body()
    _refuse_unknown(data, TRANSFER_FIELDS)
    ids = ids_arg(data) if data.get("ids") is not None else None
    source, target = (_int(data, k, low=-2 ** 63, high=2 ** 63 - 1) for k in ("from_user_id", "to_user_id"))
    reason = data.get("reason")
    if not isinstance(reason, str):
        raise BadRequest("reason 应为字符串（转移原因）", {"reason": "请填写转移原因"}, status=422, code="invalid")
    svc = services()
    with svc.db.write() as session:
        changed = transfer(session, source, target, ids, reason, g.user.id, now=svc.now(), viewer=current_viewer())
    return ok({"action": "transfer", "requested": len(set(ids or ())), "changed": changed})
