"""The asynchronous gateway keeps the garbage collector off its phones' long-lived objects
(gc.freeze), and still frees what ended sessions left behind once enough of them ended."""
from __future__ import annotations

import gc
import weakref

from devices.async_gateway import FrozenHeap


class _Cycle:
    def __init__(self):
        self.me = self


def test_frozen_garbage_waits_for_the_full_collection_after_many_sessions_ended():
    heap = FrozenHeap(every=5, full_every=3600)
    try:
        garbage = _Cycle()
        ref = weakref.ref(garbage)
        heap.step(connected=10_000)  # frozen while still referenced, as a live connection is
        del garbage
        gc.collect()
        assert ref() is not None  # out of the collector's sight: no walk over it, no freeing either

        heap.ended = 999  # fewer than a tenth of 10,000 phones reconnected: still frozen
        heap.step(connected=10_000)
        gc.collect()
        assert ref() is not None

        heap.ended = 1_000
        heap.step(connected=10_000)
        assert ref() is None and heap.ended == 0
        assert gc.get_freeze_count() > 0  # and what lives is frozen again
    finally:
        gc.unfreeze()
