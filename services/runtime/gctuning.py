"""Garbage-collector settings for long-running service processes.

CPython's default first-generation threshold (700 net container allocations) is crossed many times a
second by any process holding 64 requests or a batch of events in flight: the count rises as a batch is
built and falls as it is freed, so young collections run over and over and promote in-flight objects to
the older generations, whose collections then scan every module, route, schema and model the process
loaded at start-up. Measured on the registration API under ``bench http-post-persons``: about 100 us of
CPU per request went to the collector (a sixth of the process), nearly all of it wasted.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: First-generation threshold. Objects freed by reference counting (almost all of a request's) never
#: reach a collection, so this bounds only the cyclic garbage that waits: a few MB at most.
YOUNG_THRESHOLD = 50_000

_tuned = False


def tune_for_service() -> None:
    """Call once start-up is done: freeze what start-up built, and collect young objects less often.

    ``gc.freeze`` moves every object alive now (modules, the app, pydantic schemas, the pool) to a
    permanent generation that full collections no longer traverse; start-up objects live for the whole
    process anyway. Only the first call in a process acts (tests start many apps in one process).
    """
    global _tuned
    if _tuned:
        return
    _tuned = True
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside the block (as it was before, after it).

    For work that allocates millions of small objects, none in reference cycles (reference counting frees
    them), while large structures stay alive: each collection walks those again. Measured: a quarter of a
    projection batch's fold, and 30 % of a rebuild's CPU even with thresholds of 200,000/50/1,000. Cycles
    made inside (a broker client's futures) wait for the collector's next run.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
