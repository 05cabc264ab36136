"""POST /servers: schema checks, Nova's API-side validation and the new records."""

import base64
import binascii
import ipaddress
import random
import re
import string
import time

from bayflow.cloudsim import errors, neutron
from bayflow.cloudsim.state import isotime, new_id
from bayflow.cloudsim.nova import bdm, flavors
from bayflow.cloudsim.nova.common import (
    AZ, _POWER, _bad, _bool, _check_name, _extra_error, _field, _ge, _href_id, _is_uuid,
    _links, _positive_int, _schedule, _unexpected, _visible_image)
from bayflow.cloudsim.nova.metadata import _check_tags
from bayflow.cloudsim.nova.quotas import _check_instance_quota, _check_metadata


# -- servers: create ------------------------------------------------------------------
def _server_keys(req):
    keys = {'name', 'imageRef', 'flavorRef', 'adminPass', 'metadata', 'networks',
            'OS-DCF:diskConfig', 'accessIPv4', 'accessIPv6', 'availability_zone',
            'block_device_mapping', 'block_device_mapping_v2', 'config_drive', 'key_name',
            'min_count', 'max_count', 'return_reservation_id', 'security_groups',
            'user_data'}
    if not _ge(req, 2, 57):
        keys.add('personality')
    if _ge(req, 2, 19):
        keys.add('description')
    if _ge(req, 2, 52):
        keys.add('tags')
    if _ge(req, 2, 63):
        keys.add('trusted_image_certificates')
    if _ge(req, 2, 74):
        keys.update(('host', 'hypervisor_hostname'))
    if _ge(req, 2, 90):
        keys.add('hostname')
    return keys


def _validate_create(req, body):
    """The JSON-schema part of POST /servers (schemas/servers.py create_v2xx)."""
    if not isinstance(body, dict):
        raise _bad(f"{body!r} is not of type 'object'")
    if 'server' not in body:
        raise _bad("'server' is a required property")
    extra = sorted(set(body) - {'server', 'os:scheduler_hints',
                                'OS-SCH-HNT:scheduler_hints'})
    if extra:
        raise _bad(_unexpected(extra))
    spec = body['server']
    if not isinstance(spec, dict):
        raise _field('server', spec, f"{spec!r} is not of type 'object'")
    extra = sorted(set(spec) - _server_keys(req))
    if extra:
        raise _extra_error('server', spec, extra)
    required = ['name', 'flavorRef'] + (['networks'] if _ge(req, 2, 37) else [])
    for key in required:
        if key not in spec:
            raise _field('server', spec, f"'{key}' is a required property")
    _check_name('name', spec['name'])
    flavor_ref = spec['flavorRef']
    if not isinstance(flavor_ref, (str, int)) or isinstance(flavor_ref, bool) \
            or str(flavor_ref) == '':
        raise _field('flavorRef', flavor_ref, f"{flavor_ref!r} is not valid under any of "
                                              "the given schemas")
    image_ref = spec.get('imageRef')
    if image_ref is not None:
        if not isinstance(image_ref, str) or not (image_ref == '' or _is_uuid(image_ref)):
            raise _field('imageRef', image_ref, f"{image_ref!r} is not valid under any of "
                                                "the given schemas")
    if 'key_name' in spec and spec['key_name'] is not None:
        _check_name('key_name', spec['key_name'])
    if 'availability_zone' in spec:
        _check_name('availability_zone', spec['availability_zone'])
    if 'description' in spec and spec['description'] is not None:
        description = spec['description']
        if not isinstance(description, str) or len(description) > 255 \
                or not description.isprintable():
            raise _field('description', description,
                         f"{description!r} does not match the description format")
    if 'user_data' in spec:
        user_data = spec['user_data']
        if not isinstance(user_data, str):
            raise _field('user_data', user_data, f"{user_data!r} is not of type 'string'")
        if len(user_data) > 65535:
            raise _field('user_data', user_data, f'{user_data!r} is too long')
        try:
            base64.decodebytes(user_data.encode('utf-8'))
        except (binascii.Error, ValueError):
            raise _field('user_data', user_data, f"{user_data!r} is not a 'base64'")
    if 'config_drive' in spec:
        try:
            _bool(spec['config_drive'])
        except errors.ApiError:
            raise _field('config_drive', spec['config_drive'],
                         f"{spec['config_drive']!r} is not one of the allowed values")
    if 'OS-DCF:diskConfig' in spec and spec['OS-DCF:diskConfig'] not in ('AUTO', 'MANUAL'):
        raise _field('OS-DCF:diskConfig', spec['OS-DCF:diskConfig'],
                     f"{spec['OS-DCF:diskConfig']!r} is not one of ['AUTO', 'MANUAL']")
    if 'security_groups' in spec:
        groups = spec['security_groups']
        if not isinstance(groups, list):
            raise _field('security_groups', groups, f"{groups!r} is not of type 'array'")
        for group in groups:
            if not isinstance(group, dict):
                raise _field('security_groups', group, f"{group!r} is not of type 'object'")
            extra = sorted(set(group) - {'name'})
            if extra:
                raise _extra_error('security_groups', group, extra)
            if 'name' in group:
                _check_name('name', group['name'])
    if 'tags' in spec:
        _check_tags(spec['tags'], field='tags')
    for key in ('min_count', 'max_count'):
        if key in spec:
            _positive_int(key, spec[key])
    networks = spec.get('networks')
    if networks is not None or 'networks' in spec:
        _validate_networks(req, networks)
    return spec


