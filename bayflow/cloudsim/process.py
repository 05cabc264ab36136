"""Run the simulator as a subprocess (``python -m bayflow.cloudsim``), for
tests that need a real separate process: kill it, restart it on the same
``--state`` file, measure it from outside.

    with SimProcess(boot_seconds=0.2) as sim:
        conn = openstack.connect(**sim.clouds_yaml()['clouds']['sim']['auth'])

``start()`` returns once the child has printed where it listens (it reads
that line; it never sleeps). ``stop()`` sends SIGTERM and returns the exit
status; ``kill()`` sends SIGKILL.
"""

import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time

from bayflow.cloudsim.simulator import clouds_config

_LISTENING = re.compile(r'listening on (\S+) \(auth_url (\S+)\)')
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class SimProcessError(RuntimeError):
    """The simulator process did not come up."""


class SimProcess:
    """``bayflow cloud-sim`` in a child process."""

    def __init__(self, port=0, latency_ms=0, boot_seconds=1, state_file=None,
                 clouds_yaml=None, host='127.0.0.1', start_timeout=60.0, env=None):
        self.host, self.port = host, port
        self.latency_ms, self.boot_seconds = latency_ms, boot_seconds
        self.state_file, self.clouds_yaml_path = state_file, clouds_yaml
        self.start_timeout = start_timeout
        self.env = env
        self.proc = None
        self.url = self.auth_url = self.line = None
        self._stderr = None

    # -- the command line -----------------------------------------------------
    def command(self):
        cmd = [sys.executable, '-m', 'bayflow.cloudsim', '--host', self.host,
               '--port', str(self.port), '--latency-ms', str(self.latency_ms),
               '--boot-seconds', str(self.boot_seconds)]
        if self.state_file:
            cmd += ['--state', str(self.state_file)]
        if self.clouds_yaml_path:
            cmd += ['--clouds-yaml', str(self.clouds_yaml_path)]
        return cmd

    # -- lifecycle ----------------------------------------------------------------
    def start(self):
        if self.running:
            raise SimProcessError('already running')
        env = dict(os.environ if self.env is None else self.env)
        env['PYTHONPATH'] = os.pathsep.join(
            p for p in (_ROOT, env.get('PYTHONPATH')) if p)
        env['PYTHONUNBUFFERED'] = '1'
        # stderr goes to a file: nobody has to drain it, and it explains a
        # failed start.
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=self._stderr,
                                     env=env, start_new_session=True)
        try:
            line = self._read_line(self.start_timeout)
        except BaseException:
            self.kill()
            raise
        found = _LISTENING.search(line)
        if not found:
            self.kill()
            raise SimProcessError(f'unexpected first line from cloud-sim: {line!r}')
        self.line = line
        self.url, self.auth_url = found.group(1), found.group(2)
        threading.Thread(target=self._drain, name='cloudsim-stdout', daemon=True).start()
        return self

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        data = b''
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while b'\n' not in data:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SimProcessError(f'cloud-sim printed nothing in {timeout}s'
                                          f'{self._stderr_text()}')
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    code = self.proc.wait()
                    raise SimProcessError(f'cloud-sim exited with status {code} before '
                                          f'listening{self._stderr_text()}')
                data += chunk
        return data.split(b'\n', 1)[0].decode(errors='replace')

    def _drain(self):
        try:
            while self.proc.stdout.read(65536):
                pass
        except (OSError, ValueError):
            pass

    def _stderr_text(self):
        if self._stderr is None:
            return ''
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors='replace').strip()
        return f': {text}' if text else ''

    @property
    def stderr(self):
        """What the child wrote on stderr so far."""
        return self._stderr_text()[2:]

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def stop(self, timeout=30.0):
        """SIGTERM, wait; the exit status (0 for a clean stop)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._close()
        return self.proc.returncode

    def kill(self):
        """SIGKILL, wait; the exit status (-9)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self._close()
        return self.proc.returncode

    def _close(self):
        if self.proc.stdout:
            try:
                self.proc.stdout.close()
            except OSError:
                pass

    def clouds_yaml(self):
        """openstacksdk's clouds.yaml data (clouds ``sim`` and ``sim-admin``)."""
        if self.auth_url is None:
            raise SimProcessError('not started')
        return clouds_config(self.auth_url)

    def __enter__(self):
        if not self.running:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def __del__(self):
        proc = getattr(self, 'proc', None)
        if proc is not None and proc.poll() is None:
            proc.kill()
