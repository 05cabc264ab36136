"""The session tuning under openstacksdk: the environment is read once per
endpoint, and what requests makes of it is unchanged."""

import pytest
import requests

from bayflow.drivers.cloud import http

ENVIRONMENTS = [
    {},
    {'HTTP_PROXY': 'http://proxy:3128', 'HTTPS_PROXY': 'http://proxy:3129'},
    {'http_proxy': 'http://proxy:3128', 'no_proxy': 'keystone.example,10.0.0.0/8'},
    {'HTTPS_PROXY': 'http://proxy:3129', 'NO_PROXY': '*'},
    {'REQUESTS_CA_BUNDLE': '/etc/ssl/cloud.pem'},
    {'CURL_CA_BUNDLE': '/etc/ssl/curl.pem', 'HTTP_PROXY': 'http://proxy:3128'},
]
URLS = ['http://keystone.example:5000/v3/auth/tokens', 'http://10.1.2.3:8774/v2.1/servers',
        'https://nova.example/v2.1/servers/detail', 'https://neutron.example:9696/v2.0/ports']
# What keystoneauth hands to requests for each call, and variations of it.
SETTINGS = [({}, None, True, None), ({}, None, '/etc/ssl/own.pem', None),
            ({'no_proxy': 'nova.example'}, None, True, None), (None, True, False, 'c.pem')]


@pytest.fixture
def clean_env(monkeypatch):
    for name in ('HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'REQUESTS_CA_BUNDLE',
                 'CURL_CA_BUNDLE'):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


@pytest.mark.parametrize('env', ENVIRONMENTS)
def test_the_merge_is_requests_own(clean_env, env):
    for name, value in env.items():
        clean_env.setenv(name, value)
    plain, tuned = requests.Session(), requests.Session()
    http._read_environment_once(tuned)
    for url in URLS:
        for proxies, stream, verify, cert in SETTINGS:
            def merge(session):
                given = dict(proxies) if proxies is not None else None
                return session.merge_environment_settings(url, given, stream, verify, cert)
            assert merge(tuned) == merge(plain), (url, proxies, verify)
            assert merge(tuned) == merge(plain)  # the kept answer too


def test_the_environment_is_read_once_per_endpoint(clean_env):
    session = requests.Session()
    http._read_environment_once(session)
    clean_env.setenv('HTTP_PROXY', 'http://proxy:3128')
    first = session.merge_environment_settings(URLS[1], {}, None, True, None)
    clean_env.setenv('HTTP_PROXY', 'http://elsewhere:3128')
    again = session.merge_environment_settings(URLS[1] + '?name=x', {}, None, True, None)
    assert first['proxies']['http'] == again['proxies']['http'] == 'http://proxy:3128'
    other = session.merge_environment_settings('http://10.9.9.9:9696/v2.0', {}, None, True,
                                               None)
    assert other['proxies']['http'] == 'http://elsewhere:3128'


def test_without_trust_env_requests_decides(clean_env):
    clean_env.setenv('HTTP_PROXY', 'http://proxy:3128')
    session = requests.Session()
    http._read_environment_once(session)
    session.trust_env = False
    assert session.merge_environment_settings(URLS[1], {}, None, True, None)['proxies'] == {}


def test_tuning_twice_wraps_once():
    session = requests.Session()
    http._read_environment_once(session)
    wrapped = session.merge_environment_settings
    http._read_environment_once(session)
    assert session.merge_environment_settings is wrapped
