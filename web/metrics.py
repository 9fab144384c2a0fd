"""The figures /metrics reads from the database at scrape time (the same for every process):
backlog, dead letters, deferred device commands, live processes and the cron leader."""
from __future__ import annotations

from collections import Counter

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from devices.models import DeviceCommand
from engine import readiness
from engine.heartbeats import process_states


class DatabaseCollector:
    def __init__(self, rt):
        self.rt = rt

    def describe(self):
        return []  # collected fresh on every scrape; nothing to describe up front

    def collect(self):
        services = self.rt.services
        now = services.now()
        with services.db.read() as session:
            q = readiness.queue_figures(session, now)
            deferred = session.execute(select(func.count()).select_from(DeviceCommand)
                                       .where(DeviceCommand.status == "deferred")).scalar() or 0
            states = process_states(session, now)
        for name, key, doc in (("ckb_event_queue_depth", "event_queue", "Events stored and not yet dispatched"),
                               ("ckb_steps_due_not_run", "due_not_run", "Steps due over a minute ago and not started"),
                               ("ckb_steps_running", "running", "Steps being run"),
                               ("ckb_dead_letters", "dead_letters", "Steps that exhausted their attempts")):
            yield GaugeMetricFamily(name, doc, value=q[key])
        yield GaugeMetricFamily("ckb_device_commands_deferred", "Device commands the risk budget deferred", value=deferred)
        alive = Counter(p.row.kind for p in states if p.alive)
        family = GaugeMetricFamily("ckb_processes_alive", "Processes with a fresh heartbeat", labels=["kind"])
        for kind in ("server", "web", "worker", "scheduler", "gateway"):
            family.add_metric([kind], alive.get(kind, 0))
        yield family
        leader = any(p.alive and p.row.is_leader for p in states) or self.rt.scheduler.is_leader
        yield GaugeMetricFamily("ckb_scheduler_leader_present", "1 when a live scheduler leader exists", value=int(leader))


def scrape_registry(rt) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(rt))
    return registry
