"""客户识别 for a batch of leads (crm.leads.batch) reads who holds their contacts once, not once per lead.

Profiled (bench/leads.py, the worker): the per-lead lookup (one SELECT of five subqueries) was a
quarter of a batch's time. A batch instead reads, in two queries, every customer holding one of its
leads' phones or e-mails and every identified lead with one; then each lead's lookup is a dict
read, and each identification updates the index as the database changes in the transaction (a
lead identified, a customer created or given a contact). The answers are the ones the lookup
query gives (crm.leads.identify._lookup_query: the lowest id wherever several rows qualify),
because identification of the scene is serialised: nothing else changes these rows meanwhile.

A lead of the batch that fails rolls back to its savepoint, so the index goes back with it
(`mark` / `restore`).
"""
from __future__ import annotations

from typing import Iterable, Optional

from sqlalchemy import bindparam, or_, select
from sqlmodel import Session

from config.pii_column import blind_index
from crm.customers.models import Customer
from crm.leads.models import Lead

KEYS = ("mobile", "email")
# session.info key under which a batch keeps its index (read by crm.leads.identify)
CONTACT_INDEX = "ckb_lead_contact_index"

_CUSTOMERS = select(Customer.id, Customer.mobile_bidx, Customer.email_bidx).where(or_(
    Customer.mobile_bidx.in_(bindparam("mobile", expanding=True)),
    Customer.email_bidx.in_(bindparam("email", expanding=True))))
_IDENTIFIED = select(Lead.id, Lead.scene_id, Lead.customer_id, Lead.mobile_bidx, Lead.email_bidx).where(
    Lead.customer_id.is_not(None), or_(Lead.mobile_bidx.in_(bindparam("mobile", expanding=True)),
                                       Lead.email_bidx.in_(bindparam("email", expanding=True))))


def _lower(table: dict, key, value: int) -> None:
    if key not in table or value < table[key]:
        table[key] = value


class ContactIndex:
    """The holders of a batch's contacts: keys are (kind, blind index)."""

    def __init__(self, session: Session, scene_id: int, leads: Iterable[Lead]):
        self.scene_id = scene_id
        wanted = {k: {blind_index(k, getattr(l, k)) for l in leads if getattr(l, k)} for k in KEYS}
        self.known = {(k, b) for k in KEYS for b in wanted[k]}
        self.customer: dict = {}   # the lowest customer id holding it
        self.earlier: dict = {}    # the lowest id of an identified lead of the scene with it
        self.linked: dict = {}     # the lowest id of any lead with a customer with it → (id, customer id)
        params = {k: sorted(wanted[k]) or [""] for k in KEYS}
        for customer_id, *bidx in session.execute(_CUSTOMERS, params):
            for k, b in zip(KEYS, bidx):
                if (k, b) in self.known:
                    _lower(self.customer, (k, b), customer_id)
        for lead_id, lead_scene, customer_id, *bidx in session.execute(_IDENTIFIED, params):
            self._identified(lead_id, lead_scene, customer_id, zip(KEYS, bidx))

    def covers(self, pairs: dict) -> bool:
        return all((k, b) in self.known for k, b in pairs.items())

    def lookups(self, pairs: dict) -> tuple[Optional[int], Optional[int], str]:
        """(earlier lead, customer id, the key that found it) for the lead's {kind: blind index},
        in the order of the lookup query: customers holding the phone, the e-mail, then customers
        of leads with the phone, the e-mail."""
        earlier = min((self.earlier[(k, b)] for k, b in pairs.items() if (k, b) in self.earlier), default=None)
        for k, b in pairs.items():
            if (k, b) in self.customer:
                return earlier, self.customer[(k, b)], k
        for k, b in pairs.items():
            if (k, b) in self.linked:
                return earlier, self.linked[(k, b)][1], k
        return earlier, None, ""

    def _identified(self, lead_id: int, scene_id: int, customer_id: int, pairs) -> None:
        for k, b in pairs:
            if b is None or (k, b) not in self.known:
                continue
            if scene_id == self.scene_id:
                _lower(self.earlier, (k, b), lead_id)
            if (k, b) not in self.linked or lead_id < self.linked[(k, b)][0]:
                self.linked[(k, b)] = (lead_id, customer_id)

    def identified(self, lead: Lead) -> None:
        """`lead` now has its customer."""
        self._identified(lead.id, lead.scene_id, lead.customer_id,
                         ((k, blind_index(k, getattr(lead, k))) for k in KEYS))

    def holds(self, customer: Customer) -> None:
        """`customer` was created or given a contact."""
        for k in KEYS:
            b = blind_index(k, getattr(customer, k))
            if b is not None and (k, b) in self.known:
                _lower(self.customer, (k, b), customer.id)

    def mark(self) -> tuple:
        return dict(self.customer), dict(self.earlier), dict(self.linked)

    def restore(self, marked: tuple) -> None:
        self.customer, self.earlier, self.linked = (dict(t) for t in marked)
