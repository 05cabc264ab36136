"""``bayflow demo``, the README's first command, as a new user runs it."""

import os
import subprocess
import sys

from tests.functional.engine.conftest import ROOT


def test_demo_builds_shows_and_deletes_a_bay_and_leaves_nothing(tmp_path):
    env = dict(os.environ, BAYFLOW_HOME=str(tmp_path / 'home'))
    for key in ('OS_CLOUD', 'OS_CLIENT_CONFIG_FILE'):
        env.pop(key, None)
    result = subprocess.run([sys.executable, '-m', 'bayflow.cli.main', 'demo'], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120,
                            stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert '$ bayflow bay-create --name k8sbay --baymodel k8sbaymodel --node-count 1' in out
    assert 'CREATE_COMPLETE' in out and 'https://' in out
    assert '2 servers' in out and '2 volumes' in out and '2 floatingips' in out
    assert 'the cloud holds nothing of the bay: yes' in out
    # The user's own database is left alone (the demo's state is thrown away).
    assert not (tmp_path / 'home' / 'bayflow.sqlite').exists()
