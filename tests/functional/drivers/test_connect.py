"""Connections come from openstacksdk's own configuration (clouds.yaml via
OS_CLIENT_CONFIG_FILE, OS_CLOUD, else ``[cloud] cloud``); a host may provide
its own Cloud."""

import pytest
from oslo_config import cfg

from bayflow import config
from bayflow.drivers import cloud as cloud_driver
from bayflow.exceptions import InvalidParameter


@pytest.fixture
def conf():
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf(args=[])
    return conf


@pytest.fixture
def clouds_env(monkeypatch, clouds_file, sim):
    monkeypatch.setenv('OS_CLIENT_CONFIG_FILE', clouds_file)
    monkeypatch.delenv('OS_CLOUD', raising=False)
    yield
    cloud_driver.set_provider(None)


def test_os_cloud_wins(monkeypatch, clouds_env, conf, sim):
    monkeypatch.setenv('OS_CLOUD', 'sim')
    conf.set_override('cloud', 'sim-admin', 'cloud')
    conn = cloud_driver.connect(conf)
    try:
        assert conn.current_project_id == sim.state.project_id('demo')
    finally:
        conn.close()


def test_config_names_the_cloud(clouds_env, conf, sim):
    conf.set_override('cloud', 'sim-admin', 'cloud')
    conf.set_override('api_retries', 7, 'cloud')
    conf.set_override('wait_interval', 0.5, 'cloud')
    cloud = cloud_driver.Cloud.from_config(conf)
    try:
        assert cloud.identity()['project_id'] == sim.state.project_id('admin')
        assert (cloud.retries, cloud.wait_interval) == (7, 0.5)
    finally:
        cloud.conn.close()


def test_unknown_cloud(clouds_env, conf):
    conf.set_override('cloud', 'nowhere', 'cloud')
    with pytest.raises(InvalidParameter, match="invalid cloud 'nowhere'"):
        cloud_driver.connect(conf)


def test_provider(monkeypatch, clouds_env, cloud):
    monkeypatch.setenv('OS_CLOUD', 'sim')
    built = cloud_driver.get_cloud()
    assert built is cloud_driver.get_cloud()             # one per process, built lazily
    assert built.identity() == cloud.identity()
    cloud_driver.set_provider(lambda: cloud)
    assert cloud_driver.get_cloud() is cloud
    cloud_driver.set_provider(None)
    assert cloud_driver.get_cloud() is not cloud
    built.conn.close()
