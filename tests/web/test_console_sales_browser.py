"""任务中心 in headless Chromium: dragging a card to another status column moves the task (the
board POSTs the new column and position), and the template editor's 预览 renders a customer."""
from __future__ import annotations

import pytest
from sqlmodel import select

from crm.customers.models import Customer
from crm.sales.models import Task
from crm.sales.tasks import create_task
from crm.scope import SYSTEM

pytestmark = pytest.mark.browser


def test_drag_card_to_doing_column(page, admin_user, browser_login, app_db):
    with app_db.write() as s:
        create_task(s, {"title": "拖动我", "owner_id": admin_user.id}, creator_id=admin_user.id, viewer=SYSTEM)
    browser_login()
    page.goto("/worktasks?view=status")
    card = page.locator("[data-task-card]", has_text="拖动我")
    card.drag_to(page.locator('[data-column="doing"] [data-column-cards]'))
    page.wait_for_selector('[data-column="doing"] [data-task-card]')
    page.wait_for_function("() => document.querySelector('.toast') !== null")
    with app_db.read() as s:
        assert s.exec(select(Task)).one().status == "doing"
    page.reload()
    assert page.locator('[data-column="doing"] [data-task-card]').count() == 1


def test_template_preview_button(page, admin_user, browser_login, app_db):
    with app_db.write() as s:
        s.add(Customer(name="预览客户"))
    browser_login()
    page.goto("/message-templates/new")
    page.fill("#f-body", "您好，${name}")
    page.click("[data-template-preview]")
    page.wait_for_selector("[data-preview-body]:has-text('您好，预览客户')")
    page.select_option("#f-channel", "email")
    assert page.locator("[data-email-only]").is_visible()
