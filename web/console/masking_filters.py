"""脱敏 in templates: the customer detail page shows a full number only to users whose mode
clears that customer; lists show full numbers only to 不脱敏 users.

    {{ customer.mobile|mask_customer(customer.id) }}   {# detail page: per-customer mode #}
    {{ row.mobile|mask_list }}                          {# lists, logs, exports: 不脱敏 only #}

Which customers a user may see in full is computed once per request and cached on `g`; a view
rendering many customers calls `prime_clear_ids(ids)` first so the page costs one query.
"""
from __future__ import annotations

from typing import Iterable, Optional

from flask import Flask, g

from config.pii import mask_text
from crm.people.masking import CLEAR, clear_customer_ids, lists_show_full, mask_mode_of
from web.extensions import services


def current_mode() -> str:
    if "_mask_mode" not in g:
        g._mask_mode = mask_mode_of(g.get("user"), g.get("permissions", frozenset()))
    return g._mask_mode


def _cache() -> dict[int, bool]:
    if "_mask_clear" not in g:
        g._mask_clear = {}
    return g._mask_clear


def prime_clear_ids(customer_ids: Iterable[int]) -> None:
    """Looks up, in one query, which of these customers the current user may see in full."""
    cache = _cache()
    wanted = {int(c) for c in customer_ids if c is not None} - set(cache)
    user = g.get("user")
    if not wanted or user is None:
        return
    mode = current_mode()
    if mode == CLEAR:
        cleared = wanted
    else:
        with services().db.read() as session:
            cleared = clear_customer_ids(session, user.id, mode, wanted)
    cache.update({c: c in cleared for c in wanted})


def customer_is_clear(customer_id: Optional[int]) -> bool:
    if customer_id is None or g.get("user") is None:
        return False
    if current_mode() == CLEAR:
        return True
    cache = _cache()
    if int(customer_id) not in cache:
        prime_clear_ids([customer_id])
    return cache.get(int(customer_id), False)


def mask_customer(value, customer_id: Optional[int]) -> str:
    """A customer's mobile / e-mail on the detail page: full when the mode clears this customer."""
    if value is None or value == "":
        return ""
    text = str(value)
    return text if customer_is_clear(customer_id) else mask_text(text)


def mask_list(value) -> str:
    """A number in a list, history, log or export preview: full only for 不脱敏 users."""
    if value is None or value == "":
        return ""
    text = str(value)
    return text if g.get("user") is not None and lists_show_full(current_mode()) else mask_text(text)


def register(app: Flask) -> None:
    app.add_template_filter(mask_customer, "mask_customer")
    app.add_template_filter(mask_list, "mask_list")
    app.add_template_global(customer_is_clear, "customer_is_clear")
