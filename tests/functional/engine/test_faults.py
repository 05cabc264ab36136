"""Cloud faults during create and delete: transient ones are retried inside the
step with nothing duplicated; a permanent one rolls the create back to nothing,
or leaves the delete DELETE_FAILED for a second delete to finish.

Scenarios run on a few simulators at once, one scenario per simulator at a time
(fault rules are global to a simulator)."""

import concurrent.futures
import contextlib
import queue

import pytest
import requests

from bayflow.cloudsim import Simulator
from tests.functional.engine.conftest import BAY, BAYMODEL, Sim, make_cli, owned

# Every mutating call a create makes: (method, path regex).
CREATE_CALLS = {
    'network': ('POST', r'/network/v2\.0/networks$'),
    'subnet': ('POST', r'/network/v2\.0/subnets$'),
    'router': ('POST', r'/network/v2\.0/routers$'),
    'gateway': ('PUT', r'/network/v2\.0/routers/[^/]+$'),
    'interface': ('PUT', r'/routers/[^/]+/add_router_interface$'),
    'security group': ('POST', r'/network/v2\.0/security-groups$'),
    'security group rule': ('POST', r'/network/v2\.0/security-group-rules$'),
    'port': ('POST', r'/network/v2\.0/ports$'),
    'floating ip': ('POST', r'/network/v2\.0/floatingips$'),
    'volume': ('POST', r'/volume/v3/[^/]+/volumes$'),
    'server': ('POST', r'/compute/v2\.1/servers$'),
    'attachment': ('POST', r'/servers/[^/]+/os-volume_attachments$'),
}
DELETE_CALLS = {
    'server': ('DELETE', r'/compute/v2\.1/servers/[^/]+$'),
    'floating ip': ('DELETE', r'/network/v2\.0/floatingips/[^/]+$'),
    'volume': ('DELETE', r'/volume/v3/[^/]+/volumes/[^/]+$'),
    'interface': ('PUT', r'/routers/[^/]+/remove_router_interface$'),
    'gateway': ('PUT', r'/network/v2\.0/routers/[^/]+$'),
    'router': ('DELETE', r'/network/v2\.0/routers/[^/]+$'),
    'port': ('DELETE', r'/network/v2\.0/ports/[^/]+$'),
    'subnet': ('DELETE', r'/network/v2\.0/subnets/[^/]+$'),
    'network': ('DELETE', r'/network/v2\.0/networks/[^/]+$'),
    'security group': ('DELETE', r'/network/v2\.0/security-groups/[^/]+$'),
}
TRANSIENT = {
    '503': {'status': 503},
    'dropped connection': {'drop': True},
    'answer lost after the effect': {'status': 503, 'after_effect': True},
}
EXPECTED = {'networks': 1, 'subnets': 1, 'routers': 1, 'servers': 2, 'volumes': 2}


@pytest.fixture(scope='module')
def sims():
    pool = queue.Queue()
    made = [Simulator(boot_seconds=0.1).start() for _ in range(3)]
    for sim in made:
        pool.put(sim)
    yield pool
    for sim in made:
        sim.stop()


@contextlib.contextmanager
def _borrow(sims, tmp_path_factory):
    raw = sims.get()
    raw.reset()
    try:
        sim = Sim(raw)
        cli = make_cli(sim, tmp_path_factory.mktemp('fault'))
        cli.ok(*BAYMODEL)
        yield sim, cli
        assert not raw.crashes, raw.crashes
    finally:
        sims.put(raw)


def _in_parallel(fn, cases, tmp_path_factory):
    tmp_path_factory.getbasetemp()  # made once here: mktemp from threads races on it
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        futures = {pool.submit(fn, case): case for case in cases}
        errors = [f'{futures[f]}: {f.exception()}' for f in futures
                  if f.exception() is not None]
    assert not errors, '\n\n'.join(errors)


def _counts(sim, bay_uuid):
    mine = owned(sim.resources(), bay_uuid)
    counts = {k: len(v) for k, v in mine.items() if k in EXPECTED}
    counts['bay_ports'] = len([p for p in mine.get('ports', ()) if p['name'].endswith('-port')])
    counts['floatingips'] = len(mine.get('floatingips', ()))
    return counts


def _fired(sim):
    return {r['path']: r['fired'] for r in
            requests.get(f'{sim.url}/_sim/faults', timeout=10).json()['faults']}


def test_transient_faults_on_every_create_call_are_retried_without_duplicates(
        sims, tmp_path_factory):
    def case(kind):
        with _borrow(sims, tmp_path_factory) as (sim, cli):
            for method, path in CREATE_CALLS.values():
                sim.fault(method=method, path=path, times=1, **TRANSIENT[kind])
            cli.ok(*BAY, '--wait')
            bay = cli.bay()
            assert bay['status'] == 'CREATE_COMPLETE', bay
            fired = _fired(sim)
            assert all(fired[path] == 1 for _, path in CREATE_CALLS.values()), fired
            assert _counts(sim, bay['uuid']) == dict(EXPECTED, bay_ports=2, floatingips=2)
    _in_parallel(case, TRANSIENT, tmp_path_factory)


def test_a_permanent_fault_on_any_create_call_rolls_back_to_nothing(sims, tmp_path_factory):
    def case(call):
        method, path = CREATE_CALLS[call]
        with _borrow(sims, tmp_path_factory) as (sim, cli):
            sim.fault(method=method, path=path, status=400, times=None)
            code, out, err = cli.run(*BAY, '--wait')
            assert code != 0, out
            bay = cli.bay()
            assert bay['status'] == 'ROLLBACK_COMPLETE', bay
            assert 'HTTP 400' in bay['status_reason'] and 'req-' in bay['status_reason']
            sim.clear_faults()
            assert owned(sim.resources(), bay['uuid']) == {}, call
    _in_parallel(case, CREATE_CALLS, tmp_path_factory)


def test_transient_faults_on_every_delete_call_are_retried(sims, tmp_path_factory):
    def case(kind):
        with _borrow(sims, tmp_path_factory) as (sim, cli):
            cli.ok(*BAY, '--wait')
            uuid = cli.bay()['uuid']
            for method, path in DELETE_CALLS.values():
                sim.fault(method=method, path=path, times=1, **TRANSIENT[kind])
            cli.ok('bay-delete', 'k8sbay', '--wait')
            assert owned(sim.resources(), uuid) == {}
    _in_parallel(case, TRANSIENT, tmp_path_factory)


def test_a_permanent_delete_fault_leaves_delete_failed_and_a_second_delete_finishes(
        sims, tmp_path_factory):
    def case(call):
        method, path = DELETE_CALLS[call]
        with _borrow(sims, tmp_path_factory) as (sim, cli):
            cli.ok(*BAY, '--wait')
            uuid = cli.bay()['uuid']
            sim.fault(method=method, path=path, status=400, times=None)
            code, _, err = cli.run('bay-delete', 'k8sbay', '--wait')
            assert code != 0
            bay = cli.bay()
            assert bay['status'] == 'DELETE_FAILED', bay
            reason = bay['status_reason']
            assert 'left behind: ' in reason and f'bf-{uuid}-' in reason, reason
            assert 'again finishes' in reason, reason
            sim.clear_faults()
            cli.ok('bay-delete', 'k8sbay', '--wait')
            assert owned(sim.resources(), uuid) == {}, call
    _in_parallel(case, DELETE_CALLS, tmp_path_factory)
