"""Load balancers: create with a VIP port in Neutron (on a subnet, a network or
a given port), show, list, update, delete (cascade), status tree, statistics
and failover."""

from bayflow.cloudsim import errors, neutron
from bayflow.cloudsim.state import new_id
from bayflow.cloudsim.octavia.common import (
    HEALTHMONITORS, LISTENERS, LOADBALANCERS, MEMBERS, POOLS, children, error, forbidden,
    get, listing, lock, mark, new_record, validation, view)

PROVIDERS = (('amphora', 'The Octavia Amphora driver.'),
             ('octavia', 'Deprecated alias of the Octavia Amphora driver.'))
_LB_KEYS = ('name', 'description', 'admin_state_up', 'vip_address', 'vip_port_id',
            'vip_subnet_id', 'vip_network_id', 'vip_qos_policy_id', 'project_id',
            'provider', 'flavor_id', 'availability_zone', 'tags', 'listeners', 'pools',
            'additional_vips', 'vip_sg_ids', 'tenant_id')


def body_of(req, kind, allowed):
    body = req.body
    if not isinstance(body, dict) or not isinstance(body.get(kind.singular), dict):
        raise error(400, f"Invalid input for field/attribute {kind.singular}. Value: "
                         f"'{body}'. Mandatory field missing.")
    spec = body[kind.singular]
    unknown = sorted(set(spec) - set(allowed))
    if unknown:
        raise error(400, f"Unknown attribute for argument {kind.singular}: "
                         f"{', '.join(unknown)}")
    for key in ('name', 'description'):
        if spec.get(key) is not None and (not isinstance(spec[key], str)
                                          or len(spec[key]) > 255):
            raise error(400, f"Invalid input for field/attribute {key}. Value: "
                             f"'{spec[key]}'. Value should have a maximum character "
                             "requirement of 255")
    if 'admin_state_up' in spec and not isinstance(spec['admin_state_up'], bool):
        raise error(400, f"Invalid input for field/attribute admin_state_up. Value: "
                         f"'{spec['admin_state_up']}'. Wrong type. Expected "
                         "'<class 'bool'>', got '<class 'str'>'")
    return spec


# -- the VIP ---------------------------------------------------------------------
def _subnet_of_network(state, network_id):
    network = state.table('networks').get(network_id)
    if network is None:
        raise error(400, f'Network {network_id} not found.')
    subnets = [state.table('subnets')[s] for s in network['subnets']
               if s in state.table('subnets')]
    if not subnets:
        raise validation('Supplied network does not contain a subnet.')
    return subnets[0]


def _vip(sim, req, spec, lb_id):
    """(port, owned): the VIP port Octavia creates (or the one given)."""
    state = sim.state
    if spec.get('vip_port_id'):
        port = state.table('ports').get(spec['vip_port_id'])
        if port is None or not (req.context.is_admin
                                or port['project_id'] == req.context.project_id):
            raise error(400, f"Port {spec['vip_port_id']} not found.")
        if not port['fixed_ips']:
            raise validation('No VIP address found on the supplied port.')
        return port, False
    if spec.get('vip_subnet_id'):
        subnet = state.table('subnets').get(spec['vip_subnet_id'])
        if subnet is None:
            raise error(400, f"Subnet {spec['vip_subnet_id']} not found.")
        if spec.get('vip_network_id') and subnet['network_id'] != spec['vip_network_id']:
            raise validation('vip_subnet_id is not on the network vip_network_id.')
    elif spec.get('vip_network_id'):
        subnet = _subnet_of_network(state, spec['vip_network_id'])
    else:
        raise validation('VIP must contain one of: vip_port_id, vip_network_id, '
                         'vip_subnet_id.')
    fixed = {'subnet_id': subnet['id']}
    if spec.get('vip_address'):
        fixed['ip_address'] = spec['vip_address']
    try:
        port = neutron.create_port(state, spec.get('project_id') or req.context.project_id,
                                   subnet['network_id'], name=f'octavia-lb-{lb_id}',
                                   security_group_ids=[], device_id=f'lb-{lb_id}',
                                   device_owner='Octavia', fixed_ips=[fixed],
                                   admin_state_up=False, is_admin=True)
    except errors.ApiError as exc:
        inner = exc.body.get('NeutronError', {})
        if inner.get('type') == 'IpAddressInUse':
            raise error(409, f"IP address {spec['vip_address']} already allocated in "
                             f"subnet {subnet['id']}.")
        raise validation(inner.get('message', 'the VIP port could not be created.'))
    return port, True


