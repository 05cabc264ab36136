"""The simulator's whole world: resource tables behind one lock.

Each table maps id -> the resource as the API shows it (plain JSON dicts),
plus private keys starting with ``_`` that are never rendered. Time-driven
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
    'projects', 'users', 'tokens', 'quotas',
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
        self._advancers = []      # callables(state, now) run by advance()
        self._seeders = []        # callables(state) run by seed()

    # -- hooks the service modules register -------------------------------
    def on_advance(self, fn):
        self._advancers.append(fn)

    def on_seed(self, fn):
        self._seeders.append(fn)

    # -- lifecycle ---------------------------------------------------------
    def seed(self):
        with self.lock:
            self.tables = {name: {} for name in TABLES}
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

    def project_id(self, name):
        for p in self.tables['projects'].values():
            if p['name'] == name:
                return p['id']
        return None

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
        """Load a saved world; False when there is none (then seed)."""
        if not self.path or not os.path.exists(self.path):
            return False
        with open(self.path) as f:
            data = json.load(f)
        with self.lock:
            self.tables = {name: data.get(name, {}) for name in TABLES}
        return True
