"""``bayflow cloud-sim`` / ``python -m bayflow.cloudsim`` as a real process,
and the Python API that runs it (SimProcess)."""

import json
import re
import subprocess
import sys
import threading
import time

import openstack
import pytest
import requests
import yaml

from bayflow.cloudsim import SimProcess, Simulator, cli

LINE = re.compile(r'^cloud-sim listening on (http://127\.0\.0\.1:(\d+)) '
                  r'\(auth_url (http://127\.0\.0\.1:\d+/identity)\)$')


def _connect(proc, cloud='sim'):
    cfg = proc.clouds_yaml()['clouds'][cloud]
    return openstack.connect(**cfg['auth'], region_name=cfg['region_name'])


def test_starts_prints_where_it_listens_and_stops_cleanly(tmp_path):
    proc = SimProcess(boot_seconds=0.1).start()
    try:
        found = LINE.match(proc.line)
        assert found, proc.line
        assert found.group(1) == proc.url and found.group(3) == proc.auth_url
        assert int(found.group(2)) > 0
        r = requests.get(proc.auth_url, timeout=10)
        assert r.status_code == 300
    finally:
        code = proc.stop()
    assert code == 0
    assert not proc.running
    assert proc.stderr == ''


def test_sigint_also_stops_cleanly():
    proc = SimProcess().start()
    proc.proc.send_signal(2)
    assert proc.proc.wait(30) == 0


def test_clouds_yaml_is_written_and_usable(tmp_path, monkeypatch):
    path = tmp_path / 'clouds.yaml'
    with SimProcess(boot_seconds=0.1, clouds_yaml=path) as proc:
        data = yaml.safe_load(path.read_text())
        assert set(data['clouds']) == {'sim', 'sim-admin'}
        assert data == proc.clouds_yaml()
        assert data['clouds']['sim']['auth']['auth_url'] == proc.auth_url
        monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', str(path))
        monkeypatch.delenv('OS_CLOUD', raising=False)
        conn = openstack.connect(cloud='sim')
        assert conn.image.find_image('fedora-23-atomic').os_distro == 'fedora-atomic'
        assert conn.current_project_id != openstack.connect(
            cloud='sim-admin').current_project_id
        volume = conn.block_storage.create_volume(size=1, name='from-yaml')
        conn.block_storage.wait_for_status(volume, 'available', interval=0.05, wait=10)


