"""Network drivers, loaded by name from the ``bayflow.network_drivers`` entry points.

``get_driver(name)`` returns an instance of the driver whose class ``name``
matches the baymodel's network_driver (the entry point's name is the same).
"""

from bayflow.drivers import plugins
from bayflow.drivers.network.base import NetworkDriver
from bayflow.exceptions import BayflowError

GROUP = 'bayflow.network_drivers'

__all__ = ('GROUP', 'NetworkDriver', 'NetworkDriverNotSupported', 'get_driver',
           'supported')


class NetworkDriverNotSupported(BayflowError):
    """No installed network driver has this name."""

    def __init__(self, name, supported_names, failures=()):
        self.name, self.supported = name, tuple(supported_names)
        super().__init__(
            f'network_driver {name!r} has no driver installed: installed network drivers '
            f'are {", ".join(self.supported) or "none"}{plugins.failures_note(failures)}')


def _drivers():
    found, failures = plugins.load(GROUP)
    return {cls.name: cls for _, cls in found}, failures


def supported():
    """The names of the installed network drivers, sorted."""
    return tuple(sorted(_drivers()[0]))


def get_driver(name):
    """-> NetworkDriver instance for ``name`` (case-sensitive, as Magnum matched it)."""
    drivers, failures = _drivers()
    try:
        return drivers[name]()
    except KeyError:
        raise NetworkDriverNotSupported(name, sorted(drivers), failures) from None
