"""内置事件: the events 晓售 ships with, imported by "导入内置事件".

Each entry's key is stable (stored as builtin_key); later issues append device and lead events.
"""
from __future__ import annotations


def _f(name, type_, label, required=False, remark=""):
    return {"name": name, "type": type_, "label": label, "required": required, "remark": remark}


BUILTIN_EVENTS: list[dict] = [
    {
        "key": "product_maturity", "code": "product_maturity", "name": "理财产品到期",
        "remark": "客户持有的理财产品到期",
        "fields": [
            _f("customerName", "text", "客户名称", True), _f("mobile", "text", "手机号", True),
            _f("email", "text", "邮件"), _f("productName", "text", "产品名称", True),
            _f("amount", "number", "到期金额"), _f("maturityDate", "datetime", "到期时间", True),
        ],
    },
    {
        "key": "password_changed", "code": "password_changed", "name": "修改密码事件",
        "remark": "用户修改密码",
        "fields": [
            _f("email", "text", "邮件"), _f("tx", "datetime", "修改密码时间"),
            _f("customerName", "text", "用户名", True), _f("mobile", "text", "手机号", True),
            _f("status", "text", "修改状态", True, "值为1或者0"),
        ],
    },
    {
        "key": "birthday", "code": "birthday_reminder", "name": "生日提醒事件",
        "remark": "客户生日前提醒",
        "fields": [
            _f("customerName", "text", "客户名称", True), _f("mobile", "text", "手机号", True),
            _f("email", "text", "邮件"), _f("birthday", "datetime", "生日", True),
        ],
    },
    {
        "key": "tag_customer", "code": "tag_customer", "name": "为客户打标签",
        "remark": "外部系统要求为客户打标签",
        "fields": [
            _f("customerId", "text", "客户ID"), _f("mobile", "text", "手机号"),
            _f("tagName", "text", "标签名称", True),
        ],
    },
    {
        "key": "customer_trade", "code": "customer_trade", "name": "客户交易",
        "remark": "客户发生一笔交易",
        "fields": [
            _f("customerName", "text", "客户名称", True), _f("mobile", "text", "手机号", True),
            _f("email", "text", "邮件"), _f("orderNo", "text", "订单号", True),
            _f("amount", "number", "交易金额", True), _f("productName", "text", "产品名称"),
            _f("tradeTime", "datetime", "交易时间"),
        ],
    },
    {
        "key": "user_registered", "code": "register", "name": "新用户注册",
        "remark": "新用户完成注册",
        "fields": [
            _f("customerName", "text", "用户名", True), _f("mobile", "text", "手机号", True),
            _f("email", "text", "邮件"), _f("channel", "text", "注册渠道"),
            _f("registeredAt", "datetime", "注册时间"),
        ],
    },
    {
        "key": "bank_withholding", "code": "bank_withholding", "name": "银行代扣还款",
        "remark": "还款方式：银行代扣",
        "fields": [
            _f("loan_date", "datetime", "还款时间"), _f("customerName", "text", "客户名称"),
            _f("mobile", "text", "手机号"), _f("email", "text", "邮件"),
            _f("loan_type", "text", "还款方式", True), _f("loan_status", "text", "还款状态"),
            _f("rep_amount", "number", "应还款金额"), _f("is_last_period", "boolean", "是否最后一期"),
        ],
    },
    {
        "key": "survey_submitted", "code": "survey_submitted", "name": "提交调研问卷",
        "remark": "客户提交满意度调研问卷",
        "fields": [
            _f("customerName", "text", "客户名称", True), _f("email", "text", "邮件", True),
            _f("mobile", "text", "手机号"), _f("score", "number", "问卷评分", True),
            _f("vipLevel", "number", "VIP等级", True),
        ],
    },
]


def builtin_by_key() -> dict[str, dict]:
    return {e["key"]: e for e in BUILTIN_EVENTS}
