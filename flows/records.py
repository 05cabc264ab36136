"""Where a flow keeps its bay's record: pluggable, so a host needs no bayflow database.

The flows end by telling a recorder what they built (or that the bay is
gone). bayflow registers one that moves its own lifecycle machine; a service
embedding the flows registers its own, or uses ``none``. The store names the
recorder (``recorder``), so a flow rebuilt in another process finds the one
registered there.
"""

import threading


class Recorder:
    """What a flow reports. Each call may come twice (a step re-run after a crash)."""

    def create_complete(self, bay_uuid, outputs):
        """The bay is built: ``outputs`` holds api_address, master_addresses,
        node_addresses and the CA (``ca_cert``, ``ca_key`` encrypted)."""

    def update_complete(self, bay_uuid, outputs):
        """The bay is scaled: ``outputs`` holds node_count and node_addresses."""

    def delete_complete(self, bay_uuid):
        """Nothing of the bay is left in the cloud."""


class NullRecorder(Recorder):
    """For hosts that read the outcome from the flow itself."""


_lock = threading.Lock()
_recorders = {'none': NullRecorder()}


def register(name, recorder):
    with _lock:
        _recorders[name] = recorder


def get(name):
    with _lock:
        try:
            return _recorders[name]
        except KeyError:
            raise LookupError(
                f"no bay recorder named {name!r} is registered in this process "
                f"(known: {', '.join(sorted(_recorders))}); register it with "
                f"bayflow.flows.records.register before running the flow") from None
