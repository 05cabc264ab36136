"""The bayflow CLI as an operator uses it: real processes, a real SQLite file."""

import json
import os
import sqlite3
import subprocess

import pytest

BASE = ['baymodel-create', '--image-id', 'fedora-23-atomic', '--keypair-id', 'testkey',
        '--external-network-id', 'public']


@pytest.fixture
def run(bayflow_home, cloud_env):
    def run(*args, ok=True):
        env = dict(os.environ, BAYFLOW_HOME=str(bayflow_home))
        result = subprocess.run(['bayflow', *args], capture_output=True, text=True, env=env,
                                stdin=subprocess.DEVNULL, timeout=120)
        if ok:
            assert result.returncode == 0, result.stderr
        return result
    return run


def rows(bayflow_home, table):
    path = bayflow_home / 'bayflow.sqlite'
    if not path.exists():
        return 0
    with sqlite3.connect(path) as conn:
        try:
            return conn.execute(f'SELECT count(*) FROM {table}').fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def one_error_line(result):
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode != 0
    assert len(lines) == 1, result.stderr
    assert 'Traceback' not in result.stderr
    return lines[0]


@pytest.mark.parametrize('args, words', [
    (['--coe', 'kubernetes', '--network-driver', 'docker'],
     ['network_driver', 'docker', 'flannel', 'calico']),
    (['--coe', 'mesos', '--network-driver', 'flannel'], ['network_driver', 'flannel', 'docker']),
    (['--coe', 'openshift'], ['coe', 'openshift', 'kubernetes']),
    (['--coe', 'kubernetes', '--docker-volume-size', 'abc'], ['docker_volume_size', 'abc']),
    (['--coe', 'kubernetes', '--labels', 'flannel_network_cidr=10.0.0.0/33'],
     ['flannel_network_cidr', '10.0.0.0/33']),
    (['--coe', 'kubernetes', '--labels', 'flannel_backend=gre'],
     ['flannel_backend', 'gre', 'vxlan']),
    (['--coe', 'kubernetes', '--labels', 'flannel_network_subnetlen=30'],
     ['flannel_network_subnetlen', '30']),
    (['--coe', 'kubernetes', '--dns-nameserver', 'not-an-ip'], ['dns_nameserver', 'not-an-ip']),
    (['--coe', 'kubernetes', '--labels', 'novalue'], ['labels', 'novalue']),
])
def test_bad_baymodel_fails_with_one_line_and_writes_nothing(run, bayflow_home, args, words):
    result = run(*BASE, *args, ok=False)
    line = one_error_line(result)
    for word in words:
        assert word in line
    assert rows(bayflow_home, 'baymodels') == 0


def test_missing_required_field_names_it(run, bayflow_home):
    result = run('baymodel-create', '--coe', 'kubernetes', '--keypair-id', 'k',
                 '--external-network-id', 'public', ok=False)
    assert 'image_id' in one_error_line(result)
    assert rows(bayflow_home, 'baymodels') == 0


def test_usage_error_is_one_line(run):
    result = run('baymodel-show', ok=False)
    assert result.returncode == 2
    assert 'baymodel' in one_error_line(result)


def test_debug_shows_the_traceback(run):
    result = run('--debug', *BASE, '--coe', 'nope', ok=False)
    assert result.returncode != 0
    assert 'Traceback' in result.stderr


