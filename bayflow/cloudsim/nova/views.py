"""How a server renders for a microversion and a caller (admin-only fields)."""

import hashlib

from bayflow.cloudsim import errors, neutron
from bayflow.cloudsim.nova.common import _PROGRESS_STATUSES, _base, _ge, _links, _status


def _addresses(state, server, extended=True):
    try:
        addresses = neutron.server_addresses(state, server['id']) or {}
    except errors.ApiError:
        addresses = {}
    if extended:
        return addresses
    return {net: [{'addr': a['addr'], 'version': a['version']} for a in items]
            for net, items in addresses.items()}


def _security_group_names(state, server):
    ports, groups = state.table('ports'), state.table('security_groups')
    names = []
    for entry in server.get('_ports') or ():
        port = ports.get(entry['id'])
        for sg_id in (port or {}).get('security_groups') or ():
            name = (groups.get(sg_id) or {}).get('name', sg_id)
            if name not in names:
                names.append(name)
    return names


def _host_id(server):
    if not server.get('host'):
        return ''
    return hashlib.sha224((server['project_id'] + server['host']).encode()).hexdigest()


def _flavor_ref(sim, req, server):
    flavor = server['flavor']
    if _ge(req, 2, 47):
        return {'vcpus': flavor['vcpus'], 'ram': flavor['ram'], 'disk': flavor['disk'],
                'ephemeral': flavor['ephemeral'], 'swap': flavor['swap'],
                'original_name': flavor['original_name'],
                'extra_specs': dict(flavor['extra_specs'])}
    return {'id': flavor['id'],
            'links': [{'rel': 'bookmark', 'href': f"{_base(sim)}/flavors/{flavor['id']}"}]}


def _image_ref(sim, server):
    if not server.get('image_id'):
        return ''
    return {'id': server['image_id'],
            'links': [{'rel': 'bookmark',
                       'href': f"{_base(sim)}/images/{server['image_id']}"}]}


def _server_view(sim, req, server, show_groups=False, full=True):
    """GET /servers/{id} (``full``) or the pre-2.75 PUT response (not ``full``)."""
    state, admin = sim.state, req.context.is_admin
    status = _status(server)
    out = {
        'accessIPv4': server['access_ipv4'] or '',
        'accessIPv6': server['access_ipv6'] or '',
        'addresses': ({} if server['vm_state'] == 'building'
                      else _addresses(state, server, extended=full)),
        'created': server['created'],
        'flavor': _flavor_ref(sim, req, server),
        'hostId': _host_id(server),
        'id': server['id'],
        'image': _image_ref(sim, server),
        'links': _links(sim, 'servers', server['id']),
        'metadata': dict(server['metadata']),
        'name': server['name'],
        'status': status,
        'tenant_id': server['project_id'],
        'user_id': server['user_id'],
        'updated': server['updated'],
        'OS-DCF:diskConfig': server['disk_config'],
    }
    if status in ('ERROR', 'DELETED') and server.get('fault'):
        fault = dict(server['fault'])
        if not admin and fault.get('code') == 500:
            fault.pop('details', None)
        out['fault'] = fault
    if status in _PROGRESS_STATUSES:
        out['progress'] = server.get('progress', 0)
    if full:
        out['OS-EXT-AZ:availability_zone'] = server['availability_zone'] or ''
        out['config_drive'] = server['config_drive']
        out['key_name'] = server['key_name']
        out['OS-SRV-USG:launched_at'] = server['launched_at']
        out['OS-SRV-USG:terminated_at'] = None
        groups = _security_group_names(state, server)
        if groups:
            out['security_groups'] = [{'name': n} for n in groups]
        if admin:
            out['OS-EXT-SRV-ATTR:host'] = server['host']
            out['OS-EXT-SRV-ATTR:instance_name'] = server['instance_name']
            out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = server['node']
            if _ge(req, 2, 3):
                out.update({
                    'OS-EXT-SRV-ATTR:hostname': server['hostname'],
                    'OS-EXT-SRV-ATTR:kernel_id': '',
                    'OS-EXT-SRV-ATTR:launch_index': server['launch_index'],
                    'OS-EXT-SRV-ATTR:ramdisk_id': '',
                    'OS-EXT-SRV-ATTR:reservation_id': server['reservation_id'],
                    'OS-EXT-SRV-ATTR:root_device_name': server['root_device_name'],
                    'OS-EXT-SRV-ATTR:user_data': server['user_data'],
                })
        out['OS-EXT-STS:task_state'] = server['task_state']
        out['OS-EXT-STS:vm_state'] = server['vm_state']
        out['OS-EXT-STS:power_state'] = server['power_state']
        attached = []
        for bdm in server.get('_bdms') or ():
            if not bdm['volume_id']:
                continue                # a volume still to be created at build time
            item = {'id': bdm['volume_id']}
            if _ge(req, 2, 3):
                item['delete_on_termination'] = bdm['delete_on_termination']
            attached.append(item)
        out['os-extended-volumes:volumes_attached'] = attached
    if _ge(req, 2, 9):
        out['locked'] = bool(server['locked'])
    if full and admin and _ge(req, 2, 16):
        out['host_status'] = 'UP' if server['host'] else ''
    if _ge(req, 2, 19):
        out['description'] = server['description']
    if _ge(req, 2, 26):
        out['tags'] = list(server['tags'])
    if _ge(req, 2, 63):
        out['trusted_image_certificates'] = server['trusted_image_certificates']
    if show_groups and _ge(req, 2, 71):
        out['server_groups'] = []
    if _ge(req, 2, 73):
        out['locked_reason'] = server['locked_reason']
    if _ge(req, 2, 90) and not admin:
        out['OS-EXT-SRV-ATTR:hostname'] = server['hostname']
    if full and _ge(req, 2, 96):
        out['pinned_availability_zone'] = server['pinned_availability_zone']
    return out
