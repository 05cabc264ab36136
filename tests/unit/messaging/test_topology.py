"""topology.connection: which transport a [messaging] transport_url gives, and a bad one."""

import pytest

from bayflow import exceptions
from bayflow.messaging import topology


def test_embedded_default_is_sqlite_under_bayflow_home(conf, bayflow_home):
    conn = topology.connection(conf)
    assert conn.transport.driver_type == 'sql'
    assert conn.hostname == f'sqlite:///{bayflow_home}/events.sqlite'
    assert bayflow_home.is_dir()     # SQLite creates the file, not its folder
    assert conn.transport.polling_interval == topology.EMBEDDED_POLLING_INTERVAL


def test_oslo_rabbit_spelling_is_kombu_amqp(conf):
    conf.set_override('transport_url', 'rabbit://u:pw@broker:5673/vh', 'messaging')
    conn = topology.connection(conf)
    assert conn.transport.driver_type == 'amqp'
    assert (conn.hostname, conn.port, conn.virtual_host) == ('broker', 5673, 'vh')


def test_unknown_scheme_names_the_option_without_the_password(conf):
    conf.set_override('transport_url', 'nonsense://u:s3cret@host//', 'messaging')
    with pytest.raises(exceptions.InvalidParameter) as info:
        topology.connection(conf)
    assert '[messaging] transport_url' in str(info.value) and 'amqp://' in str(info.value)
    assert 's3cret' not in str(info.value)
