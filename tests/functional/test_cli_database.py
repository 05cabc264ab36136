"""A database the CLI cannot use: one line naming it (password hidden) and
the fix, a non-zero exit and no traceback, through the real ``bayflow``."""

import os
import socket
import subprocess

import pytest

from bayflow.persistence import migration
from tests.functional.test_cli import one_error_line

PASSWORD = 's3cret-pw'
UPGRADE = 'run `bayflow db upgrade`'


@pytest.fixture
def bayflow(bayflow_home, tmp_path):
    """Run ``bayflow`` with ``[database] connection`` set in a config file."""
    def run(connection, *args):
        conf = tmp_path / 'bayflow.conf'
        conf.write_text(f'[database]\nconnection = {connection}\n')
        env = dict(os.environ, BAYFLOW_HOME=str(bayflow_home))
        return subprocess.run(['bayflow', '--config-file', str(conf), *args],
                              capture_output=True, text=True, env=env,
                              stdin=subprocess.DEVNULL, timeout=120)
    return run


def refused(result):
    """The one error line, after checking nothing secret leaked anywhere."""
    assert PASSWORD not in result.stdout + result.stderr
    return one_error_line(result)


def with_password(url):
    """The test server's URL with a password (it trusts local logins)."""
    return url.replace('postgres@', f'postgres:{PASSWORD}@', 1)


def hidden(url):
    return url.replace(f':{PASSWORD}@', ':***@')


@pytest.fixture
def closed_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def test_sqlite_file_without_schema(bayflow, tmp_path):
    url = f'sqlite:///{tmp_path}/empty.sqlite'
    line = refused(bayflow(url, 'baymodel-list'))
    assert line == f'ERROR: database {url} has no bayflow schema: {UPGRADE}'
    assert bayflow(url, 'db', 'upgrade').returncode == 0
    listed = bayflow(url, 'baymodel-list', '-f', 'json')
    assert (listed.returncode, listed.stdout.strip()) == (0, '[]')


def test_postgresql_database_without_schema(bayflow, pg_url):
    url = with_password(pg_url)
    line = refused(bayflow(url, 'bay-list'))
    assert line == f'ERROR: database {hidden(url)} has no bayflow schema: {UPGRADE}'
    assert bayflow(url, 'db', 'upgrade').returncode == 0
    assert bayflow(url, 'bay-list').returncode == 0


@pytest.mark.parametrize('backend', ['sqlite', 'postgresql'])
def test_outdated_schema(bayflow, request, backend):
    url = request.getfixturevalue('sqlite_url' if backend == 'sqlite' else 'pg_url')
    migration.upgrade(url, '0001')
    if backend == 'postgresql':
        url = with_password(url)
    line = refused(bayflow(url, 'baymodel-list'))
    assert line == (f'ERROR: database {hidden(url)} has bayflow schema 0001, this '
                    f'bayflow needs {migration.head()}: {UPGRADE}')
    assert bayflow(url, 'db', 'upgrade').returncode == 0
    assert bayflow(url, 'baymodel-list').returncode == 0


def test_unknown_postgresql_database(bayflow, pg_server_url):
    url = with_password(pg_server_url) + '/bayflow_no_such_database'
    for args in (['baymodel-list'], ['db', 'version'], ['db', 'upgrade']):
        line = refused(bayflow(url, *args))
        assert line == (f'ERROR: database {hidden(url)} does not exist: create it '
                        f'(e.g. createdb bayflow_no_such_database) or fix [database] '
                        f'connection, then {UPGRADE}')


def test_database_server_down(bayflow, closed_port):
    url = f'postgresql+psycopg2://bayflow:{PASSWORD}@127.0.0.1:{closed_port}/bayflow'
    for args in (['bay-list'], ['db', 'upgrade']):
        line = refused(bayflow(url, *args))
        assert line == (f'ERROR: cannot connect to database {hidden(url)} (connection '
                        f'refused): start the database server or fix [database] '
                        f'connection')
