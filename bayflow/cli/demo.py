"""``bayflow demo``: the README's first command, a whole bay's life on the simulator.

It starts ``bayflow cloud-sim`` in this process, runs the seed's two commands
(baymodel-create, bay-create --wait) with the progress display, shows the bay,
deletes it and shows that the cloud holds nothing of it. State goes to a
throw-away directory, so the user's own ``$BAYFLOW_HOME`` is left alone.
"""

import json
import os
import tempfile
import time

import yaml

from bayflow import config
from bayflow.cli import common

BAYMODEL = ['baymodel-create', '--name', 'k8sbaymodel', '--image-id', 'fedora-21-atomic-5',
            '--keypair-id', 'testkey', '--external-network-id', 'public',
            '--dns-nameserver', '8.8.8.8', '--flavor-id', 'm1.small',
            '--docker-volume-size', '5', '--network-driver', 'flannel', '--coe', 'kubernetes']
BAY = ['bay-create', '--name', 'k8sbay', '--baymodel', 'k8sbaymodel', '--node-count', '1']


class Demo(common.Command):
    """Build and delete a Kubernetes bay on a simulated cloud (no servers needed)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--boot-seconds', type=float, default=1.0,
                            help='How long simulated servers stay in BUILD (default 1).')
        parser.add_argument('--latency-ms', type=int, default=5,
                            help='Simulated latency of every cloud call (default 5).')
        return parser

    def take_action(self, parsed_args):
        from bayflow.cloudsim import Simulator  # only the CLI and tests start it
        t0 = time.monotonic()
        with tempfile.TemporaryDirectory(prefix='bayflow-demo-') as home:
            sim = Simulator(boot_seconds=parsed_args.boot_seconds,
                            latency_ms=parsed_args.latency_ms).start()
            try:
                self._setup(home, sim)
                self._say(f'simulated cloud at {sim.url}; state in {home}')
                uuid = None
                for argv in (BAYMODEL, BAY + ['--wait'], ['bay-show', 'k8sbay'],
                             ['bay-delete', 'k8sbay', '--wait']):
                    if argv[0] == 'bay-delete':
                        uuid = self.service.get_bay('k8sbay')['uuid']
                        self._say(f'the cloud holds of bay {uuid}: {_summary(_owned(sim, uuid))}')
                    self._say('$ bayflow ' + ' '.join(argv))
                    code = self.app.run_subcommand(argv)
                    if code:
                        return code
                left = _owned(sim, uuid)
                self._say('the cloud holds nothing of the bay: ' +
                          ('yes' if not left else f'NO, left: {_summary(left)}'))
                self._say(f'done in {time.monotonic() - t0:.1f}s')
                return 1 if left else 0
            finally:
                sim.stop()
                self.service.close()

    def _say(self, text):
        self.app.stdout.write(f'\n== {text}\n')
        self.app.stdout.flush()

    def _setup(self, home, sim):
        path = os.path.join(home, 'clouds.yaml')
        with open(path, 'w') as out:
            yaml.safe_dump(sim.clouds_yaml(), out)
        os.environ.update(BAYFLOW_HOME=home, OS_CLIENT_CONFIG_FILE=path, OS_CLOUD='sim')
        conf = config.CONF
        conf.set_override('state_path', home)
        conf.set_override('wait_interval', 0.2, group='cloud')
        conf.set_override('retry_backoff', 0.2, group='cloud')
        config.ensure_state_path(conf)


def _owned(sim, bay_uuid):
    """{kind: [resource]} of every simulated resource that names or tags the bay."""
    import requests
    resources = requests.get(f'{sim.url}/_sim/resources', timeout=10).json()
    found = {kind: [r for r in items if bay_uuid in json.dumps(r)]
             for kind, items in resources.items()}
    return {kind: items for kind, items in found.items() if items}


def _summary(owned):
    return ', '.join(f'{len(items)} {kind}' for kind, items in sorted(owned.items())) or 'nothing'
