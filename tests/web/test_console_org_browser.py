"""组织管理 and 脱敏管理 in headless Chromium: build a small tree through the dialogs, add people,
filter 包含下级, and set a mode for several users at once (screenshots in /tmp/ckb_shots/)."""
from __future__ import annotations

from pathlib import Path

import pytest

from crm.people import departments as deps
from crm.people import service as people

SHOTS = Path("/tmp/ckb_shots")
pytestmark = pytest.mark.browser


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_org_tree_people_and_masking(page, app_db, admin_user, browser_login):
    for name, disp in (("zhang", "张三"), ("li", "李四")):
        people.create_user(app_db, name, "Passw0rd123", display_name=disp)
    browser_login()
    page.goto("/org")
    page.click("text=新建部门")
    page.fill("#dep-new-name", "销售部")
    page.click("#dep-new button[type=submit]")
    assert "已创建部门「销售部」" in page.inner_text(".alert-success")
    page.click(".org-tree >> text=销售部")
    page.click("text=新建下级")
    page.fill("#dep-child-name", "营销一组")
    page.click("#dep-child button[type=submit]")
    page.click(".org-tree >> text=营销一组")
    page.click("button:has-text('添加人员')")
    page.check("#dep-add-users input[data-org-check-all]")
    page.click("#dep-add-users button[type=submit]")
    assert "已添加 3 名人员" in page.inner_text(".alert-success")
    page.click(".org-tree >> text=销售部")
    assert page.locator("td .cell-strong", has_text="李四").count() == 1  # 包含下级
    shot(page, "org_01_tree")
    assert [n.name for n in deps.flatten(deps.tree(app_db))] == ["销售部", "营销一组"]

    page.goto("/org/masking")
    page.check("input[aria-label='选择 张三']")
    page.check("input[aria-label='选择 李四']")
    page.select_option("#mask-bulk-mode", "assigned_clear")
    page.click("#mask-bulk button[type=submit]")
    assert "已将 2 名用户设为「分配的客户不脱敏」" in page.inner_text(".alert-success")
    shot(page, "org_02_masking")
    assert {people.get_user_by_username(app_db, n).mask_mode for n in ("zhang", "li")} == {"assigned_clear"}
