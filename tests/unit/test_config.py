"""bayflow.config: options, defaults under $BAYFLOW_HOME, the generated sample."""

import os
import pathlib
import socket
import subprocess
import sys

import pytest
import yaml
from oslo_config import cfg

from bayflow import config, log

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATOR_CONF = ROOT / 'etc' / 'bayflow' / 'bayflow-config-generator.conf'
SAMPLE = ROOT / 'etc' / 'bayflow' / 'bayflow.conf.sample'
CLOUDS_SAMPLE = ROOT / 'etc' / 'bayflow' / 'clouds.yaml.sample'
REGENERATE = ('oslo-config-generator --config-file '
              'etc/bayflow/bayflow-config-generator.conf')


@pytest.fixture
def conf(tmp_path, monkeypatch):
    """A fresh ConfigOpts with bayflow's options; HOME is an empty tmp dir, so
    neither ~/.bayflow nor a developer's files leak into the test."""
    home = tmp_path / 'user-home'
    home.mkdir()
    monkeypatch.setenv('HOME', str(home))
    monkeypatch.delenv('BAYFLOW_HOME', raising=False)
    opts = cfg.ConfigOpts()
    config.register_opts(opts)
    yield opts
    opts.reset()


def _generate(output, env=None):
    """Run oslo-config-generator on the committed generator config in a child
    process (it calls logging.basicConfig; keep that out of the test process)."""
    result = subprocess.run(
        [sys.executable, '-m', 'oslo_config.generator',
         '--config-file', str(GENERATOR_CONF), '--output-file', str(output)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, (
        f'oslo-config-generator failed (is bayflow installed? pip install -e .):\n'
        f'{result.stdout}{result.stderr}')
    return pathlib.Path(output).read_text()


# -- the generated sample --------------------------------------------------------

def test_generator_config():
    parser = cfg.ConfigParser(str(GENERATOR_CONF), {})
    parser.parse()
    default = parser.sections['DEFAULT']
    assert default['output_file'] == ['etc/bayflow/bayflow.conf.sample']
    assert default['wrap_width'] == ['79']
    assert default['namespace'] == ['bayflow']


def test_sample_is_up_to_date(tmp_path):
    generated = _generate(tmp_path / 'bayflow.conf.sample')
    assert SAMPLE.exists(), f'{SAMPLE} is missing; generate it with: {REGENERATE}'
    if generated != SAMPLE.read_text():
        pytest.fail(f'etc/bayflow/bayflow.conf.sample is stale; regenerate with: '
                    f'{REGENERATE}', pytrace=False)


def test_sample_is_deterministic(tmp_path):
    """No hostname, home directory or environment leaks into the defaults."""
    odd_home = tmp_path / 'some-odd-home'
    odd_state = tmp_path / 'some-odd-bayflow-home'
    env = dict(os.environ, HOME=str(odd_home), BAYFLOW_HOME=str(odd_state))
    first = _generate(tmp_path / 'a.sample', env=env)
    env.pop('BAYFLOW_HOME')
    second = _generate(tmp_path / 'b.sample', env=env)
    assert first == second
    defaults = [line for line in first.splitlines()
                if line.startswith('#') and ' = ' in line]
    assert defaults
    real_home = os.path.expanduser('~')
    hostname = socket.gethostname()
    for line in defaults:
        value = line.split(' = ', 1)[1]
        assert str(tmp_path) not in value, line
        assert real_home not in value or real_home in ('/', ''), line
        assert value != hostname, line
    assert '#host = <hostname>' in first
    assert '#state_path = <the BAYFLOW_HOME environment variable, else ~/.bayflow>' in first
    assert '#connection = sqlite:///<state_path>/bayflow.sqlite' in first
    assert '#transport_url = sqla+sqlite:///<state_path>/events.sqlite' in first


def test_sample_covers_every_group():
    text = SAMPLE.read_text()
    for group, opts in config.list_opts():
        assert f'[{group}]' in text
        for opt in opts:
            assert f'#{opt.dest} = ' in text, f'{group}.{opt.dest} missing from the sample'


# -- loading -------------------------------------------------------------------------

def test_load_reads_every_group(conf, tmp_path):
    path = tmp_path / 'bayflow.conf'
    path.write_text(f"""
[DEFAULT]
state_path = {tmp_path / 'state'}
log_format = json
log_file = {tmp_path / 'log' / 'b.log'}
host = conductor-1

[database]
connection = postgresql+psycopg2://bayflow:pw@db.example.com/bayflow

[messaging]
transport_url = amqp://bayflow:pw@rabbit.example.com:5672//
exchange = magnum

[jobboard]
enabled = true
host = redis.example.com
port = 6380
password = redis-pw
claim_expiry = 60

[cloud]
cloud = mycloud
api_retries = 2
""")
    config.load([str(path)], conf=conf)
    assert conf.state_path == str(tmp_path / 'state')
    assert config.state_path(conf) == str(tmp_path / 'state')
    assert conf.log_format == 'json'
    assert config.log_file(conf) == str(tmp_path / 'log' / 'b.log')
    assert conf.host == 'conductor-1'
    assert config.database_url(conf) == 'postgresql+psycopg2://bayflow:pw@db.example.com/bayflow'
    assert config.transport_url(conf) == 'amqp://bayflow:pw@rabbit.example.com:5672//'
    assert conf.messaging.exchange == 'magnum'
    assert conf.messaging.topic == 'bayflow'
    assert conf.jobboard.enabled is True
    assert (conf.jobboard.host, conf.jobboard.port) == ('redis.example.com', 6380)
    assert conf.jobboard.password == 'redis-pw'
    assert conf.jobboard.claim_expiry == 60
    assert (conf.cloud.cloud, conf.cloud.api_retries) == ('mycloud', 2)


def test_load_refuses_a_bad_value(conf, tmp_path):
    path = tmp_path / 'bayflow.conf'
    path.write_text('[DEFAULT]\nlog_format = xml\n')
    config.load([str(path)], conf=conf)
    with pytest.raises(ValueError):
        conf.log_format


def test_defaults_live_under_bayflow_home(conf, tmp_path, monkeypatch):
    home = tmp_path / 'bayflow-home'
    monkeypatch.setenv('BAYFLOW_HOME', str(home))
    config.load([], conf=conf)
    assert config.state_path(conf) == str(home)
    assert config.database_url(conf) == f'sqlite:///{home}/bayflow.sqlite'
    assert config.transport_url(conf) == f'sqla+sqlite:///{home}/events.sqlite'
    assert config.log_file(conf) == str(home / 'logs' / 'bayflow.log')
    assert conf.log_format == 'console'
    assert conf.cloud.cloud == 'sim'
    assert not home.exists()            # reading options creates nothing
    assert config.ensure_state_path(conf) == str(home)
    assert (home / 'logs').is_dir()


def test_defaults_without_bayflow_home_are_under_dot_bayflow(conf):
    config.load([], conf=conf)
    expected = os.path.join(os.environ['HOME'], '.bayflow')
    assert config.state_path(conf) == expected
    assert config.database_url(conf) == f'sqlite:///{expected}/bayflow.sqlite'
    assert config.transport_url(conf) == f'sqla+sqlite:///{expected}/events.sqlite'
    assert config.log_file(conf) == os.path.join(expected, 'logs', 'bayflow.log')


def test_tests_do_not_touch_the_global_conf(conf):
    config.load([], conf=conf)
    conf.set_override('log_format', 'json')
    assert config.CONF is not conf
    assert 'log_format' in config.CONF      # registered, but our override stays local


def test_secret_options_are_marked_secret():
    """Options whose values are secrets or URLs with credentials are secret=True,
    so oslo.config's log_opt_values masks them; the same names are redacted by
    bayflow.log."""
    for group, opts in config.list_opts():
        for opt in opts:
            if log.is_secret_key(opt.dest) or opt.dest in ('connection', 'transport_url'):
                assert opt.secret, f'[{group}] {opt.dest} should be secret=True'


def test_log_format_choices_match_log_setup():
    (opt,) = [o for o in config.default_opts if o.dest == 'log_format']
    assert sorted(c for c, _ in opt.type.choices.items()) == ['console', 'json']


# -- clouds.yaml sample ----------------------------------------------------------------

@pytest.mark.filterwarnings('ignore:Support for InfluxDB')
def test_clouds_sample_matches_the_simulator():
    """The committed sample is openstacksdk's format and fits the simulator's seed."""
    import openstack.config

    from bayflow.cloudsim.simulator import Simulator

    sample = yaml.safe_load(CLOUDS_SAMPLE.read_text())
    assert set(sample) == {'clouds'}
    loaded = openstack.config.OpenStackConfig(config_files=[str(CLOUDS_SAMPLE)],
                                              load_envvars=False)
    region = loaded.get_one('sim')
    assert region.config['auth']['auth_url'] == 'http://127.0.0.1:5000/identity'
    sim = Simulator(host='127.0.0.1', port=0)
    try:
        expected = sim.clouds_yaml()['clouds']
        base = f'http://127.0.0.1:{sim.port}'
    finally:
        sim.httpd.server_close()
    for name in ('sim', 'sim-admin'):
        cloud = sample['clouds'][name]
        cloud['auth']['auth_url'] = cloud['auth']['auth_url'].replace(
            'http://127.0.0.1:5000', base)
        assert cloud == expected[name], name


def test_snapshot_restores_every_value_in_a_fresh_process_config(conf, tmp_path):
    """A daemon's flow workers get its values, overrides and secrets included."""
    path = tmp_path / 'bayflow.conf'
    path.write_text('[daemon]\nmax_concurrent_flows = 7\n'
                    '[certificates]\nca_key_encryption_key = not-logged\n')
    config.load([str(path)], conf=conf)
    conf.set_override('wait_interval', 0.25, group='cloud')
    values = config.snapshot(conf)
    fresh = cfg.ConfigOpts()
    config.register_opts(fresh)
    config.restore(values, conf=fresh)
    assert fresh.daemon.max_concurrent_flows == 7
    assert fresh.cloud.wait_interval == 0.25
    assert fresh.certificates.ca_key_encryption_key == 'not-logged'
    assert config.snapshot(fresh) == values


@pytest.mark.parametrize('connection, cpus, wanted, expected', [
    (None, 8, 0, 1),                                  # the embedded SQLite: in process
    ('sqlite:////tmp/x.sqlite', 8, 0, 1),
    ('postgresql://u@db/bayflow', 8, 0, 3),           # capped by max_concurrent_flows
    ('postgresql://u@db/bayflow', 2, 0, 2),           # one per CPU
    ('mysql+pymysql://u@db/bayflow', 1, 0, 1),
    ('postgresql://u@db/bayflow', 8, 5, 5),           # as configured
])
def test_flow_processes(conf, monkeypatch, connection, cpus, wanted, expected):
    from bayflow.daemon import workers
    config.load(conf=conf)
    conf.set_override('connection', connection, group='database')
    conf.set_override('max_concurrent_flows', 3, group='daemon')
    conf.set_override('flow_processes', wanted, group='daemon')
    monkeypatch.setattr(os, 'cpu_count', lambda: cpus)
    assert workers.count(conf) == expected


@pytest.mark.parametrize('flows, size, overflow, expected', [
    (50, None, 10, (50, 10)),    # a connection for each flow the process may run
    (2, None, 10, (5, 10)),      # never fewer than 5
    (50, 8, 0, (8, 0)),          # as configured
])
def test_database_pool(conf, flows, size, overflow, expected):
    config.load(conf=conf)
    conf.set_override('max_concurrent_flows', flows, group='daemon')
    conf.set_override('max_pool_size', size, group='database')
    conf.set_override('max_overflow', overflow, group='database')
    assert config.database_pool(conf) == expected
    if size is None:  # a flow worker, one of 2: half the flows
        assert config.database_pool(conf, flows=-(-flows // 2))[0] == max(5, -(-flows // 2))
