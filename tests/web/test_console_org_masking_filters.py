"""The 脱敏 template filters: the detail page's mask_customer follows the user's mode per customer
(one query per page after prime_clear_ids), lists' mask_list shows full numbers only to 不脱敏."""
from __future__ import annotations

import pytest
from flask import g, render_template_string

from crm.customers.models import Customer
from crm.people import masking
from crm.people import service as people
from web.console import masking_filters

TEMPLATE = "{{ m|mask_customer(cid) }}|{{ m|mask_list }}|{{ customer_is_clear(cid) }}"


@pytest.fixture
def filters_app(app):
    masking_filters.register(app)
    return app


@pytest.fixture
def seeded(app_db):
    uid = people.create_user(app_db, "sales1", "Passw0rd123").id
    with app_db.write() as s:
        own = Customer(name="自己的", mobile="13800138000", owner_id=uid)
        other = Customer(name="别人的", mobile="13900139000")
        s.add_all([own, other])
        s.flush()
        return uid, own.id, other.id


def _render(app, app_db, uid, perms, mode, cid, mobile):
    masking.set_mask_mode(app_db, uid, mode)
    with app.test_request_context("/"):
        g.user, g.permissions = people.get_user(app_db, uid), frozenset(perms)
        return render_template_string(TEMPLATE, m=mobile, cid=cid)


@pytest.mark.parametrize("mode, perms, own, other", [
    ("mask", set(), "138****8000|138****8000|False", "139****9000|139****9000|False"),
    ("private_clear", set(), "13800138000|138****8000|True", "139****9000|139****9000|False"),
    ("clear", set(), "13800138000|13800138000|True", "13900139000|13900139000|True"),
    ("mask", {"pii.view"}, "13800138000|13800138000|True", "13900139000|13900139000|True"),
])
def test_detail_follows_the_mode_lists_only_clear(filters_app, app_db, seeded, mode, perms, own, other):
    uid, own_id, other_id = seeded
    assert _render(filters_app, app_db, uid, perms, mode, own_id, "13800138000") == own
    assert _render(filters_app, app_db, uid, perms, mode, other_id, "13900139000") == other


def test_prime_caches_per_request_and_anonymous_is_masked(filters_app, app_db, seeded):
    uid, own_id, other_id = seeded
    masking.set_mask_mode(app_db, uid, "private_clear")
    with filters_app.test_request_context("/"):
        g.user, g.permissions = people.get_user(app_db, uid), frozenset()
        masking_filters.prime_clear_ids([own_id, other_id, None])
        assert g._mask_clear == {own_id: True, other_id: False}
        assert masking_filters.mask_customer("", own_id) == "" and masking_filters.mask_customer(None, own_id) == ""
        assert masking_filters.mask_customer("z@example.com", other_id) == "z***@example.com"
    with filters_app.test_request_context("/"):
        assert masking_filters.mask_customer("13800138000", own_id) == "138****8000"
        assert masking_filters.mask_list("13800138000") == "138****8000"
