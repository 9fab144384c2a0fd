"""The reference model of 客户识别 with dedup BY_PHONE_OR_EMAIL (crm.leads.identify), for exact
checks: replay a scene's leads one by one in the order they were identified and say, for each,
whether it is a duplicate and which customer it belongs to.

Why replay instead of a fixed count: which leads are duplicates depends on the order leads arrive.
Three leads of one person — A (phone P, e-mail E), B (P, e-mail B), C (phone C, E) — give one
customer and two duplicates when A comes first, but two customers and one duplicate when B and C
come first (nothing links them until A arrives; merging customers is the operator's call). Under
concurrent requests the order of arrival is not the order of sending, so bench/leads.py checks
every lead against this model run in the order the server recorded (its 「识别客户」 log lines),
which catches any race (two customers for one phone, a missed duplicate) without assuming an order.

Model (the one-by-one semantics): a lead is a duplicate of an earlier-identified lead of the
scene sharing its phone or e-mail; its customer is the one holding its phone, else its
e-mail, else the customer of an identified lead with its phone, else with its e-mail; else a new
customer holding its phone and e-mail. Customers only ever hold the contacts they were created
with here (the model is for scenes whose leads all carry both, as in the bench).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional


@dataclass(frozen=True)
class Expected:
    duplicate_of: Optional[int]  # the id of the lead it duplicates
    customer: int                # a model customer number (equal numbers = the same customer)
    created: bool


def replay(leads: Iterable[tuple[int, Optional[str], Optional[str]]]) -> dict[int, Expected]:
    """(lead id, phone, e-mail) in identification order → {lead id: Expected}. Where several
    leads qualify, the lowest id is the one named (as the server's queries order by id)."""
    holder_phone: dict[str, int] = {}   # the customer holding a phone
    holder_email: dict[str, int] = {}
    seen_phone: dict[str, list[int]] = {}  # identified lead ids with a phone
    seen_email: dict[str, list[int]] = {}
    customer_of: dict[int, int] = {}
    out: dict[int, Expected] = {}
    customers = 0
    for lead_id, phone, email in leads:
        with_phone = seen_phone.get(phone, []) if phone else []
        with_email = seen_email.get(email, []) if email else []
        duplicate_of = min(with_phone + with_email, default=None)
        customer = (holder_phone.get(phone) if phone else None) or (holder_email.get(email) if email else None)
        if customer is None and with_phone:
            customer = customer_of[min(with_phone)]
        if customer is None and with_email:
            customer = customer_of[min(with_email)]
        created = customer is None
        if created:
            customers += 1
            customer = customers
            if phone:
                holder_phone[phone] = customer
            if email:
                holder_email[email] = customer
        out[lead_id] = Expected(duplicate_of, customer, created)
        customer_of[lead_id] = customer
        if phone:
            seen_phone.setdefault(phone, []).append(lead_id)
        if email:
            seen_email.setdefault(email, []).append(lead_id)
    return out


def compare(expected: dict[int, Expected], actual: dict[int, tuple[Optional[int], int, bool]]) -> list[str]:
    """Differences between the model and what was stored ({lead id: (duplicate_of, customer id,
    created)}): duplicate_of and created must be equal, and two leads share a stored customer
    exactly when they share a model customer."""
    problems = []
    model_to_stored: dict[int, int] = {}
    stored_to_model: dict[int, int] = {}
    for key, want in expected.items():
        dup, customer, created = actual[key]
        if dup != want.duplicate_of or created != want.created:
            problems.append(f"lead {key}: duplicate_of {dup} created {created}, expected {want.duplicate_of} {want.created}")
        if model_to_stored.setdefault(want.customer, customer) != customer or \
                stored_to_model.setdefault(customer, want.customer) != want.customer:
            problems.append(f"lead {key}: customer {customer} does not match the model's grouping")
    return problems
