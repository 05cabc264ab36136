"""TaskFlow's SQL persistence backend on bayflow's database.

TaskFlow keeps its logbooks in the same database as the bay records, so a
bay and the flow that builds it are backed up, moved and migrated together.
"""

import threading

from taskflow.persistence.backends import impl_sqlalchemy

from bayflow.persistence import api


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
                self._shared = super().get_connection()
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
