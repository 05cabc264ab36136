"""A pooled PostgreSQL connection is checked at checkout without a round trip.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at every checkout: one
round trip in three of a flow's state write, and a tenth of a busy flow
worker's CPU. An idle PostgreSQL connection has nothing to read: the server
writes only to answer, or to end the session (a restart, a failover,
``pg_terminate_backend``, an idle timeout), and then the socket turns
readable with its FATAL notice and EOF. So a readable socket at checkout
means the session is gone, and the pool drops it and opens another, as it did
after a failed ping. (redis-py checks its pooled connections the same way.)
A peer that vanished without a word is not seen; the ping saw that only after
TCP's own timeout.
"""

import select

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc


def check_at_checkout(engine):
    """``engine`` (PostgreSQL, psycopg2), its pooled connections checked."""
    sa.event.listen(engine, 'checkout', _check)
    return engine


def _check(dbapi_connection, _record, _proxy):
    if dbapi_connection.closed or _readable(dbapi_connection.fileno()):
        raise sa_exc.DisconnectionError('the server ended this pooled session')


def _readable(fd):
    poll = select.poll()
    poll.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poll.poll(0))
