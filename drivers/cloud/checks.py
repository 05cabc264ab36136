"""Cloud checks at baymodel-create and bay-create: the image (with its
``os_distro``), keypair, flavors and external network exist and are usable.

Each failure is one :class:`CloudCheckError` (field, value, what is
allowed); nothing is written or created by these calls.
"""

import uuid

from openstack import exceptions as sdk_exc

from bayflow.drivers.cloud.errors import CloudCheckError

# A first GET by id answers 404 for a name; some services say 400 instead.
_NOT_AN_ID = (sdk_exc.NotFoundException, sdk_exc.BadRequestException)


def _looks_like_uuid(value):
    try:
        uuid.UUID(value)
        return True
    except ValueError:
        return False


class ChecksMixin:

    def _lookup(self, kind, field, ident, get, by_name, hint):
        """The one resource ``ident`` names (an id, else an exact name)."""
        if not isinstance(ident, str) or not ident:
            raise CloudCheckError(field, ident, f'the name or id of a {kind}')

        def named():
            return [r for r in by_name(ident) if r.name == ident]

        def find():
            # One round trip for the usual case: a uuid is an id, anything
            # else most likely a name (ids such as flavor "1" are looked up next).
            if by_name is not None and not _looks_like_uuid(ident):
                found = named()
                if found:
                    return found
            try:
                return [get(ident)]
            except _NOT_AN_ID:
                pass
            if by_name is None or not _looks_like_uuid(ident):
                return []
            return named()
        found = self._call('find', kind, ident, find)
        if not found:
            raise CloudCheckError(field, ident, f'no such {kind} in the cloud; {hint}')
        if len(found) > 1:
            ids = ', '.join(sorted(r.id for r in found))
            raise CloudCheckError(field, ident, f'the name matches {len(found)} {kind}s '
                                                f'({ids}); give the id of one')
        return found[0]

    def check_image(self, ident, field='image_id'):
        """``{'id', 'name', 'os_distro'}`` of a Glance image that can boot a
        bay: active, with the ``os_distro`` property Magnum picks drivers by."""
        image = self._lookup('image', field, ident, self.image.get_image,
                             lambda name: self.image.images(name=name),
                             'list them with "openstack image list"')
        distro = image.os_distro or (image.properties or {}).get('os_distro')
        if not distro:
            raise CloudCheckError(field, ident, 'an image with the os_distro property '
                                  '(e.g. fedora-atomic, coreos, ubuntu); set it with '
                                  '"openstack image set --property os_distro=... IMAGE"')
        if image.status != 'active':
            raise CloudCheckError(field, ident, f'an active image; this one is '
                                                f'{image.status}')
        return {'id': image.id, 'name': image.name, 'os_distro': distro}

    def check_keypair(self, name, field='keypair_id'):
        """``{'name'}`` of the session user's Nova keypair ``name``."""
        keypair = self._lookup('keypair', field, name, self.compute.get_keypair, None,
                               'create one with "openstack keypair create"')
        return {'name': keypair.name}

    def check_flavor(self, ident, field='flavor_id'):
        """``{'id', 'name'}`` of the Nova flavor ``ident`` (id or name)."""
        flavor = self._lookup('flavor', field, ident, self.compute.get_flavor,
                              lambda name: self.compute.flavors(details=False),
                              'list them with "openstack flavor list"')
        return {'id': flavor.id, 'name': flavor.name}

    def check_external_network(self, ident, field='external_network_id'):
        """``{'id', 'name'}`` of the Neutron network ``ident``, which must be
        ``router:external`` (a bay's router gateway and floating IPs use it)."""
        net = self._lookup('network', field, ident, self.network.get_network,
                           lambda name: self.network.networks(name=name),
                           'list external ones with "openstack network list --external"')
        if not net.is_router_external:
            raise CloudCheckError(field, ident, 'an external network (router:external); '
                                  f'network {net.id} is not external')
        return {'id': net.id, 'name': net.name}
