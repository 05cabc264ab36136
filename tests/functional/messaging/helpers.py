"""Helpers the messaging tests share: polling with a deadline, the CLI as a process."""

import os
import subprocess
import time


def wait_for(predicate, timeout=20.0, interval=0.05):
    """Poll ``predicate`` until it is truthy or the deadline passes; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def run_bayflow(home, *args, config_file=None):
    """``bayflow [--config-file F] ARGS`` in a child process with its own BAYFLOW_HOME."""
    env = dict(os.environ, BAYFLOW_HOME=str(home))
    cmd = ['bayflow'] + (['--config-file', str(config_file)] if config_file else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, env=env,
                          stdin=subprocess.DEVNULL, timeout=120)
