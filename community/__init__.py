"""社群增长: how lively each WeChat group is (activity rollups from real messages, dead-group alerts),
fission campaigns that reward members for bringing friends (with anti-fraud and a hold period before
anything is paid), the rewards they earn (one points ledger per customer, coupons, blind boxes), KOC
members who lead groups and earn commission, and the knowledge base that answers common questions.

Points and commission are ledgers: every change is one row with its reason and source, and a balance
never goes below zero (conditional UPDATE, like the stock ledger)."""
