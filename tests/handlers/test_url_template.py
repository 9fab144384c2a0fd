"""Issue 9 item 3: event data never decides where an HTTP processor sends its secrets.

Two real servers on loopback: the configured one and an "attacker" one. Whatever the event
carries, the request (with its stored Authorization header) reaches only the configured host,
and values stand percent-encoded in the path segment or query value they were put in.
"""
from __future__ import annotations

import pytest

from handlers.builtin.http import HttpProcessor
from handlers.definitions import DefinitionError, create_definition
from handlers.errors import PermanentError
from handlers.registry import default_registry
from handlers.url_template import UrlTemplateError, render_url, url_template_problem
from tests.support.fake_http import FakeHttpServer

SECRET = "Bearer s3cret"


@pytest.fixture
def evil():
    server = FakeHttpServer().start()
    yield server
    server.stop()


def _config(url: str, **extra) -> dict:
    return {"method": "POST", "url": url, "headers": [{"name": "Authorization", "value": SECRET}],
            "body": '{"ok": true}', **extra}


def _payloads(evil) -> list[str]:
    return ["evil.example:80", "@evil.example/", f"127.0.0.1:{evil.port}", f"@127.0.0.1:{evil.port}/x",
            "../admin", "..", "&admin=1", "a b\r\nX-Evil: 1", "%2e%2e", "#frag", "?x=1"]


@pytest.mark.parametrize("template", [
    "http://${v}/hook", "http://${v}", "https://api.example.com:${v}/hook", "http://${v}@api.example.com/",
    "https://api.example.com${v}", "${v}://api.example.com/", "http://api.${v}.example.com/",
    "https://api.example.com/hook?${v}=1", "https://api.example.com/hook#${v}",
])
def test_variables_outside_path_and_query_values_are_refused_at_save(db, template):
    assert "变量只能用在路径和查询参数值中" in (url_template_problem(template) or "")
    with pytest.raises(DefinitionError) as err:
        create_definition(db, {"name": "钩子", "url": template, "headers": [{"name": "Authorization", "value": SECRET}]})
    assert "变量只能用在路径和查询参数值中" in err.value.errors["url"]
    assert "变量只能用在路径和查询参数值中" in " ".join(HttpProcessor().validate_config(_config(template)))


def test_path_segments_and_query_values_are_percent_encoded():
    data = {"v": "@evil.example/../x?y=1&admin=1#z", "n": "张 三"}
    assert render_url("https://api.example.com/a/${v}/b?id=${n}&k=${v}", data) == (
        "https://api.example.com/a/%40evil.example%2F..%2Fx%3Fy%3D1%26admin%3D1%23z/b"
        "?id=%E5%BC%A0%20%E4%B8%89&k=%40evil.example%2F..%2Fx%3Fy%3D1%26admin%3D1%23z")
    with pytest.raises(UrlTemplateError, match=r"\.\."):
        render_url("https://api.example.com/a/${v}/b", {"v": ".."})
    assert render_url("https://api.example.com/a/../b/${v}", {"v": "x"}) == "https://api.example.com/a/../b/x"


def test_injected_values_reach_only_the_configured_host_encoded(loopback_services, fake_http, evil, make_ctx):
    processor = HttpProcessor()
    url = fake_http.url("/hook/${v}/end?q=${v}&fixed=1")
    for value in _payloads(evil):
        fake_http.reset()
        try:
            processor.run(make_ctx({"v": value}, svc=loopback_services), _config(url))
        except PermanentError as exc:  # only a whole ".." segment is refused, never sent elsewhere
            assert value == ".." and "." in exc.message
            continue
        [sent] = fake_http.requests
        assert sent.headers["Authorization"] == SECRET
        assert sent.path.startswith("/hook/") and sent.path.endswith("/end")
        assert sent.path.count("/") == 3, sent.path  # the value stayed inside its one segment
        assert sent.query == {"q": [value], "fixed": ["1"]}  # one query value, no smuggled "admin"
    assert evil.requests == []


def test_host_template_saved_before_the_rule_is_refused_at_run(loopback_services, evil, make_ctx):
    with pytest.raises(PermanentError, match="变量只能用在路径和查询参数值中"):
        HttpProcessor().run(make_ctx({"v": f"127.0.0.1:{evil.port}"}, svc=loopback_services),
                            _config("http://${v}/hook"))
    assert evil.requests == []


def test_custom_processor_definition_keeps_its_host(services, loopback_services, fake_http, evil, make_ctx):
    definition = create_definition(services.db, {"name": "钩子", "url": fake_http.url("/crm/${path}"),
                                                 "headers": [{"name": "Authorization", "value": SECRET}],
                                                 "params": [{"name": "path", "value": "leads"}]})
    processor = default_registry(services).get(definition.key)
    processor.run(make_ctx({"path": f"@127.0.0.1:{evil.port}/steal"}, svc=loopback_services), {})
    [sent] = fake_http.requests
    assert sent.path == f"/crm/%40127.0.0.1%3A{evil.port}%2Fsteal" and evil.requests == []


def test_crlf_in_a_header_value_is_a_named_refusal(loopback_services, fake_http, make_ctx):
    config = {"method": "GET", "url": fake_http.url("/hook"), "headers": [{"name": "X-Name", "value": "${v}"}]}
    with pytest.raises(PermanentError) as err:
        HttpProcessor().run(make_ctx({"v": "a\r\nX-Admin: 1"}, svc=loopback_services), config)
    assert "请求头「X-Name」" in err.value.message and "换行" in err.value.message
    assert not err.value.retryable and fake_http.requests == []


def test_crlf_in_a_stored_header_or_url_is_refused_at_save(db):
    with pytest.raises(DefinitionError) as err:
        create_definition(db, {"name": "钩子", "url": "https://api.example.com/h\r\nX: 1",
                               "headers": [{"name": "X-A", "value": "1\r\nX-B: 2"}]})
    assert "换行" in err.value.errors["url"] and "换行" in err.value.errors["headers"]