# -- handlers ----------------------------------------------------------------------
def create_loadbalancer(sim, req):
    spec = body_of(req, LOADBALANCERS, _LB_KEYS)
    provider = spec.get('provider') or 'amphora'
    if provider not in dict(PROVIDERS):
        raise error(400, f"Provider '{provider}' is not enabled.")
    if spec.get('flavor_id'):
        raise validation(f"Invalid flavor_id: {spec['flavor_id']} (no flavors are "
                         'defined).')
    if spec.get('availability_zone'):
        raise validation(f"Invalid availability zone: {spec['availability_zone']}.")
    if spec.get('listeners') or spec.get('pools'):
        raise validation('Creating listeners and pools with the load balancer (a fully '
                         'populated load balancer) is not modelled by the simulator: '
                         'create them one by one.')
    if spec.get('additional_vips'):
        raise validation('additional_vips are not modelled by the simulator.')
    lb_id = new_id()
    record = new_record(req, LOADBALANCERS, spec, lb_id)      # policy before the port
    port, owned = _vip(sim, req, spec, lb_id)
    fixed = port['fixed_ips'][0]
    record.update({
        'id': lb_id, 'vip_address': fixed['ip_address'], 'vip_port_id': port['id'],
        'vip_subnet_id': fixed['subnet_id'], 'vip_network_id': port['network_id'],
        'vip_qos_policy_id': spec.get('vip_qos_policy_id'), 'provider': provider,
        'flavor_id': '', 'availability_zone': None, 'additional_vips': [],
        'vip_vnic_type': 'normal', '_vip_owned': owned,
        '_build_error': bool(getattr(req, 'build_error', False))})
    sim.state.table('loadbalancers')[lb_id] = record
    # the amphora boots: boot_seconds
    lock(sim.state, record, fraction=1.0, status='PENDING_CREATE', new=True)
    return 201, {'loadbalancer': view(sim.state, LOADBALANCERS, record)}


def list_loadbalancers(sim, req):
    return listing(sim, req, LOADBALANCERS, sim.state.table('loadbalancers').values())


def show_loadbalancer(sim, req, lb_id):
    item = get(sim, req, LOADBALANCERS, lb_id)
    return {'loadbalancer': view(sim.state, LOADBALANCERS, item, req.args('fields'))}


def update_loadbalancer(sim, req, lb_id):
    lb = get(sim, req, LOADBALANCERS, lb_id)
    spec = body_of(req, LOADBALANCERS, LOADBALANCERS.updatable)
    lock(sim.state, lb)
    lb.update(spec)
    mark(lb, 'PENDING_UPDATE')
    return {'loadbalancer': view(sim.state, LOADBALANCERS, lb)}


def delete_loadbalancer(sim, req, lb_id):
    lb = get(sim, req, LOADBALANCERS, lb_id)
    cascade = (req.arg('cascade') or '').lower() in ('1', 'true', 'yes', 'on')
    if not cascade and (children(sim.state, lb_id, LISTENERS)
                        or children(sim.state, lb_id, POOLS)):
        raise validation(f'Cannot delete Load Balancer {lb_id} - it has children')
    lock(sim.state, lb, status='PENDING_DELETE')
    for kind in (LISTENERS, POOLS, MEMBERS, HEALTHMONITORS):
        for item in children(sim.state, lb_id, kind):
            mark(item, 'PENDING_DELETE')
    mark(lb, 'PENDING_DELETE')
    return 204, None


def loadbalancer_status(sim, req, lb_id):
    """The status tree: load balancer, listeners, their pools, members, monitor."""
    state = sim.state
    lb = get(sim, req, LOADBALANCERS, lb_id)

    def node(item, **extra):
        return {'id': item['id'], 'name': item['name'],
                'operating_status': item['operating_status'],
                'provisioning_status': item['provisioning_status'], **extra}

    def pool_node(pool):
        members = [node(m, address=m['address'], protocol_port=m['protocol_port'])
                   for m in state.table('members').values() if m['_pool'] == pool['id']]
        out = node(pool, members=members)
        monitor = state.table('healthmonitors').get(pool['healthmonitor_id'] or '')
        if monitor is not None:
            out['health_monitor'] = node(monitor, type=monitor['type'])
        return out

    listeners = []
    for listener in children(state, lb_id, LISTENERS):
        pools = [pool_node(p) for p in children(state, lb_id, POOLS)
                 if p['id'] == listener['default_pool_id']]
        listeners.append(node(listener, pools=pools))
    return {'statuses': {'loadbalancer': node(lb, listeners=listeners)}}


def loadbalancer_stats(sim, req, lb_id):
    get(sim, req, LOADBALANCERS, lb_id)
    return {'stats': {'bytes_in': 0, 'bytes_out': 0, 'active_connections': 0,
                      'total_connections': 0, 'request_errors': 0}}


def failover_loadbalancer(sim, req, lb_id):
    if not req.context.is_admin:
        raise forbidden()
    lb = get(sim, req, LOADBALANCERS, lb_id)
    lock(sim.state, lb, fraction=1.0)           # new amphorae boot
    return 202, None


def providers(sim, req):
    return {'providers': [{'name': n, 'description': d} for n, d in PROVIDERS]}


def flavors(sim, req):
    return {'flavors': [], 'flavors_links': []}


def availability_zones(sim, req):
    return {'availability_zones': [], 'availability_zones_links': []}
