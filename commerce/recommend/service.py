"""The doors other parts use: recommendations for a customer a person may see (console, API) —
another person's customer is "not found", exactly like an unknown id."""
from __future__ import annotations

from sqlmodel import Session

from commerce.recommend.ranker import MAX_LIMIT, Recommendation, recommend
from commerce.recommend.refresh import last_build
from crm import scope
from crm.customers.models import Customer


def for_customer(session: Session, viewer: scope.Viewer, customer_id, limit: int = 5) -> dict:
    """{"customer": Customer, "items": [Recommendation], "built_at": datetime|None}."""
    customer = scope.load(session, viewer, Customer, customer_id)
    items: list[Recommendation] = recommend(session, customer.id, max(1, min(int(limit), MAX_LIMIT)))
    build = last_build(session)
    return {"customer": customer, "items": items, "built_at": build.built_at if build else None}
