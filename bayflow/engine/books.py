"""Where flows are kept: one TaskFlow logbook per bay, one flow detail per operation.

A flow is saved with its factory's importable name, its JSON arguments and
its store before anything runs, so any process (a detached worker, ``bayflow
resume``, another host) rebuilds it with ``engines.load_from_detail``.
"""

import contextlib
import datetime

from oslo_utils import uuidutils
from taskflow import engines
from taskflow import states as tf_states
from taskflow import storage
from taskflow.persistence import models as tf_models

from bayflow.persistence import taskflow_backend

# Meta key of the flow detail holding bayflow's own options (never the store).
META = 'bayflow'


@contextlib.contextmanager
def connection(backend):
    conn = backend.get_connection()
    try:
        yield conn
    finally:
        conn.close()


def backend_for(db):
    return taskflow_backend.get_backend(db)


def new_book(bay_uuid, factory, factory_kwargs, store, options=None):
    """A logbook holding a new flow for the bay; -> (book, flow detail uuid).

    The store goes into the flow detail, so no later process needs it. No
    engine is built for that: the one that runs the flow makes its steps'
    atom details (building a flow twice costs a create real CPU). The
    injector's atom detail is what Storage.inject() writes, made here so the
    logbook, the flow detail and the store are written at once.
    """
    fd = tf_models.FlowDetail(f'{factory.__name__}:{bay_uuid}', uuidutils.generate_uuid())
    fd.meta[META] = dict(options or {}, created_at=_now())
    engines.save_factory_details(fd, factory, [], factory_kwargs)  # into fd.meta only
    injector = tf_models.TaskDetail(storage.Storage.injector_name, uuidutils.generate_uuid())
    injector.results, injector.state = dict(store), tf_states.SUCCESS
    fd.add(injector)
    book = tf_models.LogBook(f'bay-{bay_uuid}', uuid=bay_uuid)
    book.add(fd)
    return book, fd.uuid


def save_flow(backend, bay_uuid, factory, factory_kwargs, store, options=None):
    """Persist a new flow for the bay (in its logbook); returns its flow detail uuid."""
    book, flow_id = new_book(bay_uuid, factory, factory_kwargs, store, options)
    save_book(backend, book)
    return flow_id


def save_book(backend, book):
    """save_logbook adds the book's flows to the bay's logbook if there is one
    already, without our reading that first."""
    with connection(backend) as conn:
        conn.save_logbook(book)


def load_flow(backend, flow_id):
    with connection(backend) as conn:
        return conn.get_flow_details(flow_id)


def options_of(flow_detail):
    return dict(flow_detail.meta.get(META) or {})


def steps(backend, flow_id):
    """Each atom of a flow: name, state, start, duration and error (for bay-show --steps)."""
    if not flow_id:
        return []
    try:
        fd = load_flow(backend, flow_id)
    except Exception:  # noqa: BLE001 - a bay whose flow was never saved
        return []
    out = []
    for ad in fd:
        if ad.name.startswith('_TaskFlow'):
            continue
        meta = ad.meta or {}
        error = None
        if ad.failure is not None:
            error = ad.failure.exception_str
        elif ad.revert_failure is not None:
            error = 'revert failed: ' + ad.revert_failure.exception_str
        out.append({'step': ad.name, 'state': ad.state,
                    'started_at': meta.get('started_at'),
                    'duration': meta.get('duration'), 'error': error})
    out.sort(key=lambda s: (s['started_at'] is None, s['started_at'] or '', s['step']))
    return out


def sweep(backend, bay_uuids):
    """Destroy the logbooks of bays that are gone (a process killed after its
    delete's last step left one); -> how many. A bay's row is inserted before
    its logbook and destroyed before it, so a logbook without a bay is done."""
    with connection(backend) as conn:
        books = [b.uuid for b in conn.get_logbooks(lazy=True)]
    gone = [uuid for uuid in books if uuid not in bay_uuids]
    for uuid in gone:
        destroy_book(backend, uuid)
    return len(gone)


def destroy_book(backend, bay_uuid):
    with connection(backend) as conn:
        try:
            conn.destroy_logbook(bay_uuid)
        except Exception:  # noqa: BLE001 - already gone
            pass


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat()
