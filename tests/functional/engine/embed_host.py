"""A host service embedding bayflow, as Magnum's driver would: its own TaskFlow
persistence and engine, its own openstacksdk connection, no bayflow database.

    python embed_host.py create DB_URL BAY_UUID    -> prints the flow id, then the state
    python embed_host.py resume DB_URL FLOW_ID     -> prints the state
    python embed_host.py delete DB_URL BAY_UUID    -> prints the state
    python embed_host.py scale DB_URL BAY_UUID N   -> prints the flow id, then the state
The host's recorder keeps each bay's record (with the CA a scale needs) in
``<DB file>.bays.json``.
(The cloud comes from OS_CLIENT_CONFIG_FILE / OS_CLOUD.)
"""

import contextlib
import json
import os
import sys

import openstack
from taskflow.persistence import backends

from bayflow import api

BAYMODEL = {'coe': 'kubernetes', 'image_id': 'fedora-21-atomic-5', 'keypair_id': 'testkey',
            'external_network_id': 'public', 'dns_nameserver': '8.8.8.8',
            'flavor_id': 'm1.small', 'docker_volume_size': 5, 'network_driver': 'flannel',
            'labels': {}, 'tls_disabled': False, 'floating_ip_enabled': True}


class FileRecorder(api.Recorder):
    """The host's own records: what the flows report, by bay, in a JSON file."""

    def __init__(self, path):
        self.path = path

    def load(self):
        if not os.path.exists(self.path):
            return {}
        with open(self.path) as f:
            return json.load(f)

    def _merge(self, bay_uuid, values):
        records = self.load()
        records[bay_uuid] = dict(records.get(bay_uuid, {}), **values)
        with open(self.path, 'w') as f:
            json.dump(records, f)

    def create_complete(self, bay_uuid, outputs):
        self._merge(bay_uuid, dict(outputs, node_count=1))

    def update_complete(self, bay_uuid, outputs):
        self._merge(bay_uuid, outputs)


def main(mode, db_url, ident, node_count=None):
    api.use_connection(openstack.connect(), retries=3, backoff=0.02, wait_interval=0.05)
    backend = backends.fetch({'connection': db_url})
    with contextlib.closing(backend.get_connection()) as conn:
        conn.upgrade()
    recorder = FileRecorder(db_url.split('///', 1)[1] + '.bays.json')
    api.register_recorder('host', recorder)
    engine = api.BayEngine(backend, recorder='host')
    bay = {'uuid': ident, 'name': 'hosted', 'node_count': 1, 'master_count': 1}
    if mode == 'create':
        flow_id = engine.submit_create(bay, api.check_baymodel(BAYMODEL))
    elif mode == 'scale':
        bay.update(recorder.load()[ident])  # node_count and the CA as built
        flow_id = engine.submit_update(bay, api.check_baymodel(BAYMODEL), int(node_count))
    elif mode == 'delete':
        flow_id = engine.submit_delete(bay)
    else:
        flow_id = ident
        engine.resume(flow_id)
    print(flow_id, flush=True)
    print(json.dumps(engine.wait(flow_id)), flush=True)
    engine.close()


if __name__ == '__main__':
    main(*sys.argv[1:5])
