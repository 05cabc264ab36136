"""COE drivers, chosen by (server_type, os_distro, coe) from the ``bayflow.coe_drivers``
entry points, as Magnum chose its template definitions (reference 3.1).

Each entry point names a ``CoeDriver`` subclass whose ``provides`` lists the
tuples it builds; ``get_driver`` returns an instance of the one that provides
the baymodel's tuple, or raises ``BayTypeNotSupported`` naming the supported ones.
"""

from bayflow.drivers import plugins
from bayflow.drivers.coe.base import CoeDriver
from bayflow.exceptions import BayflowError

GROUP = 'bayflow.coe_drivers'

__all__ = ('GROUP', 'BayTypeNotSupported', 'CoeDriver', 'get_driver', 'supported')


class BayTypeNotSupported(BayflowError):
    """No installed driver builds this (server_type, os_distro, coe)."""

    def __init__(self, coe, os_distro, server_type, supported_types, failures=()):
        self.coe, self.os_distro, self.server_type = coe, os_distro, server_type
        self.supported = tuple(supported_types)
        listed = ', '.join(f'({s}, {d}, {c})' for s, d, c in self.supported) or 'none'
        super().__init__(
            f'no COE driver for coe {coe!r} on os_distro {os_distro!r} (server_type '
            f'{server_type!r}): supported (server_type, os_distro, coe) are {listed}; '
            f'the os_distro comes from the image\'s os_distro property'
            f'{plugins.failures_note(failures)}')


def _drivers():
    found, failures = plugins.load(GROUP)
    table = {}
    for _, cls in found:
        for provided in cls.provides:
            table.setdefault(tuple(provided), cls)
    return table, failures


def supported():
    """The (server_type, os_distro, coe) tuples the installed drivers build, sorted."""
    return tuple(sorted(_drivers()[0]))


def get_driver(coe, os_distro, server_type='vm'):
    """-> CoeDriver instance for the baymodel's (server_type, os_distro, coe)."""
    table, failures = _drivers()
    try:
        return table[(server_type, os_distro, coe)]()
    except KeyError:
        raise BayTypeNotSupported(coe, os_distro, server_type, sorted(table),
                                  failures) from None
