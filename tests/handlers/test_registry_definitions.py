"""处理器注册中心: the registry, user HTTP definitions (CRUD, validation) and their resolution."""
from __future__ import annotations

import json

import pytest

from handlers.base import Outcome, Processor
from handlers.builtin.custom_http import CustomHttpProcessor
from handlers.definitions import (DefinitionError, DefinitionNotFound, create_definition, delete_definition,
                                  get_definition, list_definitions, update_definition, variables_of)
from handlers.errors import PermanentError, UnknownProcessor
from handlers.registry import default_registry

BUILTIN_KEYS = ["http", "email", "sms", "notify", "log", "crm.add_tag", "crm.remove_tag", "crm.move_to_group",
                "crm.assign", "crm.create_task", "crm.send_template", "crm.notify_owner",
                "device.accept_friend", "device.add_friend", "device.send_message", "device.like_moment",
                "device.comment_moment", "device.post_moment", "device.create_group", "device.invite_to_group",
                "device.set_announcement", "device.tag_friend"]


def webhook(url="https://crm.example.com/api/${path}", **extra):
    return {"name": "推送到 CRM", "method": "POST", "url": url,
            "params": [{"name": "token", "value": "t-1", "remark": "密钥", "fixed": True},
                       {"name": "channel", "value": "douyin", "remark": "渠道", "fixed": False}],
            "headers": [{"name": "X-Sign", "value": "${sign}"}],
            "body": '{"mobile": "${mobile}", "tags": ${tags}}', "timeout_seconds": 5, **extra}


def test_default_registry_has_builtins_with_chinese_forms(services):
    registry = default_registry(services)
    listed = registry.list_builtin()
    # Later areas append their steps after these (the workbench's come next), in this order.
    assert [p["key"] for p in listed][:len(BUILTIN_KEYS)] == BUILTIN_KEYS
    json.dumps(listed, ensure_ascii=False)  # the console and the API need plain JSON
    for item in listed:
        assert item["builtin"] is True and item["name"] and item["description"]
        assert all(f["label"] and not f["label"].isascii() for f in item["config_fields"])
    http = next(p for p in listed if p["key"] == "http")
    assert [f["name"] for f in http["config_fields"]] == ["method", "url", "params", "headers", "body", "timeout_seconds"]
    assert registry.get("sms").key == "sms"


def test_unknown_key_is_reported_in_chinese(services):
    registry = default_registry(services)
    for key in ("nope", "custom.deadbeef"):
        with pytest.raises(UnknownProcessor, match=f"找不到处理器「{key}」"):
            registry.get(key)
    assert "nope" not in registry and "log" in registry


def test_registry_stays_open_for_later_processors(services):
    class TagCustomer(Processor):
        key = "crm.tag"
        name = "打标签"

        def render(self, ctx, config):
            return {}

        def run(self, ctx, config):
            return Outcome()

    registry = default_registry(services)
    registry.register(TagCustomer)
    assert registry.get("crm.tag").name == "打标签"
    with pytest.raises(ValueError):
        registry.register(TagCustomer)
    with pytest.raises(ValueError):
        registry.register(type("Bad", (TagCustomer,), {"key": "custom.x"}))


def test_definition_crud_and_stable_key(db):
    created = create_definition(db, webhook())
    assert created.key.startswith("custom.") and len(created.key) > len("custom.")
    assert created.params[1] == {"name": "channel", "value": "douyin", "remark": "渠道", "fixed": False}
    updated = update_definition(db, created.id, {"name": "推送到新 CRM", "method": "put"})
    assert (updated.key, updated.name, updated.method, updated.url) == (created.key, "推送到新 CRM", "PUT", created.url)
    assert [d.id for d in list_definitions(db)] == [created.id]
    assert get_definition(db, created.id).name == "推送到新 CRM"
    delete_definition(db, created.id)
    assert list_definitions(db) == []
    with pytest.raises(DefinitionNotFound, match="不存在"):
        get_definition(db, created.id)


@pytest.mark.parametrize("change, field, message", [
    ({"name": " "}, "name", "名称不能为空"),
    ({"url": "ftp://x.example.com/"}, "url", "必须以 http:// 或 https:// 开头"),
    ({"url": "https://"}, "url", "缺少主机名"),
    ({"url": "http://x.example.com:99999/"}, "url", "格式不正确"),
    ({"method": "PATCH"}, "method", "GET/POST/PUT/DELETE"),
    ({"body": '{"a": ${x}'}, "body", "不是合法的 JSON"),
    ({"timeout_seconds": 0}, "timeout_seconds", "1–60"),
    ({"timeout_seconds": 61}, "timeout_seconds", "1–60"),
    ({"timeout_seconds": "abc"}, "timeout_seconds", "必须是数字"),
    ({"params": [{"value": "1"}]}, "params", "第 1 个参数缺少名称"),
    ({"params": [{"name": "a"}, {"name": "a"}]}, "params", "参数名称重复：a"),
    ({"params": "a=1"}, "params", "应为列表"),
])
def test_definition_validation_messages(db, change, field, message):
    with pytest.raises(DefinitionError) as err:
        create_definition(db, webhook(**change))
    assert message in err.value.errors[field]


def test_get_body_is_not_checked_and_names_are_unique(db):
    create_definition(db, webhook(method="GET", body="not json"))
    with pytest.raises(DefinitionError) as err:
        create_definition(db, webhook())
    assert err.value.errors == {"name": "名称「推送到 CRM」已被其他处理器使用"}


def test_variables_of_definition(db):
    assert variables_of(create_definition(db, webhook())) == ["mobile", "path", "sign", "tags"]


def test_custom_processor_resolves_runs_and_invalidates(services, loopback_services, fake_http, make_ctx):
    definition = create_definition(services.db, webhook(url=fake_http.url("/crm/${path}")))
    registry = default_registry(services)
    processor = registry.get(definition.key)
    assert isinstance(processor, CustomHttpProcessor) and registry.get(definition.key) is processor
    assert [f.name for f in processor.config_fields] == ["channel"]  # fixed params are not editable per step
    info = next(p for p in registry.list_all() if p["key"] == definition.key)
    assert info["builtin"] is False and info["variables"] == ["mobile", "path", "sign", "tags"]

    data = {"path": "leads", "sign": "abc", "mobile": "13800138000", "tags": ["VIP", "抖音"]}
    outcome = processor.run(make_ctx(data, svc=loopback_services), {"channel": "${path}", "token": "ignored"})
    [sent] = fake_http.requests_to("/crm/leads")
    assert sent.query == {"token": ["t-1"], "channel": ["leads"]}
    assert sent.headers["X-Sign"] == "abc" and sent.json() == {"mobile": "13800138000", "tags": ["VIP", "抖音"]}
    assert outcome.response["status"] == 200
    assert "token=%2A%2A%2A" in outcome.request["url"]  # the secret is sent but not kept in history

    update_definition(services.db, definition.id, {"enabled": False})
    assert registry.get(definition.key).enabled  # still the cached copy
    registry.invalidate(definition.key)
    with pytest.raises(PermanentError, match="已停用"):
        registry.get(definition.key).run(make_ctx(data, svc=loopback_services), {})

    delete_definition(services.db, definition.id, registry=registry)
    with pytest.raises(UnknownProcessor):
        registry.get(definition.key)