def _validate_networks(req, networks):
    if isinstance(networks, str):
        if _ge(req, 2, 37) and networks in ('auto', 'none'):
            return
        raise _field('networks', networks, f"{networks!r} is not valid under any of the "
                                           "given schemas")
    if not isinstance(networks, list):
        raise _field('networks', networks, f"{networks!r} is not of type 'array'")
    allowed = {'fixed_ip', 'port', 'uuid'}
    if (2, 32) <= req.microversion <= (2, 36) or _ge(req, 2, 42):
        allowed.add('tag')
    for item in networks:
        if not isinstance(item, dict):
            raise _field('networks', item, f"{item!r} is not of type 'object'")
        extra = sorted(set(item) - allowed)
        if extra:
            raise _extra_error('networks', item, extra)
        port = item.get('port')
        if port is not None and not _is_uuid(port):
            raise _field('port', port, f"{port!r} is not a 'uuid'")
        if 'uuid' in item and _ge(req, 2, 37) and not _is_uuid(item['uuid']):
            raise _field('uuid', item['uuid'], f"{item['uuid']!r} is not a 'uuid'")
        if 'fixed_ip' in item:
            try:
                ipaddress.ip_address(item['fixed_ip'])
            except (TypeError, ValueError):
                raise _field('fixed_ip', item['fixed_ip'],
                             f"{item['fixed_ip']!r} is not a 'ip-address'")


def _visible_network(state, ctx, network_id):
    try:
        network = neutron.get_network(state, network_id)
    except errors.ApiError:
        return None
    if not network:
        return None
    if ctx.is_admin or network.get('project_id') == ctx.project_id \
            or network.get('shared') or network.get('router:external'):
        return network
    return None


def _available_networks(state, project_id):
    """Nova's auto choice: the project's own non-shared networks plus shared ones."""
    return [n for n in state.table('networks').values()
            if (n.get('project_id') == project_id and not n.get('shared'))
            or n.get('shared')]


def _resolve_security_groups(state, project_id, names):
    ids = []
    for name in names:
        try:
            group = neutron.find_security_group(state, project_id, name)
        except errors.ApiError as exc:
            if exc.status == 409:
                raise errors.nova(409, f"Multiple security groups found matching '{name}'. "
                                       "Use an ID to be more specific.")
            group = None
        if not group:
            raise _bad(f'Security group {name} not found.')
        if group['id'] not in ids:
            ids.append(group['id'])
    return ids


