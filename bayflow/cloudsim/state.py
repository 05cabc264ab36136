"""The simulator's whole world: resource tables behind one lock.

Each table maps id -> the resource as the API shows it (plain JSON dicts),
plus private keys starting with ``_`` that are never rendered. Bulk bytes
(image data) are blobs beside the tables: in memory, and with ``--state`` in
files next to it (``FILE.blobs/``), written once when they arrive. Time-driven
changes (a server leaving BUILD) are applied lazily by ``advance`` at the
start of each request, so nothing runs in the background.
"""

import copy
import json
import os
import threading
import time
import uuid
from datetime import datetime, timezone

TABLES = (
    'networks', 'subnets', 'routers', 'ports', 'floatingips', 'security_groups',
    'security_group_rules', 'servers', 'volumes', 'keypairs', 'images', 'flavors',
    'projects', 'users', 'tokens', 'quotas', 'roles', 'role_assignments',
    'loadbalancers', 'listeners', 'pools', 'members', 'healthmonitors',
)


def new_id():
    return str(uuid.uuid4())


def isotime(ts=None, micro=False):
    """ISO 8601 UTC, as the services print it (``2026-11-27T18:00:00Z``)."""
    dt = datetime.fromtimestamp(time.time() if ts is None else ts, timezone.utc)
    if micro:
        return dt.strftime('%Y-%m-%dT%H:%M:%S.%f')
    return dt.strftime('%Y-%m-%dT%H:%M:%SZ')


def public(resource):
    """A resource as rendered: private ``_`` keys dropped, deep-copied."""
    return {k: copy.deepcopy(v) for k, v in resource.items() if not k.startswith('_')}


class State:
    """All tables, the knobs and the time hooks, behind a re-entrant lock."""

    def __init__(self, boot_seconds=1.0, path=None):
        self.lock = threading.RLock()
        self.boot_seconds = boot_seconds
        self.path = path
        self.tables = {name: {} for name in TABLES}
        self.blobs = {}
        self._watched = {}        # watch(): key -> (table, ids)
        self._advancers = []      # callables(state, now) run by advance()
        self._seeders = []        # callables(state) run by seed()
        self._loaders = []        # callables(state) run after load(), to upgrade old saves

    # -- hooks the service modules register -------------------------------
    def on_advance(self, fn):
        self._advancers.append(fn)

    def on_seed(self, fn):
        self._seeders.append(fn)

    def on_load(self, fn):
        self._loaders.append(fn)

    # -- lifecycle ---------------------------------------------------------
    def seed(self):
        with self.lock:
            self.tables = {name: {} for name in TABLES}
            for key in list(self._blob_keys()):
                self.drop_blob(key)
            for fn in self._seeders:
                fn(self)

    def advance(self, now=None):
        now = time.time() if now is None else now
        with self.lock:
            for fn in self._advancers:
                fn(self, now)

    # -- helpers -----------------------------------------------------------
    def table(self, name):
        return self.tables[name]

    def watch(self, name, busy):
        """The ids of ``name``'s items in transition (``busy(item)``), for the
        advancers to visit only those: the caller adds ids as it starts
        transitions and drops finished ones; the set is rebuilt with one scan
        whenever the table is swapped (reset, load)."""
        table = self.tables[name]
        cached = self._watched.get(name)
        if cached is None or cached[0] is not table:
            cached = (table, {rid for rid, item in table.items() if busy(item)})
            self._watched[name] = cached
        return cached[1]

    def project_id(self, name):
        for p in self.tables['projects'].values():
            if p['name'] == name:
                return p['id']
        return None

    # -- blobs (image data) ---------------------------------------------------
    def _blob_dir(self):
        return self.path + '.blobs' if self.path else None

    def _blob_keys(self):
        keys = set(self.blobs)
        folder = self._blob_dir()
        if folder and os.path.isdir(folder):
            keys.update(name for name in os.listdir(folder) if not name.endswith('.tmp'))
        return keys

    def put_blob(self, key, data):
        self.blobs[key] = bytes(data)
        folder = self._blob_dir()
        if folder:
            os.makedirs(folder, exist_ok=True)
            tmp = os.path.join(folder, key + '.tmp')
            with open(tmp, 'wb') as f:
                f.write(data)
            os.replace(tmp, os.path.join(folder, key))

    def get_blob(self, key):
        """The bytes, or None when there are none."""
        if key in self.blobs:
            return self.blobs[key]
        folder = self._blob_dir()
        path = os.path.join(folder, key) if folder else None
        if path and os.path.isfile(path):
            with open(path, 'rb') as f:
                self.blobs[key] = f.read()
            return self.blobs[key]
        return None

    def drop_blob(self, key):
        self.blobs.pop(key, None)
        folder = self._blob_dir()
        if folder:
            try:
                os.remove(os.path.join(folder, key))
            except FileNotFoundError:
                pass

    # -- persistence across restarts (--state FILE) ------------------------
    def save(self):
        if not self.path:
            return
        with self.lock:
            data = json.dumps(self.tables)
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f:
            f.write(data)
        os.replace(tmp, self.path)

    def load(self):
        """Load a saved world; False when there is none (then seed). An empty
        file, or one without users (``{}``), holds no world: it is seeded too,
        so the clouds.yaml users can log in."""
        if not self.path or not os.path.exists(self.path):
            return False
        with open(self.path) as f:
            text = f.read()
        if not text.strip():
            return False
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError('the state file does not hold a JSON object')
        if not data.get('users'):
            return False
        with self.lock:
            self.tables = {name: data.get(name, {}) for name in TABLES}
            for fn in self._loaders:
                fn(self)
        return True
