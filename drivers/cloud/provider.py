"""Where a Cloud comes from: openstacksdk's own configuration, or the host.

bayflow never invents a credential format: ``clouds.yaml`` (found by
openstacksdk, or named by ``OS_CLIENT_CONFIG_FILE``) and the cloud named by
``OS_CLOUD``, else by ``[cloud] cloud``. A service embedding bayflow's flows
(Magnum) hands in its own connection with :func:`set_provider`.
"""

import os
import threading

import openstack
from openstack import exceptions as sdk_exc

from bayflow import config
from bayflow.exceptions import InvalidParameter

_lock = threading.Lock()
_provider = None
_default = None


def cloud_conf(conf=None):
    return (conf or config.CONF).cloud


def connect(conf=None, cloud=None):
    """An openstacksdk Connection to ``cloud``, else ``OS_CLOUD``, else
    ``[cloud] cloud``, from openstacksdk's clouds.yaml search path (which
    ``OS_CLIENT_CONFIG_FILE`` extends). Nothing is sent until first use."""
    name = cloud or os.environ.get('OS_CLOUD') or cloud_conf(conf).cloud
    try:
        return openstack.connect(cloud=name)
    except sdk_exc.ConfigException as exc:
        where = os.environ.get('OS_CLIENT_CONFIG_FILE') or 'clouds.yaml'
        raise InvalidParameter('cloud', name, f'a cloud defined in {where} '
                               f'(set OS_CLIENT_CONFIG_FILE and OS_CLOUD, or [cloud] '
                               f'cloud): {exc}') from None


def set_provider(provider):
    """Make ``provider()`` the source of :func:`get_cloud` (None: back to the
    process-wide Cloud built from configuration)."""
    global _provider, _default
    with _lock:
        _provider = provider
        _default = None


def get_cloud():
    """The Cloud the engine's tasks use: the host's provider when one is set,
    else one process-wide Cloud built lazily from configuration."""
    global _default
    with _lock:
        provider = _provider
        if provider is None and _default is None:
            from bayflow.drivers.cloud.cloud import Cloud
            _default = Cloud.from_config()
        cloud = _default
    return provider() if provider is not None else cloud
