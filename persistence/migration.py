"""Schema upgrades for bayflow's tables and TaskFlow's, run in code.

Two alembic histories share the database: TaskFlow's in ``alembic_version``
and ours in ``bayflow_alembic_version``, so neither overwrites the other.
"""

import contextlib
import functools
import os
import threading

from alembic import command
from alembic import config as alembic_config
from alembic import autogenerate
from alembic import migration as alembic_migration
from alembic import script as alembic_script
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from bayflow.persistence import api
from bayflow.persistence import diagnosis
from bayflow.persistence import models
from bayflow.persistence import taskflow_backend

VERSION_TABLE = 'bayflow_alembic_version'
MIGRATIONS_DIR = os.path.join(os.path.dirname(__file__), 'migrations')
# Arbitrary constant: serialises concurrent upgrades on PostgreSQL.
_PG_LOCK_KEY = 0x62617966
# alembic's ``context`` is a module-global proxy: one upgrade per process.
_ALEMBIC_LOCK = threading.Lock()


@contextlib.contextmanager
def _database(url_or_db):
    if isinstance(url_or_db, api.Database):
        yield url_or_db
        return
    db = api.Database(url_or_db)
    try:
        yield db
    finally:
        db.dispose()


def alembic_config_for(connection):
    """The configuration alembic.ini would give, built without the file."""
    cfg = alembic_config.Config()
    cfg.set_main_option('script_location', MIGRATIONS_DIR)
    cfg.attributes['connection'] = connection
    return cfg


@contextlib.contextmanager
def _upgrade_lock(conn):
    """Two processes starting at once must not both create the tables."""
    if conn.dialect.name != 'postgresql':
        yield  # SQLite: BEGIN IMMEDIATE already serialises the writers
        return
    conn.execute(sa.text('SELECT pg_advisory_lock(:k)'), {'k': _PG_LOCK_KEY})
    conn.commit()
    try:
        yield
    finally:
        conn.execute(sa.text('SELECT pg_advisory_unlock(:k)'),
                     {'k': _PG_LOCK_KEY})
        conn.commit()


def upgrade(url_or_db, revision='head'):
    """Bring bayflow's and TaskFlow's tables up to date; safe to repeat."""
    with _ALEMBIC_LOCK, _database(url_or_db) as db, db.engine.connect() as conn:
        with _upgrade_lock(conn):
            command.upgrade(alembic_config_for(conn), revision)
            conn.commit()
            _upgrade_taskflow(db)


def _upgrade_taskflow(db):
    backend = taskflow_backend.get_backend(db)
    try:
        with contextlib.closing(backend.get_connection()) as tf_conn:
            tf_conn.upgrade()
    finally:
        backend.close()


def current(url_or_db):
    """bayflow's schema revision, or None before the first upgrade."""
    with _database(url_or_db) as db, db.engine.connect() as conn:
        ctx = alembic_migration.MigrationContext.configure(
            conn, opts={'version_table': VERSION_TABLE})
        return ctx.get_current_revision()


@functools.lru_cache(maxsize=1)
def _revisions():
    scripts = alembic_script.ScriptDirectory(MIGRATIONS_DIR)
    return scripts.get_current_head(), frozenset(
        r.revision for r in scripts.walk_revisions())


def head():
    """The revision this bayflow's migrations end at."""
    return _revisions()[0]


def check_ready(url_or_db):
    """Raise DatabaseNotReady unless the database is reachable and at head.

    One line naming the database (password hidden) and the fix, instead of
    a driver error at the first query that needs a missing table or column.
    """
    with _database(url_or_db) as db:
        try:
            revision = current(db)
        except sa_exc.DBAPIError as e:
            raise (diagnosis.explain(db.url, e) or e) from None
        latest, known = _revisions()
        if revision != latest:
            raise diagnosis.not_migrated(db.url, revision, latest, known)


def include_name(name, type_, parent_names):
    """Compare only bayflow's tables: TaskFlow's have their own history."""
    return type_ != 'table' or name in models.Base.metadata.tables


def schema_diff(url_or_db):
    """What alembic sees between the models and the database ([] = none)."""
    with _database(url_or_db) as db, db.engine.connect() as conn:
        ctx = alembic_migration.MigrationContext.configure(
            conn, opts={'include_name': include_name, 'compare_type': True})
        return autogenerate.compare_metadata(ctx, models.Base.metadata)
