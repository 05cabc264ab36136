"""Crashes, a lost broker connection and SIGTERM: nothing lost, nothing doubled."""

import os
import signal

import psutil
import pytest
import sqlalchemy as sa

from bayflow.engine import owner, watch
from tests.functional.daemon.conftest import until, write_config
from tests.functional.daemon.proxy import Proxy
from tests.functional.engine.conftest import owned

CREATE = {'baymodel': 'k8sbaymodel', 'node_count': 1}
EXPECTED = {'networks': 1, 'subnets': 1, 'routers': 1, 'servers': 2, 'volumes': 2}


def _built_once(sim, bay):
    mine = owned(sim.resources(), bay['uuid'])
    assert {k: len(mine.get(k, ())) for k in EXPECTED} == EXPECTED
    fips = [f for f in sim.resources()['floatingips'] if bay['uuid'] in str(f)]
    assert len(fips) == 2


def _killed(daemon):
    until(lambda: daemon.proc.poll() is not None, what='the daemon to die')
    assert daemon.proc.returncode == -signal.SIGKILL, daemon.output()


@pytest.mark.parametrize('crash_at', ['daemon:before-ack', 'create-servers-node:SUCCESS'])
def test_killed_daemon_is_finished_by_the_next_one(daemon, sim, crash_at):
    daemon.start(env={watch.CRASH_ENV: crash_at})
    daemon.send('bay.create', dict(CREATE, name='crash'))
    _killed(daemon)
    bay = daemon.bay('crash')
    assert bay['status'] == 'CREATE_IN_PROGRESS' and bay['flow_id']
    daemon.start()
    until(lambda: daemon.status('crash') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
    _built_once(sim, daemon.bay('crash'))
    assert len(daemon.db.list_bays()) == 1
    if crash_at == 'daemon:before-ack':  # the message came again: a duplicate
        until(lambda: daemon.metrics().get('bayflow_events_duplicate_total') == 1,
              what='the redelivery counted as a duplicate')


def test_lost_broker_connection_reconnects_and_loses_nothing(daemon, sim, vhost):
    proxy = Proxy(5672).start()
    try:
        name = vhost.rsplit('/', 1)[1]
        write_config(daemon.cli, f'amqp://guest:guest@127.0.0.1:{proxy.port}/{name}')
        daemon.start()
        proxy.stop()  # the broker is gone: nothing consumes, /healthz says so
        until(lambda: daemon.health()[0] == 503, what='/healthz 503')
        assert 'not consuming' in daemon.health()[1]
        daemon.send('bay.create', dict(CREATE, name='while-down'))  # queued at the broker
        proxy.start()
        until(lambda: daemon.status('while-down') == 'CREATE_COMPLETE', what='consumed')
        assert daemon.health()[0] == 200
        assert proxy.cut() >= 1  # and a cut mid-consume
        daemon.send('bay.create', dict(CREATE, name='after-cut'))
        until(lambda: daemon.status('after-cut') == 'CREATE_COMPLETE', what='consumed')
        assert len(daemon.db.list_bays()) == 2
    finally:
        proxy.stop()


def test_sigterm_stops_flows_at_a_step_boundary_and_releases_leases(daemon, sim):
    sim.sim.state.boot_seconds = 2  # the flow is surely mid-way when SIGTERM comes
    daemon.start()
    daemon.send('bay.create', dict(CREATE, name='term'))
    until(lambda: (daemon.bay('term') or {}).get('owner'), what='the flow running')
    assert daemon.stop(signal.SIGTERM) == 0
    bay = daemon.bay('term')
    assert bay['status'] == 'CREATE_IN_PROGRESS'
    assert (bay['owner'], bay['lease_expires_at']) == (None, None)
    sim.sim.state.boot_seconds = 0.1
    daemon.start()  # resumes its orphan
    until(lambda: daemon.status('term') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
    _built_once(sim, daemon.bay('term'))


def test_a_bay_recorded_without_its_flow_still_gets_one(daemon, sim):
    """A crash between the bay's insert and its flow's save (as a create did before
    the flow went first): the redelivered event is a duplicate, and the bay runs."""
    event_id = '6c1d1c2e-2f6b-4c38-9a43-3f0a4f0c1d11'
    baymodel = daemon.db.get_baymodel('k8sbaymodel')
    daemon.db.create_bay({'name': 'flowless', 'baymodel_id': baymodel['uuid'],
                          'node_count': 1, 'master_count': 1, 'create_timeout': 60,
                          'status': 'CREATE_IN_PROGRESS', 'operation': 'create'},
                         event_id=event_id)
    assert daemon.bay('flowless')['flow_id'] is None
    daemon.start()
    daemon.send('bay.create', dict(CREATE, name='flowless'), event_id=event_id)
    until(lambda: daemon.status('flowless') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
    _built_once(sim, daemon.bay('flowless'))
    until(lambda: daemon.metrics().get('bayflow_events_duplicate_total') == 1,
          what='the redelivery counted as a duplicate')
    assert len(daemon.db.list_bays()) == 1


def _workers(daemon):
    return sorted(p.pid for p in psutil.Process(daemon.proc.pid).children())


def test_killed_flow_workers_are_replaced_and_their_bay_finished(daemon, sim):
    """Flows run in worker processes ([daemon] flow_processes = 2 here). Both
    SIGKILLed mid-flow (the OOM killer, say) are reaped and replaced, and the
    bay is taken over as soon as a worker is back (its lease names a dead
    process), built once."""
    sim.sim.state.boot_seconds = 2  # the flow is surely mid-way when the kill comes
    daemon.start()
    before = _workers(daemon)
    assert len(before) == 2
    daemon.send('bay.create', dict(CREATE, name='orphaned'))
    holder = until(lambda: (daemon.bay('orphaned') or {}).get('owner'), what='the flow running')
    assert owner.parse(holder)[1] in before  # the flow runs in a worker, not in the daemon
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    sim.sim.state.boot_seconds = 0.1
    until(lambda: daemon.status('orphaned') == 'CREATE_COMPLETE', what='CREATE_COMPLETE')
    _built_once(sim, daemon.bay('orphaned'))
    after = until(lambda: len(_workers(daemon)) == 2 and _workers(daemon),
                  what='workers in the dead ones\' places')
    assert not set(before) & set(after) and daemon.proc.poll() is None
    assert daemon.metrics()['bayflow_flows_completed_total'] == 1
    assert daemon.stop(signal.SIGTERM) == 0


def test_healthz_says_503_while_no_flow_worker_runs(daemon, pg_url):
    """Both workers killed, and none can start again (their database takes no
    new sessions): /healthz says so, and 200 once one is back."""
    daemon.start()
    url = sa.engine.make_url(pg_url)
    admin = sa.create_engine(url.set(database='postgres'), isolation_level='AUTOCOMMIT')
    allow = f'ALTER DATABASE {url.database} WITH ALLOW_CONNECTIONS %s'
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(allow % 'false'))
        for pid in _workers(daemon):
            os.kill(pid, signal.SIGKILL)
        until(lambda: daemon.health()[0] == 503, what='/healthz 503')
        assert 'no flow worker process is running (of 2' in daemon.health()[1]
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(allow % 'true'))
        admin.dispose()
    until(lambda: daemon.health()[0] == 200, what='/healthz 200 with a worker back')
    assert daemon.stop(signal.SIGTERM) == 0
