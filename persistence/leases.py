"""Who may run or move a bay: lease conditions on the database's clock.

Conductors on several hosts disagree on the time, so no lease time is ever
computed in Python: every expiry is written and compared in SQL, with the
database's clock. Each lease function is one conditional UPDATE; the
conditions here are also put in the WHERE of every status write, so a
process that does not hold a live lease cannot move a bay another one runs.

Lease writes do not bump the bay's ``version`` (a heartbeat must not
invalidate the running flow's version); the owner condition guards instead.
"""

import datetime

import sqlalchemy as sa

from bayflow.persistence import exceptions as exc
from bayflow.persistence import models

Bay = models.Bay
LEASE_COLUMNS = ('owner', 'lease_expires_at', 'lease_operation')
# SQLAlchemy's text format of a DateTime on SQLite, microseconds included,
# so stored and computed times compare correctly as text.
_SQLITE_FORMAT = '%Y-%m-%d %H:%M:%f000'


def clock(dialect, seconds=0):
    """The database's time now (+ ``seconds``), as a SQL expression.

    PostgreSQL's statement_timestamp() holds still within a statement, so a
    WHERE and its SET see the same moment; SQLite's 'now' does likewise.
    """
    if dialect == 'sqlite':
        expr = sa.func.strftime(_SQLITE_FORMAT, 'now', f'{float(seconds):+.3f} seconds')
    else:
        expr = sa.func.statement_timestamp()
        if seconds:
            expr = expr + sa.literal(datetime.timedelta(seconds=seconds), sa.Interval())
    return sa.type_coerce(expr, models.UTCDateTime())


def unheld(now):
    """Nobody holds a live lease."""
    return sa.or_(Bay.owner.is_(None), Bay.lease_expires_at.is_(None),
                  Bay.lease_expires_at <= now)


def _for_current_operation():
    return sa.or_(Bay.lease_operation.is_(None), Bay.lease_operation == Bay.operation)


def writable(owner, now, steal_from=None):
    """``owner`` may move the bay: no live lease, or its own for the bay's
    current operation (not one a delete request cancelled), or the holder is
    ``steal_from``, a process the caller proved dead."""
    allowed = [unheld(now)]
    if owner:
        allowed.append(sa.and_(Bay.owner == owner, _for_current_operation()))
    if steal_from:
        allowed.append(Bay.owner == steal_from)
    return sa.or_(*allowed)


def not_running(operation, owner, now):
    """A request for ``operation`` (a delete) is refused only while another
    live process already runs that very operation."""
    allowed = [unheld(now), Bay.lease_operation.is_(None),
               Bay.lease_operation != operation]
    if owner:
        allowed.append(Bay.owner == owner)
    return sa.or_(*allowed)


def free_for_request(owner, operation, now):
    """A request takes the lease at once only if nobody runs the bay."""
    return sa.or_(unheld(now), sa.and_(Bay.owner == owner,
                                       Bay.lease_operation == operation))


def taken(dialect, owner, seconds, operation):
    """Values that make ``owner`` the holder for ``seconds`` (DB clock)."""
    return {'owner': owner, 'lease_expires_at': clock(dialect, seconds),
            'lease_operation': operation}


RELEASED = dict.fromkeys(LEASE_COLUMNS)


def state(session, dialect, uuid):
    """The bay's lease and status, with the database's time, or None."""
    return session.execute(
        sa.select(Bay.version, Bay.status, Bay.operation, Bay.owner,
                  Bay.lease_expires_at, Bay.lease_operation,
                  clock(dialect).label('now'))
        .where(Bay.uuid == uuid)).one_or_none()


def is_live(row):
    return bool(row.owner and row.lease_expires_at
                and row.lease_expires_at > row.now)


def _cancel_reason(row):
    why = ('because a delete was requested' if row.operation == 'delete'
           else f'for its {row.operation} operation')
    return f"bay now {row.status} {why}"


def held(uuid, row):
    return exc.LeaseHeld(uuid, row.owner, row.lease_operation,
                         row.lease_expires_at, row.status, row.operation)


