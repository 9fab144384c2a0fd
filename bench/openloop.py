"""An open-loop load generator for the end-to-end figures: batches sent on a fixed schedule.

A ticker thread puts one batch on a queue every `interval` seconds, whether or not earlier
requests have been answered (so a slow server faces the offered rate, not a polite client);
sender threads, each with its own keep-alive connection, sign and post them. Every request is
signed just before it is sent, so the timestamp window never expires however late it runs.
"""
from __future__ import annotations

import http.client
import json
import queue
import random
import threading
import time

from bench.seed import EVENT_TYPES, event_code, event_data
from events.signature import sign


class OpenLoop:
    def __init__(self, port: int, app_key: str, secret: str, tag: str, senders: int = 8):
        self.port, self.app_key, self.secret, self.tag = port, app_key, secret, tag
        self.senders = senders
        self.record_ids: list[int] = []
        self.statuses: dict[int, int] = {}
        self.late: list[float] = []  # seconds each batch left after its scheduled time
        self.latencies: list[float] = []
        self.errors = 0
        self._lock = threading.Lock()
        self._seq = 0

    def _body(self, rng: random.Random, size: int) -> bytes:
        events = []
        for _ in range(size):
            with self._lock:
                self._seq += 1
                seq = self._seq
            events.append({"id": f"{self.tag}-{seq}", "event": event_code(seq % EVENT_TYPES), "data": event_data(rng, seq)})
        return json.dumps({"events": events}, ensure_ascii=False, separators=(",", ":")).encode()

    def _sender(self, jobs: queue.Queue, seed: int) -> None:
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while True:
            job = jobs.get()
            if job is None:
                break
            due, size = job
            body = self._body(rng, size)
            ts = int(time.time())
            headers = {"Content-Type": "application/json", "X-App-Key": self.app_key, "X-Timestamp": str(ts),
                       "X-Signature": sign(self.secret, ts, body)}
            start = time.time()
            try:
                conn.request("POST", "/api/v1/events", body=body, headers=headers)
                resp = conn.getresponse()
                payload = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                with self._lock:
                    self.errors += 1
                continue
            ids = [a["record_id"] for a in json.loads(payload).get("accepted", [])] if status == 202 else []
            with self._lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
                self.record_ids += ids
                self.late.append(start - due)
                self.latencies.append(time.time() - start)
        conn.close()

    def run(self, rate: float, seconds: float, batch: int = 50) -> dict:
        """Offers `rate` events/s for `seconds` in batches of `batch`; returns what was sent."""
        interval = batch / rate
        jobs: queue.Queue = queue.Queue()
        threads = [threading.Thread(target=self._sender, args=(jobs, i), daemon=True) for i in range(self.senders)]
        for t in threads:
            t.start()
        start = time.time()
        ticks = int(seconds / interval)
        for n in range(ticks):
            due = start + n * interval
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            jobs.put((due, batch))
        for _ in threads:
            jobs.put(None)
        for t in threads:
            t.join()
        elapsed = time.time() - start
        late = sorted(self.late) or [0.0]
        lat = sorted(self.latencies) or [0.0]
        return {"offered_events": ticks * batch, "offered_rate": rate, "batch": batch, "seconds": elapsed,
                "accepted": len(self.record_ids), "statuses": self.statuses, "errors": self.errors,
                "send_start": start, "send_end": time.time(),
                "request_p50_ms": 1000 * lat[len(lat) // 2], "request_p99_ms": 1000 * lat[int(len(lat) * 0.99)],
                "late_p99_ms": 1000 * late[int(len(late) * 0.99)]}
