"""Prometheus metrics of this process, in one registry of our own (not the library's global one,
so an app built twice in one test run never registers a name twice).

Counters are per process, as Prometheus expects: scrape every web/worker process, or sum them.
The packages that do the work (ingestion, executor, risk budget) count here; figures that live in
the database (queue depth, due steps, dead letters, processes) are read at scrape time by
web/metrics.py, so every process reports the same truth for them.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

EVENTS_STORED = Counter("ckb_events_stored", "Events stored by the ingestion path (accepted or refused with a reason)",
                        ["source"], registry=REGISTRY)
EVENTS_UNAUTHENTICATED = Counter("ckb_ingest_unauthenticated", "Ingestion requests refused before storage (bad signature, unknown app, stale timestamp)",
                                 ["code"], registry=REGISTRY)
STEPS = Counter("ckb_steps", "Processor step attempts by outcome", ["state"], registry=REGISTRY)
STEP_SECONDS = Histogram("ckb_step_seconds", "Processor step duration", registry=REGISTRY,
                         buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
BUDGET_DECISIONS = Counter("ckb_budget_decisions", "Device commands by risk-budget decision (allow, defer, refuse)",
                           ["decision"], registry=REGISTRY)
GATEWAY_CONNECTIONS = Gauge("ckb_gateway_connections", "Phones connected to this process's gateway", registry=REGISTRY)
