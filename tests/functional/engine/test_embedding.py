"""A host runs bayflow's flows in its own TaskFlow engine on its own persistence,
is killed mid-create, resumes, and finds the bay in the simulator; then deletes it."""

import json
import os
import signal
import subprocess
import sys
import time
import uuid

from tests.functional.engine.conftest import owned

HOST = os.path.join(os.path.dirname(__file__), 'embed_host.py')


def _host(cli, *args):
    return subprocess.Popen([sys.executable, HOST, *args], env=cli.env, cwd=cli.home,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_host_engine_killed_and_resumed_builds_the_bay(cli, sim, tmp_path):
    db_url = f'sqlite:///{tmp_path}/host.sqlite'
    bay_uuid = str(uuid.uuid4())
    sim.sim.state.boot_seconds = 0.5
    proc = _host(cli, 'create', db_url, bay_uuid)
    flow_id = proc.stdout.readline().strip()
    deadline = time.monotonic() + 60
    while not owned(sim.resources(), bay_uuid).get('servers'):
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()

    resumed = _host(cli, 'resume', db_url, flow_id)
    out, err = resumed.communicate(timeout=120)
    state = json.loads(out.splitlines()[-1])
    assert state['status'] == 'CREATE_COMPLETE', (state, err)
    assert state['outputs']['api_address'].startswith('https://')
    mine = owned(sim.resources(), bay_uuid)
    assert len(mine['servers']) == 2 and len(mine['volumes']) == 2
    assert len(mine['networks']) == 1

    deleter = _host(cli, 'delete', db_url, bay_uuid)
    out, err = deleter.communicate(timeout=120)
    assert json.loads(out.splitlines()[-1])['status'] == 'DELETE_COMPLETE', err
    assert owned(sim.resources(), bay_uuid) == {}


def test_host_scales_its_bay_with_the_ca_its_recorder_kept(cli, sim, tmp_path):
    db_url = f'sqlite:///{tmp_path}/host.sqlite'
    bay_uuid = str(uuid.uuid4())
    for args, status in ((('create', db_url, bay_uuid), 'CREATE_COMPLETE'),
                         (('scale', db_url, bay_uuid, '2'), 'UPDATE_COMPLETE')):
        out, err = _host(cli, *args).communicate(timeout=120)
        state = json.loads(out.splitlines()[-1])
        assert state['status'] == status, (state, err)
    assert state['outputs']['node_count'] == 2 and len(state['outputs']['node_addresses']) == 2
    mine = owned(sim.resources(), bay_uuid)
    assert len(mine['servers']) == 3 and len(mine['volumes']) == 3

    out, err = _host(cli, 'delete', db_url, bay_uuid).communicate(timeout=120)
    assert json.loads(out.splitlines()[-1])['status'] == 'DELETE_COMPLETE', err
    assert owned(sim.resources(), bay_uuid) == {}
