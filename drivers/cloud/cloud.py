"""The Cloud object the engine's tasks call: every resource a bay owns,
find-or-create and delete-if-present, over one shared connection."""

from bayflow.drivers.cloud.base import CloudBase
from bayflow.drivers.cloud.checks import ChecksMixin
from bayflow.drivers.cloud.compute import ComputeMixin
from bayflow.drivers.cloud.lookup import LookupMixin
from bayflow.drivers.cloud.network import NetworkMixin
from bayflow.drivers.cloud.reverts import RevertMixin
from bayflow.drivers.cloud.teardown import TeardownMixin


class Cloud(ChecksMixin, NetworkMixin, ComputeMixin, LookupMixin, RevertMixin, TeardownMixin,
            CloudBase):
    """``Cloud(conn, retries=5, backoff=1.0, backoff_max=30.0,
    wait_interval=2.0, wait_timeout=600)`` or ``Cloud.from_config(conf)``.

    Safe to share between threads. Every method is idempotent and returns
    plain JSON-safe dicts; permanent failures raise CloudError.
    """
