"""Every ensure_* call of the driver as a scenario: what it needs first, the
call itself (not memoised: tests call it twice), how many of its resources
exist, and the request a fault rule should hit."""

from bayflow.drivers.cloud import naming

# Master rules reference the minion group and back, as Magnum's templates do.
RULES = {
    'master': [
        {'direction': 'ingress', 'protocol': 'tcp', 'port_range_min': 6443,
         'port_range_max': 6443, 'remote_ip_prefix': None, 'remote_role': None},
        {'direction': 'ingress', 'protocol': 'tcp', 'port_range_min': 1,
         'port_range_max': 65535, 'remote_ip_prefix': None, 'remote_role': 'minion'},
    ],
    'minion': [
        {'direction': 'ingress', 'protocol': 'icmp', 'remote_ip_prefix': '0.0.0.0/0'},
        {'direction': 'ingress', 'protocol': 'udp', 'port_range_min': 1,
         'port_range_max': 65535, 'remote_role': 'master'},
    ],
}


class Scenario:
    def __init__(self, kind, method, path, prepare, call, count, failure):
        self.kind, self.method, self.path = kind, method, path
        self._prepare, self._call, self._count = prepare, call, count
        self.failure = failure       # parts -> how its CloudError message starts

    def prepare(self, parts):
        self._prepare(parts)

    def call(self, parts):
        return self._call(parts)

    def count(self, parts, admin):
        return self._count(parts, admin)

    def __repr__(self):
        return self.kind


def _named(table, name_of):
    return lambda parts, admin: len(admin.named(table, name_of(parts.uuid)))


def _router_ports(owner):
    def count(parts, admin):
        return len([p for p in admin.resources('ports') if p['device_owner'] == owner
                    and p['device_id'] == parts.router()['id']])
    return count


def _group_rules(parts, admin):
    groups = {g['id'] for g in parts.groups().values()}
    return len([r for r in admin.resources('security_group_rules')
                if r['security_group_id'] in groups])


def _group_count(parts, admin):
    return sum(len(admin.named('security_groups', naming.security_group_name(parts.uuid, r)))
               for r in ('master', 'minion'))


def _fips(parts, admin):
    return len([f for f in admin.resources('floatingips')
                if f['port_id'] == parts.port()['id']])


def _attachments(parts, admin):
    (volume,) = [v for v in admin.resources('volumes') if v['id'] == parts.volume()['id']]
    return len(volume['attachments'])


def _nothing(parts):
    pass


SCENARIOS = [
    Scenario('network', 'POST', r'/v2.0/networks$', _nothing,
             lambda p: p.cloud.ensure_network(p.uuid), _named('networks', naming.network_name),
             lambda p: f'cannot create network bf-{p.uuid}-private: '),
    Scenario('subnet', 'POST', r'/v2.0/subnets$', lambda p: p.network(),
             lambda p: p.cloud.ensure_subnet(p.uuid, p.network()['id'], '10.0.0.0/24',
                                             '8.8.8.8'),
             _named('subnets', naming.subnet_name),
             lambda p: f'cannot create subnet bf-{p.uuid}-subnet: '),
    Scenario('router', 'POST', r'/v2.0/routers$', _nothing,
             lambda p: p.cloud.ensure_router(p.uuid), _named('routers', naming.router_name),
             lambda p: f'cannot create router bf-{p.uuid}-router: '),
    Scenario('gateway', 'PUT', r'/v2.0/routers/[^/]+$', lambda p: (p.router(), p.ext()),
             lambda p: p.cloud.ensure_router_gateway(p.router()['id'], p.ext()),
             _router_ports('network:router_gateway'),
             lambda p: f"cannot set router gateway {p.router()['id']}: "),
    Scenario('interface', 'PUT', r'/add_router_interface$',
             lambda p: (p.router(), p.subnet()),
             lambda p: p.cloud.ensure_router_interface(p.router()['id'], p.subnet()['id']),
             _router_ports('network:router_interface'),
             lambda p: f"cannot add router interface {p.router()['id']} on subnet "
                       f"{p.subnet()['id']}: "),
    Scenario('security groups', 'POST', r'/v2.0/security-groups$', _nothing,
             lambda p: p.cloud.ensure_security_groups(p.uuid, RULES), _group_count,
             lambda p: f'cannot create security group bf-{p.uuid}-master: '),
    Scenario('security group rules', 'POST', r'/v2.0/security-group-rules$',
             lambda p: [p.cloud.ensure_security_group(p.uuid, r) for r in ('master', 'minion')],
             lambda p: p.cloud.ensure_security_groups(p.uuid, RULES), _group_rules,
             # the group's rules go in one bulk POST, named together
             lambda p: f'cannot create security group rules bf-{p.uuid}-master ingress tcp '
                       f'6443-6443 from any; ingress tcp 1-65535 from '
                       f"{p.cloud.ensure_security_group(p.uuid, 'minion')['id']}: "),
    Scenario('port', 'POST', r'/v2.0/ports$', lambda p: (p.subnet(), p.groups()),
             lambda p: p.cloud.ensure_port(p.uuid, 'master', 0, p.network()['id'],
                                           p.subnet()['id'], [p.groups()['master']],
                                           ['10.100.0.0/16']),
             _named('ports', lambda b: naming.port_name(b, 'master', 0)),
             lambda p: f'cannot create port bf-{p.uuid}-master-0-port: '),
    Scenario('floating ip', 'POST', r'/v2.0/floatingips$',
             lambda p: (p.port(), p.gateway(), p.interface()),
             lambda p: p.cloud.ensure_floating_ip(p.uuid, p.port()['id'], p.ext()), _fips,
             lambda p: f"cannot create floating IP of bay {p.uuid} on port "
                       f"{p.port()['id']}: "),
    Scenario('volume', 'POST', r'/volumes$', _nothing,
             lambda p: p.cloud.ensure_volume(p.uuid, 'master', 0, 5),
             _named('volumes', lambda b: naming.volume_name(b, 'master', 0)),
             lambda p: f'cannot create volume bf-{p.uuid}-master-0-docker: '),
    Scenario('server', 'POST', r'/servers$', lambda p: (p.port(), p.image()),
             lambda p: p.cloud.ensure_server(p.uuid, 'master', 0, p.image(), '2', 'testkey',
                                             p.port()['id'], user_data='#cloud-config\n'),
             _named('servers', lambda b: naming.server_name(b, 'master', 0)),
             lambda p: f'cannot create server bf-{p.uuid}-master-0: '),
    Scenario('attachment', 'POST', r'/os-volume_attachments$',
             lambda p: (p.active_server(), p.volume()),
             lambda p: p.cloud.ensure_volume_attachment(p.server()['id'], p.volume()['id']),
             _attachments,
             lambda p: f"cannot attach volume {p.volume()['id']} to server "
                       f"{p.server()['id']}: "),
]

EXPECTED = {'security group rules': 8, 'security groups': 2}
