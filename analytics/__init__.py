"""数据中心: what the team did, counted per Beijing day.

Every figure on the 工作台, the daily/weekly/monthly reports and the dashboards comes from daily
rollups (one row per day, metric and dimension: staff, department, account, group, channel,
scene, or the whole company), kept current as events happen and recomputed nightly for the last
days so late events land on the day they happened. Funnel, cohorts and RFM read the customers'
derived purchase fields and the orders.
"""
