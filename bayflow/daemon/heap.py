"""The garbage collector of a long-running process, set once it has started.

A daemon or a flow worker holds some 200,000 objects from its imports
(openstacksdk, TaskFlow, SQLAlchemy) for as long as it lives. CPython's full
collection walked them all, about 90 ms at a time in a flow worker, several
times in a burst of bays; and a flow's steps allocate fast enough that the
young collection, every 700 allocations, ran hundreds of times a burst.
Together that was a tenth of a busy worker's CPU. Frozen, the startup heap is
out of the collector's sight; a larger young generation runs it a fourteenth
as often. Reference counting still frees almost everything the moment it is
dropped, so memory does not grow.
"""

import gc

# Allocations between young collections (CPython's default is 700).
YOUNG_THRESHOLD = 10_000


def settle():
    """Once the process's imports and start-up are done."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
