"""The daemon's other doors: an oslo.messaging service's casts, the embedded
transport with no server at all, and /healthz when the database goes away."""

import json
import signal
import warnings

import pytest
from oslo_config import cfg

from tests.functional.daemon.conftest import Daemon, free_port, until, write_config
from tests.functional.daemon.proxy import Proxy
from tests.functional.engine.conftest import BAYMODEL

pytestmark = [pytest.mark.filterwarnings(r'ignore:\s*Eventlet is deprecated'),
              pytest.mark.filterwarnings('ignore::DeprecationWarning')]


def _oslo_messaging():
    with warnings.catch_warnings():  # eventlet's import-time warning is not ours
        warnings.simplefilter('ignore')
        import oslo_messaging
    return oslo_messaging


def test_oslo_messaging_casts_create_and_delete_bays(daemon, sim):
    om = _oslo_messaging()
    daemon.start()
    url = 'rabbit://' + daemon.transport_url.split('://', 1)[1]
    transport = om.get_rpc_transport(cfg.CONF, url=url)
    try:
        client = om.get_rpc_client(transport, om.Target(exchange='bayflow', topic='bayflow'))
        context = {'project_id': 'p1', 'user_id': 'u1', 'request_id': 'req-rpc'}
        client.cast(context, 'bay_create', bay={
            'name': 'rpc', 'baymodel_id': 'k8sbaymodel', 'node_count': 1,
            'master_count': 1, 'discovery_url': None, 'uuid': None},
            bay_create_timeout=30)
        until(lambda: daemon.status('rpc') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
        bay = daemon.bay('rpc')
        assert bay['create_timeout'] == 30
        client.cast(context, 'bay_delete', uuid=bay['uuid'])
        until(lambda: daemon.status('rpc') is None, what='the bay gone')
    finally:
        transport.cleanup()
    until(lambda: ('bayflow.bay.delete', 'success', bay['uuid'], 'req-rpc')
          in daemon.notifications_seen(), what='the delete success notification')
    assert ('bayflow.bay.create', 'success', bay['uuid'], 'req-rpc') in daemon.seen
    assert daemon.metrics()['bayflow_events_consumed_total{source="rpc"}'] == 2


def test_embedded_transport_and_database_with_no_server(sim, tmp_path):
    from tests.functional.engine.conftest import make_cli
    cli = make_cli(sim, tmp_path)  # no [database] nor [messaging]: SQLite files only
    cli.ok(*BAYMODEL)
    daemon = Daemon(cli, None, free_port(), 'sqlite:///' + str(cli.home / 'bayflow.sqlite'))
    try:
        daemon.start()
        cli.ok('event-send', 'bay.create', '--payload', json.dumps(
            {'name': 'embedded', 'baymodel': 'k8sbaymodel', 'node_count': 1}))
        until(lambda: daemon.status('embedded') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
        cli.ok('event-send', 'bay.delete', '--payload', '{"bay": "embedded"}')
        until(lambda: daemon.status('embedded') is None, what='the bay gone')
        assert (cli.home / 'events.sqlite').exists()
        assert daemon.stop() == 0
    finally:
        daemon.stop(signal.SIGKILL)
        daemon.db.dispose()


def test_database_outage_holds_events_and_health_says_so(daemon, sim, pg_server_url):
    proxy = Proxy(5432).start()
    try:
        name = daemon.cli.pg_url.rsplit('/', 1)[1]
        daemon.cli.pg_url = f'postgresql+psycopg2://postgres@127.0.0.1:{proxy.port}/{name}'
        write_config(daemon.cli, daemon.transport_url)
        daemon.start()
        proxy.stop()
        until(lambda: daemon.health()[0] == 503, what='/healthz 503')
        assert 'database' in daemon.health()[1]
        held = ['held-0', 'held-1', 'held-2']   # most likely taken in as one batch
        for name in held:
            daemon.send('bay.create', {'name': name, 'baymodel': 'k8sbaymodel',
                                       'node_count': 1})
        until(lambda: daemon.metrics().get(
            'bayflow_events_consumed_total{source="events"}') == len(held),
            what='the events taken in')
        proxy.start()
        until(lambda: all(daemon.status(n) == 'CREATE_COMPLETE' for n in held),
              deadline=60, what='CREATE_COMPLETE')
        assert daemon.health()[0] == 200
        assert daemon.dead() == []
        assert daemon.metrics()['bayflow_events_rejected_total'] == 0
    finally:
        proxy.stop()
