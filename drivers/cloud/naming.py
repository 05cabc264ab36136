"""Names and tags that make a cloud resource recognisably one bay's.

Every name carries the FULL bay uuid (``bf-<uuid>-<what>``) and every
resource that can hold tags gets ``bayflow`` and ``bayflow-bay=<uuid>`` in
the same call that creates it, so identity is set atomically: a resource
found by exact name or by tag is the bay's, and two bays whose uuids share
a prefix can never adopt each other's resources.
"""

import re
import uuid

from bayflow.exceptions import InvalidParameter

TAG = 'bayflow'
_ROLE = re.compile(r'^[a-z][a-z0-9]{0,31}$')


def bay_uuid(value):
    """The canonical full uuid (a prefix or a name is refused)."""
    try:
        canonical = str(uuid.UUID(str(value)))
    except ValueError:
        canonical = None
    if canonical is None or canonical != str(value).lower():
        raise InvalidParameter('bay_uuid', value, 'a full uuid such as '
                               '123e4567-e89b-12d3-a456-426614174000')
    return canonical


def check_role(role):
    """Roles name security groups and servers (hostnames): lower-case letters
    and digits only, so ``bf-<uuid>-<role>-<index>`` parses one way."""
    if not isinstance(role, str) or not _ROLE.match(role):
        raise InvalidParameter('role', role, 'lower-case letters and digits, starting '
                               'with a letter (at most 32), e.g. master or minion')
    return role


def check_index(index):
    if isinstance(index, bool) or not isinstance(index, int) or index < 0:
        raise InvalidParameter('index', index, 'an integer >= 0')
    return index


def prefix(bay):
    return f'bf-{bay_uuid(bay)}-'


def bay_of(name):
    """The bay uuid a ``bf-<uuid>-...`` name carries, else None."""
    name = str(name or '')
    if not name.startswith('bf-') or name[39:40] != '-':
        return None
    try:
        return bay_uuid(name[3:39])
    except InvalidParameter:
        return None


def bay_tag(bay):
    return f'{TAG}-bay={bay_uuid(bay)}'


def tags(bay):
    """The tags every taggable resource of the bay carries."""
    return [TAG, bay_tag(bay)]


def metadata(bay):
    """Nova server / Cinder volume metadata carrying the same identity."""
    return {TAG: '1', f'{TAG}-bay': bay_uuid(bay)}


def network_name(bay):
    return prefix(bay) + 'private'


def subnet_name(bay):
    return prefix(bay) + 'subnet'


def router_name(bay):
    return prefix(bay) + 'router'


def security_group_name(bay, role):
    return prefix(bay) + check_role(role)


def server_name(bay, role, index):
    return f'{prefix(bay)}{check_role(role)}-{check_index(index)}'


def port_name(bay, role, index):
    return server_name(bay, role, index) + '-port'


def volume_name(bay, role, index):
    return server_name(bay, role, index) + '-docker'


def owned(bay, name=None, tag_list=(), meta=None, description=None):
    """True when a resource's name, tags, metadata or description say it is
    the bay's. Only the full uuid counts."""
    tag = bay_tag(bay)
    if name and str(name).startswith(prefix(bay)):
        return True
    if tag in (tag_list or ()):
        return True
    if meta and (meta.get(f'{TAG}-bay') == bay_uuid(bay)):
        return True
    return description == tag
