"""The bay lifecycle machine: the only code that changes a bay's status.

Statuses are Magnum's (and Heat's): CREATE_/UPDATE_/DELETE_/ROLLBACK_ x
IN_PROGRESS/COMPLETE/FAILED. Each move is checked against the transition
table below and persisted by ``Database.set_status`` together with a version
bump, so of two processes holding the same version only one moves the bay,
and with the lease condition, so a process that does not hold a live lease
cannot move a bay another one runs.

A ``transitions.Machine`` is built per call on a throw-away model: it costs
well under a millisecond and shares no state between threads.
"""

import functools
import logging

import transitions

from bayflow import exceptions
from bayflow.persistence import exceptions as db_exc

LOG = logging.getLogger(__name__)

ACTIONS = ('CREATE', 'UPDATE', 'DELETE', 'ROLLBACK')
STATUSES = tuple(f'{a}_{s}' for a in ACTIONS
                 for s in ('IN_PROGRESS', 'COMPLETE', 'FAILED'))
IN_PROGRESS = tuple(s for s in STATUSES if s.endswith('_IN_PROGRESS'))
COMPLETE = tuple(s for s in STATUSES if s.endswith('_COMPLETE'))
FAILED = tuple(s for s in STATUSES if s.endswith('_FAILED'))

# The machine's state for a bay that has no row yet.
NEW = 'NEW'

TRIGGERS = ('create', 'create_complete', 'update', 'update_complete',
            'delete', 'delete_complete', 'fail', 'rollback',
            'rollback_complete', 'rollback_failed', 'resume')

# Triggers that start an operation; every other one keeps the operation of
# the status it leaves (a rollback remembers what it rolled back).
STARTS = {'create': 'create', 'update': 'update', 'delete': 'delete'}

# Seconds a lease taken by ``resume`` (or with ``owner=``) lasts unless
# renewed with ``Database.renew_lease`` (measured by the database's clock).
DEFAULT_LEASE_SECONDS = 60

