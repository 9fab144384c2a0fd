"""Group commit: concurrent ingest requests of one process share one write transaction.

A request queues its item (its validated rows). When no request of the process is committing,
it leads: it takes everything queued, stores all items with one call of `store` (one multi-row
INSERT for the whole group) in one transaction, commits, and only then wakes each waiter with
its own answer: a 2xx still means "committed". While it commits, the next requests queue up;
the leader then hands the lead to the first of them, who stores them all together. So under load
one BEGIN/COMMIT (and one turn at SQLite's write lock, the cross-process flock) serves many
requests instead of one each, and no thread hand-off is paid for the leader's own request.
(A separate committer thread used to do the storing: each request then cost two wake-ups, the
committer's and its own, measured as a fifth of the single-event path.)

Failures never acknowledge unstored rows: when storing raises, or the commit fails, the whole
transaction is rolled back and every item of it is stored again alone in its own transaction,
so the one that fails fails only its own request (with its own exception) and the others are
stored and answered as if they had come one at a time. A deadlock between two processes'
groups on PostgreSQL is cured the same way.
"""
from __future__ import annotations

import logging
import os
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from sqlalchemy.engine import Connection

log = logging.getLogger("ckb.ingest.group_commit")

MAX_GROUP_ROWS = 5000  # rows per shared transaction: a long one would hold the write lock too long


class _Ticket:
    __slots__ = ("item", "rows", "result", "error", "done", "lead")

    def __init__(self, item, rows: int):
        self.item = item
        self.rows = rows
        self.result = None
        self.error: BaseException | None = None
        self.lead = False  # woken to lead the next group rather than with an answer
        # Released once, when the answer is ready or the lead passes to this request. A bare
        # lock, not an Event: Event.set (a Condition's notify in Python) was a third of the
        # committer's samples under load (py-spy, bench/ingest.py single phase).
        self.done = threading.Lock()
        self.done.acquire()


class GroupCommitter:
    """`run(item, rows)` returns the item's result once its transaction has committed, or raises
    what storing it (or the commit) raised.

    `store(connection, items)` stores a group's items in the caller's transaction and answers
    one result per item, in order; it must leave the items as they were (after a rollback they
    are stored again, alone). `after_commit(results)` runs on the leading thread once per
    committed group, after the commit and before its waiters wake."""

    def __init__(self, db, store: Callable[[Any, list], list], after_commit: Callable[[list], None] | None = None,
                 max_rows: int = MAX_GROUP_ROWS):
        self.db = db
        self.store = store
        self.after_commit = after_commit or (lambda results: None)
        self.max_rows = max_rows
        self._mutex = threading.Lock()
        self._queue: list[_Ticket] = []
        self._leading = False  # a request of this process is storing a group (the queue waits for it)
        self._pid = os.getpid()
        # The leaders' connection, kept while groups follow one another (a pool checkout, and on
        # PostgreSQL its pre-ping round trip, cost as much as a group's INSERT); back in the pool
        # whenever no group waits, so an idle process holds none.
        self._engine = db.engine.execution_options(ckb_write=True)  # as Database.write_connection
        self._conn = None

    def run(self, item, rows: int = 1):
        ticket = _Ticket(item, rows)
        with self._mutex:
            if self._pid != os.getpid():  # forked: the parent's leader (and connection) are not ours
                self._pid, self._queue, self._leading, self._conn = os.getpid(), [], False, None
            self._queue.append(ticket)
            lead, self._leading = not self._leading, True
        if not lead:
            ticket.done.acquire()
        if lead or ticket.lead:
            self._lead(ticket)
        if ticket.error is not None:
            raise ticket.error
        return ticket.result

    @property
    def pending(self) -> int:
        """Requests waiting for a group (not counting the group being stored)."""
        with self._mutex:
            return len(self._queue)

    def _take(self) -> list[_Ticket]:
        """The queued tickets up to max_rows (at least one: the leader's own is first)."""
        with self._mutex:
            taken, rows = 0, 0
            for ticket in self._queue:
                if taken and rows + ticket.rows > self.max_rows:
                    break
                taken += 1
                rows += ticket.rows
            group, self._queue[:] = self._queue[:taken], self._queue[taken:]
            return group

    def _lead(self, own: _Ticket) -> None:
        """Stores and commits one group (`own` at its head), passes the lead on, wakes the group."""
        group = self._take()
        committed: list[_Ticket] = []
        try:
            committed = self._commit(group)
        except BaseException as exc:  # noqa: BLE001 - never leave a waiter hanging
            # Whether anything committed is unknown here: acknowledge nothing (a retry is
            # deduped, a lost acknowledgement is not recoverable).
            log.exception("group commit failed")
            for ticket in group:
                ticket.result, ticket.error = None, ticket.error or exc
        finally:
            idle_conn = None
            with self._mutex:
                following = self._queue[0] if self._queue else None
                self._leading = following is not None
                if following is None:
                    # Taken under the mutex: once it is released a new request may lead and must
                    # open its own connection, never get this one closed under it.
                    idle_conn, self._conn = self._conn, None
            if idle_conn is not None:
                self._close(idle_conn)
            if following is not None:  # the next group starts storing while this one is answered
                following.lead = True
                following.done.release()
            if committed:
                self._bookkeep(committed)
            for ticket in group:
                if ticket is not own:
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
                with self._transaction() as conn:
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
                with self._transaction() as conn:
                    ticket.result = self.store(conn, [ticket.item])[0]
            except Exception as exc:  # noqa: BLE001 - this request's own failure, answered to it
                ticket.result, ticket.error = None, exc
            else:
                committed.append(ticket)
        return committed

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A write transaction on the leaders' connection (`Database.write_connection` without the
        checkout): this process's write turn, BEGIN (IMMEDIATE on SQLite), commit on success; on
        any failure rolled back and the connection dropped (the next group opens a fresh one)."""
        with self.db.write_turn():
            if self._conn is None:
                self._conn = self._engine.connect()
            conn = self._conn
            try:
                with conn.begin():
                    yield conn
            except BaseException:
                self._release_connection()
                raise

    def _release_connection(self) -> None:
        """Only while leading (no other thread can take the connection meanwhile)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            self._close(conn)

    @staticmethod
    def _close(conn) -> None:
        try:
            conn.close()
        except Exception:  # noqa: BLE001 - a broken connection: the pool discards it
            log.warning("closing the group commit connection failed", exc_info=True)
