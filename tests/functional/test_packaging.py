"""The wheel installs one namespace: bayflow.flows, .drivers, .persistence."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('wheel')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation',
                    '-q', '-w', str(out), str(ROOT)], check=True)
    return next(out.glob('bayflow-*.whl'))


@pytest.fixture(scope='module')
def wheel_names(wheel):
    with zipfile.ZipFile(wheel) as zf:
        return zf.namelist()


def test_only_bayflow_lands_top_level(wheel_names):
    top = {name.split('/')[0] for name in wheel_names}
    assert {t for t in top if not t.endswith('.dist-info')} == {'bayflow'}


@pytest.mark.parametrize('package', ['flows', 'drivers', 'persistence', 'cloudsim', 'cli'])
def test_subpackages_are_inside_bayflow(wheel_names, package):
    assert f'bayflow/{package}/__init__.py' in wheel_names


def test_migrations_ship(wheel_names):
    assert any(n.startswith('bayflow/persistence/migrations/versions/') and n.endswith('.py')
               and not n.endswith('__init__.py') for n in wheel_names)


def test_console_script_and_config_entry_point(wheel, wheel_names):
    name = next(n for n in wheel_names if n.endswith('.dist-info/entry_points.txt'))
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(name).decode()
    assert 'bayflow = bayflow.cli.main:main' in text
    assert '[oslo.config.opts]' in text and 'bayflow.config:list_opts' in text


def test_bayflow_help_lists_commands():
    result = subprocess.run(['bayflow', '--help'], capture_output=True, text=True, check=True)
    for command in ('baymodel-create', 'baymodel-list', 'baymodel-show', 'baymodel-update',
                    'baymodel-delete', 'bay-list', 'bay-show', 'db upgrade', 'cloud-sim'):
        assert command in result.stdout


def test_driver_entry_points_and_shell_fragments_ship(wheel, wheel_names):
    """The COE and network drivers' shell fragments are package data."""
    assert 'bayflow/drivers/coe/k8s_fedora_atomic/fragments/configure-etcd.sh' in wheel_names
    assert 'bayflow/drivers/network/fragments/flannel/network-service.sh' in wheel_names
    name = next(n for n in wheel_names if n.endswith('.dist-info/entry_points.txt'))
    with zipfile.ZipFile(wheel) as zf:
        text = zf.read(name).decode()
    assert '[bayflow.coe_drivers]' in text and '[bayflow.network_drivers]' in text
