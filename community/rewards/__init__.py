"""权益: the points console over community.points, coupons (batches, unique codes, 核销) and blind
boxes (prize pools with stock and weights). Every issue is idempotent by (source, source_ref), so a
retried strategy step or a re-settled fission stage gives once."""