def _requested_networks(sim, req, spec, max_count):
    """Nova's network checks at the API (validate_networks): a list of
    {network_id, port_id, fixed_ip, tag} to allocate when the build gets there."""
    state, ctx = sim.state, req.context
    networks = spec.get('networks')
    if networks == 'none':
        return []
    requests = []
    if networks is None or networks == 'auto':
        available = _available_networks(state, ctx.project_id)
        if len(available) > 1:
            raise errors.nova(409, 'Multiple possible networks found, use a Network ID '
                                   'to be more specific.')
        if not available:
            if networks == 'auto':
                raise _bad(f'Unable to automatically allocate a network for project '
                           f'{ctx.project_id}')
            return []
        requests.append({'network_id': available[0]['id'], 'port_id': None,
                         'fixed_ip': None, 'tag': None})
        checked = available
    else:
        checked = []
        seen_ports = []
        for item in networks:
            port_id = item.get('port')
            fixed_ip = item.get('fixed_ip')
            if port_id:
                if port_id in seen_ports:
                    raise _bad(f"Port ID '{port_id}' was specified twice: you cannot "
                               "attach a port multiple times.")
                if fixed_ip is not None:
                    raise _bad(f"Specified Fixed IP '{fixed_ip}' cannot be used with port "
                               f"'{port_id}': the two cannot be specified together.")
                seen_ports.append(port_id)
                requests.append({'network_id': None, 'port_id': port_id, 'fixed_ip': None,
                                 'tag': item.get('tag')})
            else:
                if 'uuid' not in item:
                    raise _bad("Bad network format: missing 'uuid'")
                if not _is_uuid(item['uuid']):
                    raise _bad('Bad networks format: network uuid is not in proper format '
                               f"({item['uuid']})")
                requests.append({'network_id': item['uuid'], 'port_id': None,
                                 'fixed_ip': fixed_ip, 'tag': item.get('tag')})
        if max_count > 1:
            if any(r['port_id'] for r in requests):
                raise _bad('Unable to launch multiple instances with a single configured '
                           'port ID. Please launch your instance one by one with '
                           'different ports.')
            if any(r['fixed_ip'] for r in requests):
                raise _bad('The fixed IP associated with a network can only be used when '
                           'launching a single instance.')
        ports = state.table('ports')
        missing = []
        for r in requests:
            if r['port_id']:
                port = ports.get(r['port_id'])
                if port is None or not (ctx.is_admin or port.get('project_id')
                                        == ctx.project_id):
                    raise _bad(f"Port id {r['port_id']} could not be found.")
                if port.get('device_id'):
                    raise errors.nova(409, f"Port {r['port_id']} is still in use.")
                if not port.get('fixed_ips'):
                    raise _bad(f"Port {r['port_id']} requires a FixedIP in order to be used.")
                network = _visible_network(state, ctx, port.get('network_id'))
                if network is not None:
                    checked.append(network)
                continue
            network = _visible_network(state, ctx, r['network_id'])
            if network is None:
                missing.append(r['network_id'])
                continue
            if not network.get('subnets'):
                raise _bad(f"Network {r['network_id']} requires a subnet in order to boot "
                           "instances on.")
            if r['fixed_ip']:
                for port in ports.values():
                    if port.get('network_id') != r['network_id']:
                        continue
                    if any(ip.get('ip_address') == r['fixed_ip']
                           for ip in port.get('fixed_ips') or ()):
                        raise _bad(f"Fixed IP address {r['fixed_ip']} is already in use on "
                                   f"instance {port.get('device_id') or ''}.")
            checked.append(network)
        if missing:
            raise _bad(f"Network {', '.join(dict.fromkeys(missing))} could not be found.")
    if not ctx.is_admin:
        for network in checked:
            if network.get('router:external') and not network.get('shared'):
                raise errors.nova(403, 'It is not allowed to create an interface on '
                                       f"external network {network['id']}")
    return requests


def _hostname(name, server_id):
    host = re.sub(r'[ _]', '-', name.lower())
    host = re.sub(r'[^a-z0-9.-]', '', host).strip('.-')[:63].rstrip('.-')
    return host or f'server-{server_id}'


def _password(length=12):
    chars = string.ascii_letters + string.digits
    return ''.join(random.choice(chars) for _ in range(length))