_TRANSITIONS = (
    [dict(trigger='create', source=NEW, dest='CREATE_IN_PROGRESS'),
     dict(trigger='create_complete', source='CREATE_IN_PROGRESS',
          dest='CREATE_COMPLETE'),
     dict(trigger='update',
          source=['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'ROLLBACK_COMPLETE'],
          dest='UPDATE_IN_PROGRESS', conditions='holds_cloud_resources'),
     dict(trigger='update_complete', source='UPDATE_IN_PROGRESS',
          dest='UPDATE_COMPLETE'),
     # Any status, a running one included: its flow stops at its next step.
     dict(trigger='delete', source=list(STATUSES), dest='DELETE_IN_PROGRESS'),
     dict(trigger='delete_complete', source='DELETE_IN_PROGRESS',
          dest='DELETE_COMPLETE'),
     dict(trigger='rollback', source=['CREATE_IN_PROGRESS',
                                      'UPDATE_IN_PROGRESS'],
          dest='ROLLBACK_IN_PROGRESS'),
     dict(trigger='rollback_complete', source='ROLLBACK_IN_PROGRESS',
          dest='ROLLBACK_COMPLETE'),
     dict(trigger='rollback_failed', source='ROLLBACK_IN_PROGRESS',
          dest='ROLLBACK_FAILED'),
     # An interrupted flow goes on where it stopped: same status.
     dict(trigger='resume', source=list(IN_PROGRESS), dest='=')]
    + [dict(trigger='fail', source=f'{a}_IN_PROGRESS', dest=f'{a}_FAILED')
       for a in ACTIONS])

# Heat's stack_status_reason wording, which Magnum copied onto the bay.
_REASONS = {
    'CREATE_IN_PROGRESS': 'Bay CREATE started',
    'UPDATE_IN_PROGRESS': 'Bay UPDATE started',
    'DELETE_IN_PROGRESS': 'Bay DELETE started',
    'ROLLBACK_IN_PROGRESS': 'Bay ROLLBACK started',
    'CREATE_COMPLETE': 'Bay CREATE completed successfully',
    'UPDATE_COMPLETE': 'Bay UPDATE completed successfully',
    'DELETE_COMPLETE': 'Bay DELETE completed successfully',
    'ROLLBACK_COMPLETE': 'Bay ROLLBACK completed successfully',
    'CREATE_FAILED': 'Bay CREATE failed',
    'UPDATE_FAILED': 'Bay UPDATE failed',
    'DELETE_FAILED': 'Bay DELETE failed',
    'ROLLBACK_FAILED': 'Bay ROLLBACK failed',
}


class _Bay:
    """What the machine needs to know of a bay: its status and operation."""

    def __init__(self, status, operation):
        self.operation = operation
        transitions.Machine(model=self, states=[NEW, *STATUSES],
                            transitions=_TRANSITIONS, initial=status or NEW,
                            auto_transitions=False)

    def holds_cloud_resources(self):
        """A rolled-back create left nothing in the cloud to update."""
        return not (self.state == 'ROLLBACK_COMPLETE'
                    and self.operation != 'update')


@functools.lru_cache(maxsize=1024)
def next_status(status, operation, trigger):
    """The status ``trigger`` leads to, or None when it is not allowed.

    A pure function of its arguments, so kept: building the machine is most
    of a move's CPU when the daemon takes events in."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown lifecycle trigger {trigger!r}; known "
                         f"triggers are {', '.join(TRIGGERS)}")
    bay = _Bay(status, operation)
    if not bay.may_trigger(trigger):
        return None
    bay.trigger(trigger)
    return bay.state


def allowed_operations(status, operation=None):
    """The triggers a bay in ``status`` (None: no bay yet) accepts."""
    bay = _Bay(status, operation)
    return [t for t in TRIGGERS if bay.may_trigger(t)]


def sources_of(trigger):
    """Statuses from which ``trigger`` may be fired, for error messages."""
    found = []
    for t in _TRANSITIONS:
        if t['trigger'] == trigger:
            src = t['source']
            found.extend([src] if isinstance(src, str) else src)
    return [s for s in STATUSES if s in found]


def _name(bay):
    return f"{bay['name']!r} ({bay['uuid']})" if bay.get('name') \
        else repr(bay['uuid'])


def _refusal(bay, trigger):
    status, operation = bay['status'], bay.get('operation')
    name = _name(bay)
    if trigger == 'create':
        return (f"bay {name} already exists (status {status}); create makes "
                f"a new bay")
    if trigger == 'resume':
        return (f"nothing to resume: bay {name} is {status}; resume continues "
                f"an interrupted operation, so it is allowed only from "
                f"{_either(IN_PROGRESS)}")
    if trigger == 'update' and status == 'ROLLBACK_COMPLETE':
        return (f"cannot update bay {name}: it is ROLLBACK_COMPLETE after a "
                f"rolled-back {operation or 'create'}, so nothing of it exists "
                f"in the cloud to update; delete it and create it again")
    allowed = sources_of(trigger)
    if trigger == 'update':
        allowed = ['CREATE_COMPLETE', 'UPDATE_COMPLETE',
                   'ROLLBACK_COMPLETE (of an update)']
    hint = '; a failed bay can still be deleted' if status in FAILED else ''
    return (f"cannot {_VERBS[trigger]} bay {name}: its status is {status}, "
            f"and {trigger} is allowed only from {_either(allowed)}{hint}")


_VERBS = {
    'create_complete': 'complete the create of',
    'update': 'update',
    'update_complete': 'complete the update of',
    'delete': 'delete',
    'delete_complete': 'complete the delete of',
    'fail': 'mark as failed',
    'rollback': 'roll back',
    'rollback_complete': 'complete the rollback of',
    'rollback_failed': 'fail the rollback of',
    'resume': 'resume',
}


def _either(statuses):
    if len(statuses) == 1:
        return statuses[0]
    return ', '.join(statuses[:-1]) + ' or ' + statuses[-1]


def _lease_args(trigger, new_status, owner, lease_seconds, steal_from):
    """How a move treats the bay's lease (see Database.set_status)."""
    if trigger == 'resume':
        return dict(owner=owner, lease='take', lease_seconds=lease_seconds,
                    steal_from=steal_from, only_from=IN_PROGRESS)
    if trigger == 'delete':
        # Anyone may ask; a live flow keeps its lease until it stops.
        return dict(owner=owner, request=True, lease_seconds=lease_seconds,
                    lease='take' if owner else None)
    if new_status not in IN_PROGRESS:
        return dict(owner=owner, steal_from=steal_from, lease='release')
    if owner is None:
        return {}
    return dict(owner=owner, steal_from=steal_from, lease='take',
                lease_seconds=lease_seconds)


def _event(event_id):
    """The event_id argument of a write, only when there is an event."""
    return {} if event_id is None else {'event_id': event_id}


def start_create(db, values, reason=None, owner=None,
                 lease_seconds=DEFAULT_LEASE_SECONDS, event_id=None, book=None):
    """Insert a new bay, already CREATE_IN_PROGRESS, in one transaction.

    With ``owner`` the bay is inserted leased to it (database clock). With
    ``event_id`` the event is recorded in that transaction: DuplicateEvent
    if it was recorded before (and no bay is inserted). ``book`` (the bay's
    TaskFlow logbook) is inserted in it too.
    """
    try:
        bay = db.create_bay(_created(values, reason), owner=owner,
                            lease_seconds=lease_seconds if owner else None,
                            book=book, **_event(event_id))
    except db_exc.DuplicateEvent as e:
        raise exceptions.DuplicateEvent(e.event_id) from e
    _log_created(bay)
    return bay


def start_creates(db, items):
    """Insert many new bays, CREATE_IN_PROGRESS and not leased, in one
    transaction: ``items`` are (values, event_id, book). All or nothing."""
    bays = db.create_bays([(_created(values), event_id, book)
                           for values, event_id, book in items])
    for bay in bays:
        _log_created(bay)
    return bays


def _created(values, reason=None):
    status = next_status(None, None, 'create')
    return dict(values, status=status, operation='create',
                status_reason=reason or _REASONS[status])


def _log_created(bay):
    LOG.info('bay %s: create -> %s (version %s)', bay['uuid'], bay['status'],
             bay['version'])


def transition(db, bay, trigger, reason=None, expected_version=None,
               owner=None, extra=None, lease_seconds=DEFAULT_LEASE_SECONDS,
               steal_from=None, event_id=None):
    """Move a bay (uuid, name or dict) by ``trigger``; returns the new row.

    One UPDATE whose WHERE holds the version read with ``bay`` (or
    ``expected_version``) and the lease: while another live process holds
    it, the move is refused (OperationNotAllowed naming the holder and what
    it runs). ``owner`` is the process making the move; a move to
    *_IN_PROGRESS with an owner takes the lease, any other status frees it.

    ``delete`` is a request anyone may make on a running bay: it moves the
    bay to DELETE_IN_PROGRESS but leaves a live holder its lease; the
    holder's next renew raises LeaseLost(cancelled=True) and it stops. With
    nobody running the bay, ``owner`` gets the lease at once.

    ``resume`` needs ``owner``; it takes the lease if it is free, expired,
    already ``owner``'s, or held by ``steal_from`` (a process the caller
    proved dead). ``extra`` holds other fields written with the status
    (flow_id, addresses, node_count). ``event_id`` is recorded with the move
    (DuplicateEvent, and no move, if it was recorded before).
    """
    if isinstance(bay, str):
        bay = db.get_bay(bay)
    _check_version(bay, expected_version)
    new_status = next_status(bay['status'], bay.get('operation'), trigger)
    if new_status is None:
        raise exceptions.OperationNotAllowed(_refusal(bay, trigger))
    if trigger == 'resume' and not owner:
        raise exceptions.OperationNotAllowed(
            f"cannot resume bay {_name(bay)} without an owner: name the "
            f"process that will run its flow")
    operation = STARTS.get(trigger, bay.get('operation'))
    reason = reason or _REASONS[new_status]
    if trigger == 'resume' and reason == _REASONS[new_status]:
        reason = f"Bay {(bay.get('operation') or '').upper()} resumed by {owner}"
    try:
        if new_status == 'DELETE_COMPLETE':
            new = _destroy(db, bay, reason, owner)
        else:
            new = db.set_status(
                bay['uuid'], bay['version'], new_status, reason, operation,
                extra, **_event(event_id),
                **_lease_args(trigger, new_status, owner, lease_seconds,
                              steal_from))
    except db_exc.DuplicateEvent as e:
        raise exceptions.DuplicateEvent(e.event_id) from e
    except db_exc.StaleObject as e:
        raise exceptions.Conflict(str(e)) from e
    except db_exc.NotFound as e:
        raise exceptions.Conflict(
            f"bay {_name(bay)} was deleted by someone else while it was "
            f"being moved to {new_status}") from e
    except db_exc.LeaseHeld as e:
        raise exceptions.OperationNotAllowed(_held(bay, trigger, e)) from e
    except db_exc.LeaseLost as e:
        raise exceptions.OperationNotAllowed(
            f"cannot {_VERBS[trigger]} bay {_name(bay)}: {owner!r} no longer "
            f"runs it ({e.reason}); its flow stops here") from e
    LOG.info('bay %s: %s %s -> %s (version %s): %s', bay['uuid'], trigger,
             bay['status'], new_status, new['version'], reason)
    return new


def _held(bay, trigger, held):
    """A refusal naming the live holder and the flow it really runs."""
    name = _name(bay)
    if trigger == 'delete':
        return (f"bay {name} is already being deleted: {held.holding}; "
                f"bay-show tells when it is done")
    if trigger == 'resume':
        return (f"cannot resume bay {name}: {held.holding}; resume it after "
                f"that lease expires, or sooner if that process is known dead")
    return (f"cannot {_VERBS[trigger]} bay {name}: {held.holding}; only that "
            f"process may move it until its lease ends")


def _check_version(bay, expected_version):
    if expected_version is not None and bay['version'] != expected_version:
        raise exceptions.Conflict(
            f"bay {_name(bay)} was changed by someone else (expected version "
            f"{expected_version}, found {bay['version']}); reload and retry")


def _destroy(db, bay, reason, owner):
    """DELETE_COMPLETE is never stored: the row goes, the dict records it."""
    gone = db.destroy_bay(bay['uuid'], bay['version'], owner=owner)
    return dict(gone, status='DELETE_COMPLETE', status_reason=reason,
                operation='delete', version=gone['version'] + 1,
                owner=None, lease_expires_at=None, lease_operation=None)
