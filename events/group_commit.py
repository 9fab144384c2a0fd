"""Group commit: concurrent ingest requests of one process share one write transaction.

A request hands its item (its validated rows) to the process's committer thread and waits. The
committer takes everything queued, stores all items with one call of `store` (one multi-row
INSERT for the whole group) in one transaction, commits, and only then wakes each waiter with
its own answer: a 2xx still means "committed". While it commits, the next requests queue up and
go in together, so under load one BEGIN/COMMIT (and one turn at SQLite's write lock, the
cross-process flock) serves many requests instead of one each.

Failures never acknowledge unstored rows: when storing raises, or the commit fails, the whole
transaction is rolled back and every item of it is stored again alone in its own transaction,
so the one that fails fails only its own request (with its own exception) and the others are
stored and answered as if they had come one at a time. A deadlock between two processes'
groups on PostgreSQL is cured the same way.

The thread is started on first use in each process (gunicorn forks after the app is built) and
ends after a short idle spell, so apps built and dropped (tests, tools) leave no thread behind.
"""
from __future__ import annotations

import logging
import os
import threading
from typing import Any, Callable

log = logging.getLogger("ckb.ingest.group_commit")

MAX_GROUP_ROWS = 5000  # rows per shared transaction: a long one would hold the write lock too long
IDLE_SECONDS = 2.0  # the committer thread ends after this long without work


class _Ticket:
    __slots__ = ("item", "rows", "result", "error", "done")

    def __init__(self, item, rows: int):
        self.item = item
        self.rows = rows
        self.result = None
        self.error: BaseException | None = None
        # Released once by the committer when the answer is ready. A bare lock, not an Event:
        # Event.set (a Condition's notify in Python) was a third of the committer's samples
        # under load (py-spy, bench/ingest.py single phase).
        self.done = threading.Lock()
        self.done.acquire()


class GroupCommitter:
    """`run(item, rows)` returns the item's result once its transaction has committed, or raises
    what storing it (or the commit) raised.

    `store(connection, items)` stores a group's items in the caller's transaction and answers
    one result per item, in order; it must leave the items as they were (after a rollback they
    are stored again, alone). `after_commit(results)` runs on the committer thread once per
    committed group, after the commit and before its waiters wake."""

    def __init__(self, db, store: Callable[[Any, list], list], after_commit: Callable[[list], None] | None = None,
                 max_rows: int = MAX_GROUP_ROWS):
        self.db = db
        self.store = store
        self.after_commit = after_commit or (lambda results: None)
        self.max_rows = max_rows
        self._cond = threading.Condition()
        self._queue: list[_Ticket] = []
        self._thread: threading.Thread | None = None
        self._pid = None

    def run(self, item, rows: int = 1):
        ticket = _Ticket(item, rows)
        with self._cond:
            self._queue.append(ticket)
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                # Also after a fork: the parent's thread does not exist in the child.
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._loop, name="ckb-group-commit", daemon=True)
                self._thread.start()
            else:
                self._cond.notify()
        ticket.done.acquire()
        if ticket.error is not None:
            raise ticket.error
        return ticket.result

    @property
    def pending(self) -> int:
        """Requests waiting for the committer (not counting the group it is storing)."""
        with self._cond:
            return len(self._queue)

    # -- the committer thread ---------------------------------------------------------------
    def _take(self) -> list[_Ticket]:
        """The queued tickets up to max_rows (at least one); [] when idle long enough to stop."""
        with self._cond:
            while not self._queue:
                if not self._cond.wait(IDLE_SECONDS) and not self._queue:
                    if self._thread is threading.current_thread():
                        self._thread = None  # the next run() starts a fresh one
                    return []
            taken, rows = 0, 0
            for ticket in self._queue:
                if taken and rows + ticket.rows > self.max_rows:
                    break
                taken += 1
                rows += ticket.rows
            group, self._queue[:] = self._queue[:taken], self._queue[taken:]
            return group

    def _loop(self) -> None:
        while True:
            group = self._take()
            if not group:
                return
            try:
                committed = self._commit(group)
                if committed:
                    self._bookkeep(committed)
            except BaseException as exc:  # noqa: BLE001 - never leave a waiter hanging
                # Whether anything committed is unknown here: acknowledge nothing (a retry is
                # deduped, a lost acknowledgement is not recoverable).
                log.exception("group commit failed")
                for ticket in group:
                    ticket.result, ticket.error = None, ticket.error or exc
            finally:
                for ticket in group:
                    ticket.done.release()

    def _bookkeep(self, committed: list[_Ticket]) -> None:
        # Before the waiters wake, so whoever was answered finds the bookkeeping done (the
        # dispatcher already woken for its rows); it is cheap, and runs once per group.
        try:
            self.after_commit([t.result for t in committed])
        except Exception:  # noqa: BLE001 - rows are stored and answered; only bookkeeping failed
            log.exception("after-commit bookkeeping failed")

    def _commit(self, group: list[_Ticket]) -> list[_Ticket]:
        """Stores and commits the group; the tickets that committed (the others hold their error)."""
        if len(group) > 1:
            try:
                with self.db.write_connection() as conn:
                    results = self.store(conn, [t.item for t in group])
            except Exception:  # noqa: BLE001 - rolled back: each item is stored alone below
                log.warning("group of %d requests rolled back; storing each alone", len(group), exc_info=True)
            else:
                for ticket, result in zip(group, results):
                    ticket.result = result
                return group
        committed = []
        for ticket in group:
            try:
                with self.db.write_connection() as conn:
                    ticket.result = self.store(conn, [ticket.item])[0]
            except Exception as exc:  # noqa: BLE001 - this request's own failure, answered to it
                ticket.result, ticket.error = None, exc
            else:
                committed.append(ticket)
        return committed