def test_baymodel_lifecycle(run, bayflow_home):
    created = json.loads(run(*BASE, '--name', 'k8s', '--coe', 'kubernetes',
                             '--labels', 'flannel_backend=vxlan;custom=1',
                             '--labels', 'flannel_network_subnetlen=26', '-f', 'json').stdout)
    assert created['network_driver'] == 'flannel'
    # The labels as given, and beside them what a bay gets (defaults filled).
    assert created['labels'] == {'flannel_backend': 'vxlan', 'custom': '1',
                                 'flannel_network_subnetlen': '26'}
    assert created['effective_labels']['flannel_network_cidr'] == '10.100.0.0/16'
    assert created['effective_labels']['flannel_backend'] == 'vxlan'
    assert 'id' not in created and 'version' not in created
    shown = json.loads(run('baymodel-show', 'k8s', '-f', 'json').stdout)
    assert (shown['labels'], shown['effective_labels']) == \
        (created['labels'], created['effective_labels'])

    listed = json.loads(run('baymodel-list', '-f', 'json').stdout)
    assert [m['name'] for m in listed] == ['k8s']
    assert run('baymodel-show', 'k8s', '-c', 'coe', '-f', 'value').stdout.strip() == 'kubernetes'
    assert run('baymodel-show', created['uuid'], '-c', 'name', '-f', 'value').stdout.strip() == 'k8s'

    updated = json.loads(run('baymodel-update', 'k8s', 'replace', 'docker_volume_size=10',
                             '-f', 'json').stdout)
    assert updated['docker_volume_size'] == 10

    refused = run('baymodel-update', 'k8s', 'replace', 'network_driver=docker', ok=False)
    assert 'network_driver' in one_error_line(refused)

    run('baymodel-delete', 'k8s')
    assert rows(bayflow_home, 'baymodels') == 0
    missing = run('baymodel-show', 'k8s', ok=False)
    assert 'k8s' in one_error_line(missing)


def test_ambiguous_name_lists_candidates(run):
    a = json.loads(run(*BASE, '--name', 'twin', '--coe', 'kubernetes', '-f', 'json').stdout)
    b = json.loads(run(*BASE, '--name', 'twin', '--coe', 'kubernetes', '--tls-disabled',
                       '-f', 'json').stdout)
    line = one_error_line(run('baymodel-show', 'twin', ok=False))
    assert a['uuid'] in line and b['uuid'] in line


def test_output_formats(run):
    run(*BASE, '--name', 'm', '--coe', 'kubernetes')
    yaml_out = run('baymodel-show', 'm', '-f', 'yaml').stdout
    assert 'network_driver: flannel' in yaml_out and 'cluster_distro: fedora-atomic' in yaml_out
    table = run('baymodel-list').stdout
    assert '| uuid' in table and '| m ' in table


def test_baymodel_create_checks_the_cloud_and_writes_nothing_when_it_refuses(run, bayflow_home):
    for args, words in ((['--image-id', 'no-such-image'], ['image_id', 'no-such-image']),
                        (['--image-id', 'cirros-0.6.2-x86_64-disk'], ['image_id', 'os_distro']),
                        (['--keypair-id', 'nokey'], ['keypair_id', 'nokey']),
                        (['--flavor-id', 'm9.huge'], ['flavor_id', 'm9.huge']),
                        (['--master-flavor-id', 'm9.huge'], ['master_flavor_id', 'm9.huge']),
                        (['--external-network-id', 'nonet'], ['external_network_id', 'nonet'])):
        argv = list(BASE)
        for flag, value in zip(args[::2], args[1::2]):
            if flag in argv:
                argv[argv.index(flag) + 1] = value
            else:
                argv += [flag, value]
        line = one_error_line(run(*argv, '--coe', 'kubernetes', ok=False))
        assert all(w in line for w in words), line
    assert rows(bayflow_home, 'baymodels') == 0


def test_baymodel_records_the_image_distro_and_the_session_identity(run, cloud_env):
    shown = json.loads(run(*BASE, '--coe', 'kubernetes', '-f', 'json').stdout)
    assert shown['cluster_distro'] == 'fedora-atomic'
    assert shown['project_id'] and shown['user_id']


def test_bay_list_and_show(run):
    assert json.loads(run('bay-list', '-f', 'json').stdout) == []
    line = one_error_line(run('bay-show', 'nope', ok=False))
    assert 'nope' in line


def test_db_upgrade_is_idempotent(run):
    first = run('db', 'upgrade').stdout
    second = run('db', 'upgrade').stdout
    assert first == second and 'revision' in first
