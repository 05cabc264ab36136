"""Several processes opening one fresh SQLite file at once never fail.

Switching a new file to WAL needs it to itself, and SQLite reports that
contention at once, without waiting its busy timeout: before the retry,
about one process in a hundred failed with ``database is locked``. Each
round here starts 8 processes behind a barrier on a new file; enough rounds
that the old failure rate would show about ten times.
"""

import multiprocessing
import traceback

import sqlalchemy as sa

from bayflow.persistence import api
from bayflow.persistence import migration

PROCESSES = 8
ROUNDS = 200
WAIT = 120

# fork: the children start in milliseconds and share nothing but arguments.
_CONTEXT = multiprocessing.get_context('fork')


def _first_write(url):
    db = api.Database(url)
    try:
        with db.engine.begin() as conn:
            conn.execute(sa.text('CREATE TABLE IF NOT EXISTS seen (pid INTEGER)'))
            conn.execute(sa.text('INSERT INTO seen VALUES (1)'))
    finally:
        db.dispose()


def _worker(urls, action, barrier, errors):
    for url in urls:
        barrier.wait(WAIT)
        try:
            action(url)
        except Exception:  # reported to the parent, which fails the test
            errors.put(traceback.format_exc(limit=3))
    errors.put(None)


def _together(urls, action):
    """Run ``action(url)`` in 8 processes at once, one url after another."""
    barrier, errors = _CONTEXT.Barrier(PROCESSES), _CONTEXT.Queue()
    workers = [_CONTEXT.Process(target=_worker, args=(urls, action, barrier, errors))
               for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    failures, done = [], 0
    while done < PROCESSES:
        item = errors.get(timeout=WAIT)
        if item is None:
            done += 1
        else:
            failures.append(item)
    for worker in workers:
        worker.join(WAIT)
    assert [w.exitcode for w in workers] == [0] * PROCESSES
    return failures


def test_first_connections_to_a_new_file_never_fail(tmp_path):
    urls = [f'sqlite:///{tmp_path}/round-{i}.sqlite' for i in range(ROUNDS)]
    failures = _together(urls, _first_write)
    assert failures == [], f'{len(failures)} of {ROUNDS * PROCESSES} failed:\n{failures[0]}'
    engine = sa.create_engine(urls[-1])
    with engine.connect() as conn:
        assert conn.exec_driver_sql('SELECT count(*) FROM seen').scalar() == PROCESSES
        assert conn.exec_driver_sql('PRAGMA journal_mode').scalar() == 'wal'
    engine.dispose()


def test_eight_processes_migrate_one_new_file(tmp_path):
    urls = [f'sqlite:///{tmp_path}/round-{i}.sqlite' for i in range(2)]
    assert _together(urls, migration.upgrade) == []
    for url in urls:
        assert migration.current(url) == migration.head()
        assert migration.schema_diff(url) == []