def lost(uuid, owner, operation, row):
    """Why ``owner`` no longer holds the lease for ``operation``."""
    if row is None:
        return exc.LeaseLost(uuid, owner, 'bay gone (deleted)')
    if row.operation != operation:
        return exc.LeaseLost(uuid, owner, _cancel_reason(row), cancelled=True)
    if row.owner is None:
        return exc.LeaseLost(uuid, owner, f'released; bay now {row.status}')
    if row.owner != owner:
        return exc.LeaseLost(uuid, owner, f'taken by {row.owner!r}')
    return exc.LeaseLost(
        uuid, owner, f'expired at {row.lease_expires_at.isoformat()} '
                     f'(database time {row.now.isoformat()})')


def refusal(uuid, row, owner, expected_version, operation=None, request=False,
            taking=False):
    """Why a conditional bay write touched no row (read in its transaction).

    ``taking``: the write would take the lease (a resume), so ``owner``'s own
    lease for a cancelled operation is another flow of it still stopping.
    """
    if row is None:
        return exc.NotFound('bay', uuid)
    live = is_live(row)
    if live and owner and row.owner == owner and \
            row.lease_operation not in (None, row.operation):
        if taking:
            return held(uuid, row)
        return exc.LeaseLost(uuid, owner, _cancel_reason(row), cancelled=True)
    if live and row.owner != owner and \
            (not request or row.lease_operation == operation):
        return held(uuid, row)
    return exc.StaleObject('bay', uuid, expected_version, row.version)


class LeaseMixin:
    """acquire, renew, release: each one conditional UPDATE on the DB clock."""

    def now(self):
        """The database's current time (aware UTC)."""
        with self._txn() as session:
            return session.scalar(sa.select(clock(self.dialect)))

    def acquire_lease(self, uuid, owner, seconds, steal_from=None):
        """Take the bay for its current operation; False if another runs it.

        Free means: no owner, an expired lease, already ``owner``'s for the
        bay's current operation, or held by ``steal_from`` (a process the
        caller proved dead).
        """
        now = clock(self.dialect)
        values = taken(self.dialect, owner, seconds, Bay.operation)
        return self._lease_update(uuid, writable(owner, now, steal_from), values)

    def renew_lease(self, uuid, owner, seconds, operation, stopping=False):
        """Extend our live lease for ``operation``; True, or ``LeaseLost``
        saying why (taken, expired, a delete was requested, bay gone).

        ``stopping``: the bay has moved on (a delete was requested) and our
        flow is finishing its current step: the lease is kept while it does,
        so the delete cannot start beside a step still making resources."""
        now = clock(self.dialect)
        if stopping:
            condition = sa.and_(Bay.owner == owner, Bay.lease_expires_at > now,
                                Bay.lease_operation == operation)
        else:
            condition = sa.and_(Bay.owner == owner, Bay.lease_expires_at > now,
                                Bay.operation == operation)
        values = {'lease_expires_at': clock(self.dialect, seconds)}
        with self._txn() as session:
            if self._lease_statement(session, uuid, condition, values):
                return True
            raise lost(uuid, owner, operation, state(session, self.dialect, uuid))

    def release_lease(self, uuid, owner, operation=None):
        """Give the bay up; harmless if it is gone or no longer ours.

        With ``operation``, only a lease taken for that operation is given
        up (a process running two flows of one bay under one owner name).
        """
        condition = Bay.owner == owner
        if operation is not None:
            condition = sa.and_(condition, Bay.lease_operation == operation)
        try:
            return self._lease_update(uuid, condition, RELEASED)
        except exc.NotFound:
            return False

    def lease_of(self, uuid):
        """{owner, lease_operation, lease_expires_at, live, status, operation}."""
        with self._txn() as session:
            row = state(session, self.dialect, uuid)
        if row is None:
            raise exc.NotFound('bay', uuid)
        return {'owner': row.owner, 'lease_operation': row.lease_operation,
                'lease_expires_at': row.lease_expires_at, 'live': is_live(row),
                'status': row.status, 'operation': row.operation}

    def _lease_update(self, uuid, condition, values):
        with self._txn() as session:
            if self._lease_statement(session, uuid, condition, values):
                return True
            if session.scalar(sa.select(Bay.id).where(Bay.uuid == uuid)):
                return False
            raise exc.NotFound('bay', uuid)

    @staticmethod
    def _lease_statement(session, uuid, condition, values):
        # A heartbeat is not a change of the bay: keep updated_at as it is.
        stmt = (sa.update(Bay).where(Bay.uuid == uuid, condition)
                .values(updated_at=Bay.updated_at, **values)
                .execution_options(synchronize_session=False))
        return session.execute(stmt).rowcount == 1
