"""TaskFlow's SQL persistence backend on bayflow's database.

TaskFlow keeps its logbooks in the same database as the bay records, so a
bay and the flow that builds it are backed up, moved and migrated together.
"""

import contextlib
import threading

import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from taskflow import exceptions as tf_exc
from taskflow.persistence.backends import impl_sqlalchemy

from bayflow.persistence import api
from bayflow.persistence import taskflow_rows


class Connection(impl_sqlalchemy.Connection):
    """TaskFlow's SQL connection, writing what changed and nothing more.

    TaskFlow reads a row back and merges it before every update, and its
    Storage hands over the whole flow detail, every atom in it, on each
    change of the flow's state: the update then rewrote every atom, 300
    UPDATEs at 50 nodes. A bay's flow has one writer, the holder of its
    lease, so an update is just the UPDATE, and a flow's update inserts
    the atoms the database lacks (Storage.ensure_atoms) and leaves the
    others to their own writes.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One UPDATE a table, its SET from the parameters' keys: SQLAlchemy
        # compiles each once instead of for every write.
        self._updates = {table.name: sa.update(table).where(
            table.c.uuid == sa.bindparam('_uuid'))
            for table in (self._tables.atomdetails, self._tables.flowdetails)}

    def update_atom_details(self, atom_detail):
        with _as_storage_failure(f'atom detail {atom_detail.uuid}'), \
                self._engine.begin() as conn:
            self._update(conn, self._tables.atomdetails, atom_detail)
        return atom_detail

    def update_flow_details(self, flow_detail):
        atoms = self._tables.atomdetails
        with _as_storage_failure(f'flow detail {flow_detail.uuid}'), \
                self._engine.begin() as conn:
            self._update(conn, self._tables.flowdetails, flow_detail)
            stored = set(conn.scalars(sa.select(atoms.c.uuid).where(
                atoms.c.parent_uuid == flow_detail.uuid)))
            missing = [ad for ad in flow_detail if ad.uuid not in stored]
            if missing:
                conn.execute(sa.insert(atoms), taskflow_rows.atom_rows(flow_detail, missing))
        return flow_detail

    def _update(self, conn, table, detail):
        values = dict(detail.to_dict(), _uuid=detail.uuid)
        done = conn.execute(self._updates[table.name], values)
        if done.rowcount == 0:
            raise tf_exc.NotFound(f'no {table.name} row with uuid {detail.uuid!r}')


@contextlib.contextmanager
def _as_storage_failure(what):
    """TaskFlow's Storage expects its backend's errors as StorageFailure."""
    try:
        yield
    except sa_exc.SQLAlchemyError:
        tf_exc.raise_with_cause(tf_exc.StorageFailure, f'Failed updating {what}')


class Backend(impl_sqlalchemy.SQLAlchemyBackend):
    """TaskFlow's SQL backend, with one Connection serving every call.

    TaskFlow asks for a new Connection on every storage call, and each one
    builds the table metadata anew, so SQLAlchemy compiles every statement
    again: about 7 ms of CPU a call, a third of a bay create's CPU. A
    Connection holds no per-call state (each call runs its own transaction on
    the engine) and its close() does nothing, so one can serve all threads.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._shared = None
        self._shared_lock = threading.Lock()

    def get_connection(self):
        with self._shared_lock:
            if self._shared is None:
                self._shared = Connection(self, upgrade_lock=self._upgrade_lock)
                if not self._validated:
                    self._shared.validate(max_retries=self._max_retries)
                    self._validated = True
            return self._shared

    def close(self):
        with self._shared_lock:
            self._shared = None
        super().close()


def get_backend(url_or_db):
    """A TaskFlow SQLAlchemy backend for a SQLAlchemy URL or a Database.

    Given a ``Database`` it shares that engine (the only way an in-memory
    SQLite database can hold both); closing the backend then leaves the
    engine to its Database. Given a URL the backend owns its engine.
    """
    if isinstance(url_or_db, api.Database):
        conf = {'connection': _render(url_or_db.url)}
        return Backend(conf, engine=url_or_db.engine)
    url = api.normalize_url(url_or_db)
    backend = Backend({'connection': _render(url)})
    if url.get_backend_name() == 'sqlite':
        # Same SQLite rules as ours: ON DELETE CASCADE from logbooks to
        # flow and atom details only works with foreign keys on.
        api.configure_sqlite(backend.engine)
    return backend


def _render(url):
    return url.render_as_string(hide_password=False)
