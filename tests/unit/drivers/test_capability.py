"""A fact about the cloud is probed once, however many flows ask for it at once."""

import threading

import pytest

from bayflow.drivers.cloud.base import CloudBase


def test_concurrent_callers_share_one_probe():
    cloud = CloudBase(conn=None)
    calls, release = [], threading.Event()
    started = threading.Barrier(9)

    def probe():
        calls.append(1)
        release.wait(5)
        return True

    answers = []

    def ask():
        started.wait(5)
        answers.append(cloud._capability('tag-creation', probe))
    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    started.wait(5)          # every caller is on its way in
    while not calls:         # the first one is probing
        threading.Event().wait(0.01)
    release.set()
    for t in threads:
        t.join(5)
    assert answers == [True] * 8
    assert len(calls) == 1


def test_a_failed_probe_is_tried_again():
    cloud = CloudBase(conn=None)
    outcomes = iter([RuntimeError('Neutron is away'), False])

    def probe():
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome
    with pytest.raises(RuntimeError):
        cloud._capability('tag-creation', probe)
    assert cloud._capability('tag-creation', probe) is False
    assert cloud._capability('tag-creation', probe) is False  # kept now
