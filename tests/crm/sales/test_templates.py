"""消息模板: ${变量} must be customer fields (unknown ones refused by name), rendering runs in the
Jinja sandbox, and 预览 fills a real or sample customer."""
from __future__ import annotations

import pytest

from crm.customers.models import CustomField
from crm.errors import CrmError
from crm.sales.templates import create_template, customer_data, delete_template, preview, render_for, update_template
from crm.scope import SYSTEM


def test_unknown_variable_is_refused_by_name(db):
    with db.write() as s, pytest.raises(CrmError) as err:
        create_template(s, {"code": "welcome", "name": "欢迎", "channel": "sms", "body": "您好${name}，${nmae}"})
    assert "${nmae}" in err.value.message and "body" in err.value.errors


def test_custom_fields_are_variables_and_render(db, people):
    with db.write() as s:
        s.add(CustomField(key="assets", label="可投资资产", type="number"))
    cid = people.customer("李四", mobile="13900139000", city="杭州", attrs={"assets": 600})
    with db.write() as s:
        tpl = create_template(s, {"code": "vip", "name": "VIP通知", "channel": "email", "subject": "${name}您好",
                                  "body": "您在${city}的资产${assets}万"})
        from crm.customers.models import Customer
        out = render_for(tpl, customer_data(s, s.get(Customer, cid)))
    assert out == {"subject": "李四您好", "body": "您在杭州的资产600万"}


def test_email_needs_subject_and_codes_are_unique(db):
    with db.write() as s:
        create_template(s, {"code": "a1", "name": "短信", "body": "hi ${name}"})
        with pytest.raises(CrmError) as err:
            create_template(s, {"code": "a1", "name": "邮件", "channel": "email", "body": "x"})
    assert set(err.value.errors) == {"code", "subject"}


def test_sandbox_blocks_attribute_tricks(db, people):
    people.customer("张三")
    with db.write() as s:
        with pytest.raises(CrmError, match="不允许"):
            preview(s, {"channel": "sms", "body": "${name.__class__.__mro__[1].__subclasses__()}"}, viewer=SYSTEM)
        with pytest.raises(CrmError):
            create_template(s, {"code": "bad", "name": "坏", "body": "${name"})


def test_preview_uses_newest_customer_or_sample(db, people):
    with db.read() as s:
        assert preview(s, {"body": "您好${name}"}, viewer=SYSTEM)["body"] == "您好张三"  # no customer yet: the sample
    cid = people.customer("王五")
    with db.read() as s:
        out = preview(s, {"body": "您好${name}"}, viewer=SYSTEM)
    assert out["body"] == "您好王五" and out["customer"]["id"] == cid


def test_update_and_delete(db):
    with db.write() as s:
        tpl = create_template(s, {"code": "c1", "name": "旧", "body": "x"})
        update_template(s, tpl.id, {"code": "c1", "name": "新", "body": "y ${mobile}", "enabled": False})
        assert tpl.name == "新" and not tpl.enabled
        delete_template(s, tpl.id)
