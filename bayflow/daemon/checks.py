"""The cloud checks of a create, kept a short while per baymodel.

Each bay.create checks the baymodel's image, keypair, flavors and network
in the cloud: four reads, most of an event's CPU on the daemon's side. A
stream of events for one baymodel asks the same thing again and again, so
the answer is kept for ``[daemon] cloud_check_seconds`` (keyed by the
baymodel's uuid and version, so an edited baymodel is checked afresh). A
resource removed meanwhile fails the flow's own step instead, which rolls
back; only passing answers are kept.
"""

import threading
import time

from bayflow import api


class CachedChecks:
    def __init__(self, seconds, check=api.check_baymodel):
        self.seconds, self._check = seconds, check
        self._kept = {}   # (uuid, version) -> (expires, resolved)
        self._lock = threading.Lock()

    def __call__(self, baymodel, warm_up=False):
        if self.seconds <= 0 or warm_up:
            return self._check(baymodel, warm_up=warm_up)
        key = (baymodel['uuid'], baymodel.get('version'))
        now = time.monotonic()
        with self._lock:
            expires, resolved = self._kept.get(key, (0, None))
        if resolved is not None and expires > now:
            return dict(resolved)
        resolved = self._check(baymodel)
        with self._lock:
            self._kept[key] = (now + self.seconds, dict(resolved))
        return resolved
