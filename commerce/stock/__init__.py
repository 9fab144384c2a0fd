"""库存: the movement ledger and reservations; the only code that changes a SKU's stock."""