def test_bad_flag_is_one_line_and_exit_2():
    for args, words in ((['--bogus'], 'unrecognized arguments: --bogus'),
                        (['--port', 'x'], 'argument --port'),
                        (['--port', '70000'], 'port out of range'),
                        (['--latency-ms', '-5'], 'argument --latency-ms'),
                        (['--boot-seconds', 'soon'], 'argument --boot-seconds'),
                        (['--state', '/no/such/dir/state.json'], 'no such directory')):
        done = subprocess.run([sys.executable, '-m', 'bayflow.cloudsim', *args],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stdout == ''
        lines = done.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith('cloud-sim: error: '), done.stderr
        assert words in lines[0]


def test_main_returns_2_in_process(capsys):
    assert cli.main(['--nope']) == 2
    err = capsys.readouterr().err
    assert err == 'cloud-sim: error: unrecognized arguments: --nope\n'
    assert cli.main(['--help']) == 0
    assert 'usage: cloud-sim' in capsys.readouterr().out


def test_port_in_use_is_one_line_and_exit_1():
    with SimProcess() as first:
        port = int(first.url.rsplit(':', 1)[1])
        done = subprocess.run([sys.executable, '-m', 'bayflow.cloudsim', '--port', str(port)],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith('cloud-sim: error: cannot listen on')


def test_corrupt_state_file_is_refused(tmp_path):
    state = tmp_path / 'state.json'
    state.write_text('{not json')
    done = subprocess.run([sys.executable, '-m', 'bayflow.cloudsim', '--state', str(state)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.startswith('cloud-sim: error: argument --state: cannot load')


@pytest.mark.parametrize('content', ['', '{}'])
def test_empty_state_file_starts_with_the_seed(tmp_path, content):
    state = tmp_path / 'state.json'
    state.write_text(content)
    with Simulator(boot_seconds=0.1, state_file=str(state)) as sim:
        conn = _connect(sim)
        assert conn.compute.find_keypair('testkey', ignore_missing=False)
        assert _connect(sim, 'sim-admin').identity.find_user('demo', ignore_missing=False)
    assert json.loads(state.read_text())['users']


def test_state_saved_before_roles_existed_is_upgraded(tmp_path):
    """A round-one save: users carry _project_id/_is_admin, no role tables."""
    state = tmp_path / 'state.json'
    with Simulator(state_file=str(state)):
        pass
    data = json.loads(state.read_text())
    for user in data['users'].values():
        user['_project_id'] = user.pop('default_project_id')
        user['_is_admin'] = user['name'] == 'admin'
    del data['roles'], data['role_assignments']
    state.write_text(json.dumps(data))
    with Simulator(state_file=str(state)) as sim:
        admin = _connect(sim, 'sim-admin')
        demo = admin.identity.find_user('demo', ignore_missing=False)
        (assignment,) = admin.identity.role_assignments(user_id=demo.id)
        assert assignment.role['id'] == admin.identity.find_role('member').id
        assert _connect(sim).compute.find_keypair('testkey')


def test_state_file_round_trip(tmp_path):
    state = tmp_path / 'state.json'
    with SimProcess(boot_seconds=0.1, state_file=state) as proc:
        conn = _connect(proc)
        volume = conn.block_storage.create_volume(size=2, name='keeper')
        conn.block_storage.wait_for_status(volume, 'available', interval=0.05, wait=10)
        image = conn.image.create_image('kept-image', disk_format='qcow2',
                                        container_format='bare', allow_duplicates=True)
        assert proc.stop() == 0
    assert state.exists()
    with SimProcess(boot_seconds=0.1, state_file=state) as proc:
        conn = _connect(proc)
        found = conn.block_storage.find_volume('keeper', ignore_missing=False)
        assert (found.id, found.size, found.status) == (volume.id, 2, 'available')
        assert conn.image.find_image('kept-image').id == image.id
        assert conn.image.find_image('fedora-23-atomic')      # the seed is kept too


def test_state_survives_sigkill(tmp_path):
    """Every change is saved as it happens: a killed simulator loses nothing."""
    state = tmp_path / 'state.json'
    proc = SimProcess(boot_seconds=0.1, state_file=state).start()
    conn = _connect(proc)
    volume = conn.block_storage.create_volume(size=1, name='survivor')
    assert proc.kill() == -9
    with SimProcess(boot_seconds=0.1, state_file=state) as proc:
        conn = _connect(proc)
        found = conn.block_storage.get_volume(volume.id)
        assert found.name == 'survivor'
        # it was "creating" when killed: its clock kept running
        conn.block_storage.wait_for_status(found, 'available', interval=0.05, wait=10)


def test_latency_applies_after_the_effect_and_before_the_response():
    with SimProcess(boot_seconds=0.1, latency_ms=800) as proc:
        conn = _connect(proc)
        list(conn.block_storage.volumes())          # authenticate and discover first
        result = {}

        def create():
            result['volume'] = conn.block_storage.create_volume(size=1, name='slow')
        worker = threading.Thread(target=create)
        worker.start()
        try:
            deadline = time.monotonic() + 30
            while True:                             # bounded poll of /_sim/resources
                volumes = requests.get(f'{proc.url}/_sim/resources',
                                       timeout=10).json()['volumes']
                if volumes:
                    break
                assert time.monotonic() < deadline, 'the effect never appeared'
            # the effect is there, and the caller is still waiting for its answer
            assert worker.is_alive()
            assert volumes[0]['name'] == 'slow' and 'volume' not in result
        finally:
            worker.join(60)
        assert result['volume'].name == 'slow'
        assert result['volume'].id == volumes[0]['id']


def test_simprocess_errors_when_the_child_cannot_start():
    proc = SimProcess(port=-1)
    with pytest.raises(Exception) as err:
        proc.start()
    assert 'exited with status 2' in str(err.value)
    assert 'argument --port' in str(err.value)
