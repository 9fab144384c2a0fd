"""Errors of 商品与订单. Every one is a crm.errors.CrmError, so the console shows its Chinese message
next to the field it names and the API answers it in the one error envelope (422; NotFound 404)."""
from __future__ import annotations

from crm.errors import CrmError, NotFound


class CommerceError(CrmError):
    """Bad input or a forbidden move (a status jump, a refund above what was paid)."""


class ProductNotFound(NotFound):
    pass


class OrderNotFound(NotFound):
    pass


class InsufficientStock(CommerceError):
    """Fewer units can be sold than asked for; `sku_id` names the SKU."""

    status = 409

    def __init__(self, message: str, sku_id: int, available: int):
        super().__init__(message, {"quantity": message})
        self.sku_id = sku_id
        self.available = available
