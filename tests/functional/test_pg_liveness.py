"""Pooled PostgreSQL sessions: as many kept as asked for, and those the server
ended replaced at checkout, with no ping."""

import time

import sqlalchemy as sa

from bayflow.persistence import api

_PID = sa.text('SELECT pg_backend_pid()')


def _gone(admin, pid, deadline=10.0):
    """Wait for the server to end ``pid`` (it has written its FATAL notice by then)."""
    end = time.monotonic() + deadline
    while admin.execute(sa.text('SELECT count(*) FROM pg_stat_activity WHERE pid = :p'),
                        {'p': pid}).scalar():
        assert time.monotonic() < end, f'backend {pid} still running after {deadline} s'
        time.sleep(0.02)


def test_a_pooled_session_the_server_ended_is_replaced_and_a_live_one_kept(pg_url):
    engine = api.make_engine(pg_url)
    admin = sa.create_engine(pg_url, isolation_level='AUTOCOMMIT').connect()
    try:
        with engine.connect() as conn:
            first = conn.execute(_PID).scalar()
        with engine.connect() as conn:
            assert conn.execute(_PID).scalar() == first  # a live session is kept

        admin.execute(sa.text('SELECT pg_terminate_backend(:p)'), {'p': first})
        _gone(admin, first)
        with engine.connect() as conn:  # without the check: "server closed the connection"
            second = conn.execute(_PID).scalar()
        assert second != first
        assert engine.pool.checkedin() == 1  # the dead one is not kept
        with engine.connect() as conn:
            assert conn.execute(_PID).scalar() == second
    finally:
        admin.close()
        engine.dispose()


def test_the_pool_keeps_as_many_sessions_as_asked_for(pg_url):
    db = api.Database(pg_url, pool=(7, 3))
    try:
        assert (db.engine.pool.size(), db.engine.pool._max_overflow) == (7, 3)
    finally:
        db.dispose()
