"""drivers.cloud.coalesce: callers asking at once share one fetch."""

import threading

import pytest

from bayflow.drivers.cloud import coalesce, naming


class Fetcher:
    """A fetch that holds its first call until released, recording each batch."""

    def __init__(self, fail=None):
        self.batches, self.fail = [], fail
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, keys):
        self.batches.append(sorted(keys))
        self.started.set()
        self.release.wait(10)
        if self.fail:
            raise self.fail
        return {key: key.upper() for key in keys}


def _ask(coalescer, keys, answers):
    threads = [threading.Thread(target=lambda k=k: answers.__setitem__(k, _safe(coalescer, k)))
               for k in keys]
    for thread in threads:
        thread.start()
    return threads


def _safe(coalescer, key):
    try:
        return coalescer.get(key)
    except Exception as exc:  # noqa: BLE001 - the test looks at it
        return exc


def test_callers_waiting_on_a_fetch_share_the_next_one():
    fetch = Fetcher()
    coalescer = coalesce.Coalescer(fetch)
    answers = {}
    first = _ask(coalescer, ['a'], answers)
    assert fetch.started.wait(10)
    rest = _ask(coalescer, ['b', 'c', 'd', 'b'], answers)
    while sum(len(f) for f in coalescer._waiting.values()) < 4:
        threading.Event().wait(0.001)
    fetch.release.set()
    for thread in first + rest:
        thread.join(10)
    assert answers == {'a': 'A', 'b': 'B', 'c': 'C', 'd': 'D'}
    assert fetch.batches == [['a'], ['b', 'c', 'd']]   # 'a' alone: it asked first
    assert not coalescer._busy and not coalescer._waiting


def test_a_batch_is_bounded():
    fetch = Fetcher()
    fetch.release.set()
    coalescer = coalesce.Coalescer(fetch, most=2)
    coalescer._busy = True  # as if a leader were out: the asks queue up
    answers = {}
    threads = _ask(coalescer, ['a', 'b', 'c'], answers)
    while len(coalescer._waiting) < 3:
        threading.Event().wait(0.001)
    coalescer._busy = False
    assert coalescer.get('d') == 'D'  # leads, and serves everyone waiting
    for thread in threads:
        thread.join(10)
    assert answers == {'a': 'A', 'b': 'B', 'c': 'C'}
    assert all(len(batch) <= 2 for batch in fetch.batches)


def test_a_failed_fetch_fails_its_round_only():
    fetch = Fetcher(fail=RuntimeError('cloud away'))
    fetch.release.set()
    coalescer = coalesce.Coalescer(fetch)
    with pytest.raises(RuntimeError, match='cloud away'):
        coalescer.get('a')
    fetch.fail = None
    assert coalescer.get('a') == 'A'


@pytest.mark.parametrize('name, bay', [
    ('bf-123e4567-e89b-12d3-a456-426614174000-master-0',
     '123e4567-e89b-12d3-a456-426614174000'),
    ('bf-123e4567-e89b-12d3-a456-426614174000', None),     # no "-" after the uuid
    ('bf-123e4567-master-0', None),
    ('other-123e4567-e89b-12d3-a456-426614174000-x', None),
    (None, None),
])
def test_bay_of_a_name(name, bay):
    assert naming.bay_of(name) == bay
