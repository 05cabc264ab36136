"""bayflow's OpenStack cloud driver (openstacksdk).

``connect()`` builds an openstacksdk Connection from openstacksdk's own
configuration; :class:`Cloud` wraps one with idempotent find-or-create /
delete-if-present calls for every resource a bay owns, cloud checks, and
a tag-driven teardown; ``get_cloud()`` is where the engine's tasks get
theirs (a host may ``set_provider()`` its own).
"""

from bayflow.drivers.cloud.base import first_run
from bayflow.drivers.cloud.cloud import Cloud
from bayflow.drivers.cloud.compute import VOLUME_READY, not_ready
from bayflow.drivers.cloud.errors import (
    CloudCheckError, CloudError, CloudTeardownError, describe_leftovers, is_transient)
from bayflow.drivers.cloud.naming import (
    bay_tag, network_name, port_name, router_name, security_group_name, server_name,
    subnet_name, volume_name)
from bayflow.drivers.cloud.provider import connect, get_cloud, set_provider
from bayflow.drivers.cloud.teardown import TEARDOWN_ORDER

__all__ = ('Cloud', 'CloudCheckError', 'CloudError', 'CloudTeardownError', 'TEARDOWN_ORDER',
           'VOLUME_READY',
           'bay_tag', 'connect', 'describe_leftovers', 'first_run', 'get_cloud',
           'is_transient', 'network_name', 'not_ready', 'port_name', 'router_name',
           'security_group_name', 'server_name', 'set_provider', 'subnet_name',
           'volume_name')
