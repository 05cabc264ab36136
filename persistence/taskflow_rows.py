"""TaskFlow's logbook rows written inside one of bayflow's own transactions.

A new bay's logbook (its flow detail and the store's injector) goes in with
the bay's row and its event's, so the three commit together or not at all:
no bay without its flow, no flow left behind by a duplicate event. The rows
are TaskFlow's own (its table definitions, its models' ``to_dict``), exactly
what its SQL backend's ``save_logbook`` writes for a new book.
"""

import functools

import sqlalchemy as sa
from taskflow.persistence import models
from taskflow.persistence.backends.sqlalchemy import tables as tf_tables


@functools.cache
def _tables():
    return tf_tables.fetch(sa.MetaData())


def insert_books(connection, books):
    """Insert logbooks that are not in the database yet, with all they hold:
    one statement a table however many books."""
    tables = _tables()
    flows = [(book, fd) for book in books for fd in book]
    for table, rows in (
            (tables.logbooks, [book.to_dict() for book in books]),
            (tables.flowdetails, [dict(fd.to_dict(), parent_uuid=book.uuid)
                                  for book, fd in flows]),
            (tables.atomdetails, [row for _, fd in flows for row in atom_rows(fd, fd)])):
        if rows:
            connection.execute(sa.insert(table), rows)


def atom_rows(flow_detail, atom_details):
    """The atomdetails rows of some of a flow's atom details."""
    return [dict(ad.to_dict(), parent_uuid=flow_detail.uuid,
                 atom_type=models.atom_detail_type(ad)) for ad in atom_details]
