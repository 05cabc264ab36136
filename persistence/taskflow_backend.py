"""TaskFlow's SQL persistence backend on bayflow's database.

TaskFlow keeps its logbooks in the same database as the bay records, so a
bay and the flow that builds it are backed up, moved and migrated together.
"""

from taskflow.persistence.backends import impl_sqlalchemy

from bayflow.persistence import api


def get_backend(url_or_db):
    """A TaskFlow SQLAlchemy backend for a SQLAlchemy URL or a Database.

    Given a ``Database`` it shares that engine (the only way an in-memory
    SQLite database can hold both); closing the backend then leaves the
    engine to its Database. Given a URL the backend owns its engine.
    """
    if isinstance(url_or_db, api.Database):
        conf = {'connection': _render(url_or_db.url)}
        return impl_sqlalchemy.SQLAlchemyBackend(conf, engine=url_or_db.engine)
    url = api.normalize_url(url_or_db)
    backend = impl_sqlalchemy.SQLAlchemyBackend({'connection': _render(url)})
    if url.get_backend_name() == 'sqlite':
        # Same SQLite rules as ours: ON DELETE CASCADE from logbooks to
        # flow and atom details only works with foreign keys on.
        api.configure_sqlite(backend.engine)
    return backend


def _render(url):
    return url.render_as_string(hide_password=False)
