"""Processed events: each event's id is recorded in the transaction of its
effect, so a redelivered or duplicated event is known and has no second one.

The rows also keep, for an operator, what the event was, on which bay, and
how the operation it started ended.
"""

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from bayflow.persistence import exceptions as exc
from bayflow.persistence import leases
from bayflow.persistence import models

ProcessedEvent = models.ProcessedEvent


class EventMixin:
    """Mixed into ``Database`` (which owns ``_txn`` and ``dialect``)."""

    def _record_event(self, session, event_id, operation, bay_uuid):
        """Insert the event's row now, so a duplicate fails this transaction
        before its effect is written (the primary key settles any race)."""
        if event_id is None:
            return
        session.execute(self._insert_event(),
                        [self._event_row(event_id, operation, bay_uuid)])

    def _insert_event(self):
        return sa.insert(ProcessedEvent).values(processed_at=leases.clock(self.dialect))

    @staticmethod
    def _event_row(event_id, operation, bay_uuid):
        return {'event_id': event_id, 'bay_uuid': bay_uuid, 'outcome': 'pending',
                'event_type': f'bay.{operation}' if operation else None}

    def _explain_event(self, event_id):
        """After an IntegrityError: raise DuplicateEvent if that was it."""
        if event_id is not None and self.get_event(event_id) is not None:
            raise exc.DuplicateEvent(event_id) from None

    def recorded_events(self, event_ids):
        """The ids among ``event_ids`` recorded before (one query)."""
        with self._txn() as session:
            return set(session.scalars(
                sa.select(ProcessedEvent.event_id)
                .where(ProcessedEvent.event_id.in_(list(event_ids)))))

    def get_event(self, event_id):
        """The processed event's row as a dict, or None if never recorded."""
        with self._txn() as session:
            row = session.get(ProcessedEvent, event_id)
            return row and models.as_dict(row)

    def finish_events(self, bay_uuid, operation, outcome):
        """Record how the bay's ``operation`` ended (success or failure) on
        the events still pending for it; -> how many."""
        with self._txn() as session:
            return session.execute(
                sa.update(ProcessedEvent)
                .where(ProcessedEvent.bay_uuid == bay_uuid,
                       ProcessedEvent.event_type == f'bay.{operation}',
                       ProcessedEvent.outcome == 'pending')
                .values(outcome=outcome,
                        finished_at=leases.clock(self.dialect))
                .execution_options(synchronize_session=False)).rowcount

    def mark_event_processed(self, event_id):
        """True the first time only; the primary key settles any race."""
        try:
            with self._txn() as session:
                session.add(ProcessedEvent(
                    event_id=event_id,
                    processed_at=leases.clock(self.dialect)))
            return True
        except sa_exc.IntegrityError:
            return False