def create_server(sim, req):
    state, ctx = sim.state, req.context
    spec = _validate_create(req, req.body)
    min_count = _positive_int('min_count', spec.get('min_count', 1))
    max_count = _positive_int('max_count', spec.get('max_count', min_count))
    if min_count > max_count:
        raise _bad('min_count must be <= max_count')
    if spec.get('personality'):
        raise _bad('Personality files are not modelled by the simulator.')
    az = spec.get('availability_zone')
    if az is not None and az.split(':')[0] not in (AZ, ''):
        raise _bad('The requested availability zone is not available')
    image_id = _href_id(spec['imageRef']) if spec.get('imageRef') else None
    if not image_id and not (spec.get('block_device_mapping')
                             or spec.get('block_device_mapping_v2')):
        raise _bad('Missing imageRef attribute')
    flavor_id = _href_id(spec['flavorRef'])
    flavor = state.table('flavors').get(flavor_id)
    if flavor is None or not flavors.usable(flavor, ctx) or flavor['disabled']:
        raise _bad(f'Flavor {flavor_id} could not be found.')
    image = None
    if image_id:
        image = _visible_image(state, ctx, image_id)
        if image is None:
            raise _bad('Can not find requested image')
        if image.get('status') != 'active':
            raise _bad(f'Image {image_id} is not active.')
    mappings, boot_image = bdm.parse(sim, req, spec, image_id, flavor, max_count)
    image = image or boot_image or {}
    if flavor['ram'] < int(image.get('min_ram') or 0):
        raise _bad("Flavor's memory is too small for requested image.")
    if flavor['disk'] and not bdm.volume_backed(mappings):
        disk_bytes = flavor['disk'] * 1024 ** 3
        if int(image.get('size') or 0) > disk_bytes:
            raise _bad("Flavor's disk is too small for requested image. Flavor disk is "
                       f"{disk_bytes} bytes, image is {int(image['size'])} bytes.")
        if int(image.get('min_disk') or 0) * 1024 ** 3 > disk_bytes:
            raise _bad("Flavor's disk is smaller than the minimum size specified in image "
                       f"metadata. Flavor disk is {disk_bytes} bytes, minimum size is "
                       f"{int(image['min_disk']) * 1024 ** 3} bytes.")
    key_name = spec.get('key_name')
    if key_name is not None and f'{ctx.user_id}/{key_name}' not in state.table('keypairs'):
        raise _bad('Invalid key_name provided.')
    metadata = spec.get('metadata', {})
    _check_metadata(state, ctx.project_id, metadata)
    groups = spec.get('security_groups')
    sg_names = list(dict.fromkeys(g['name'] for g in groups or () if g.get('name')))
    sg_ids = _resolve_security_groups(state, ctx.project_id, sg_names) if groups else None
    requests = _requested_networks(sim, req, spec, max_count)
    count = max_count
    while True:          # nova boots as many as the quota allows, at least min_count
        try:
            _check_instance_quota(state, ctx.project_id, flavor, count)
            break
        except errors.ApiError:
            if count <= min_count:
                _check_instance_quota(state, ctx.project_id, flavor, max_count)
            count -= 1
    max_count = count

    now = time.time()
    servers = state.table('servers')
    seq = 1 + max((s.get('_seq', 0) for s in servers.values()), default=0)
    reservation = 'r-' + ''.join(random.choice(string.ascii_lowercase + string.digits)
                                 for _ in range(8))
    password = spec.get('adminPass') or _password()
    config_drive = 'True' if spec.get('config_drive') not in (None, '') \
        and _bool(spec['config_drive']) else ''
    description = spec.get('description') if _ge(req, 2, 19) else spec['name']
    created = []
    for index in range(max_count):
        server_id = new_id()
        name = spec['name'] if max_count == 1 else f"{spec['name']}-{index + 1}"
        server = {
            'id': server_id, 'name': name, 'description': description,
            'project_id': ctx.project_id, 'tenant_id': ctx.project_id,
            'user_id': ctx.user_id, 'status': 'BUILD', 'vm_state': 'building',
            'task_state': 'scheduling', 'power_state': _POWER['nostate'],
            'tags': list(dict.fromkeys(spec.get('tags') or ())),
            'metadata': dict(metadata),
            'flavor': {'id': flavor['id'], 'original_name': flavor['name'],
                       'vcpus': flavor['vcpus'], 'ram': flavor['ram'], 'disk': flavor['disk'],
                       'ephemeral': flavor['ephemeral'], 'swap': flavor['swap'],
                       'extra_specs': dict(flavor['extra_specs'])},
            'image_id': image_id, 'key_name': key_name,
            'created': isotime(now), 'updated': isotime(now), 'launched_at': None,
            'availability_zone': az.split(':')[0] if az else None,
            'pinned_availability_zone': az.split(':')[0] if az else None,
            'host': None, 'node': None, 'hostname': _hostname(name, server_id),
            'instance_name': f'instance-{seq + index:08x}', 'launch_index': index,
            'reservation_id': reservation, 'root_device_name': None,
            'config_drive': config_drive, 'disk_config': spec.get('OS-DCF:diskConfig',
                                                                   'MANUAL'),
            'access_ipv4': spec.get('accessIPv4'), 'access_ipv6': spec.get('accessIPv6'),
            'locked': False, 'locked_by': None, 'locked_reason': None, 'fault': None,
            'user_data': spec.get('user_data'), 'trusted_image_certificates': None,
            'security_groups': [{'name': n} for n in (sg_names or ['default'])],
            'progress': 0,
            '_seq': seq + index, '_created_ts': now, '_updated_ts': now,
            '_boot': max(float(state.boot_seconds), 0.0), '_build_error': bool(
                req.build_error), '_requests': [dict(r) for r in requests],
            '_sg_ids': sg_ids, '_ports': [], '_bdms': bdm.server_bdms(mappings),
            '_admin': bool(ctx.is_admin),
        }
        bdm.reserve(state, server['_bdms'])
        servers[server_id] = server
        _schedule(state, server, 'scheduled', now + server['_boot'] / 3)
        created.append(server)
    if spec.get('return_reservation_id'):
        return 202, {'reservation_id': reservation}
    first = created[0]
    links = _links(sim, 'servers', first['id'])
    body = {'server': {
        'id': first['id'], 'links': links, 'OS-DCF:diskConfig': first['disk_config'],
        'security_groups': groups if groups is not None else [{'name': 'default'}],
        'adminPass': password}}
    return 202, body, {'Location': links[0]['href']}
