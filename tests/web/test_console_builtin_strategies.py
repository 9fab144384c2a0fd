"""导入内置策略 button on 自动化策略管理: the report names what was added, then what was skipped."""
from __future__ import annotations

from sqlmodel import select

from engine.builtin_strategies import BUILTIN_STRATEGIES
from rules.models import Strategy
from tests.web.conftest import get_csrf_token


def test_button_imports_once_and_reports(client, admin_user, login, app_db):
    login(client)
    html = client.get("/strategies").get_data(as_text=True)
    assert "导入内置策略" in html
    token = get_csrf_token(client, "/strategies")
    first = client.post("/strategies/import-builtin", data={"csrf_token": token}).get_data(as_text=True)
    assert "修改密码成功短信提醒" in first and "修改密码事件" in first  # the event was registered too
    second = client.post("/strategies/import-builtin", data={"csrf_token": token}).get_data(as_text=True)
    assert "已存在，跳过" in second and second.count('class="chip"') == len(BUILTIN_STRATEGIES)
    with app_db.read() as s:
        assert len(s.exec(select(Strategy)).all()) == len(BUILTIN_STRATEGIES)
    page = client.get("/strategies").get_data(as_text=True)
    assert "内置策略" in page and "生日祝福短信" in page
