"""Alembic environment for bayflow's own tables.

TaskFlow's tables live in the same database under their own alembic history
(table ``alembic_version``), so ours uses ``bayflow_alembic_version`` and
autogenerate looks only at the tables bayflow owns.
"""

from alembic import context
import sqlalchemy as sa

from bayflow.persistence import migration
from bayflow.persistence import models

VERSION_TABLE = migration.VERSION_TABLE


def _configure(**kwargs):
    context.configure(target_metadata=models.Base.metadata,
                      version_table=VERSION_TABLE,
                      include_name=migration.include_name,
                      compare_type=True,
                      render_as_batch=True,
                      **kwargs)


def _url():
    """``-x url=...`` on the alembic command line wins over the ini file."""
    return (context.get_x_argument(as_dictionary=True).get('url')
            or context.config.get_main_option('sqlalchemy.url'))


def run_offline():
    _configure(url=_url(), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online():
    connection = context.config.attributes.get('connection')
    if connection is not None:
        _run_on(connection)
        return
    engine = sa.create_engine(_url(), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        _run_on(connection)
    engine.dispose()


def _run_on(connection):
    # SQLite's DDL is transactional once pysqlite stops managing BEGIN (see
    # bayflow.persistence.api): one transaction then spans the version check
    # and the migrations, so concurrent upgrades cannot both run them.
    _configure(connection=connection,
               transactional_ddl=connection.dialect.name in ('sqlite',
                                                             'postgresql'))
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
