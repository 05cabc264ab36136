"""Octavia v2 (``load-balancer``): load balancers with a VIP port in Neutron,
listeners, pools, members and health monitors, with Octavia's provisioning
statuses (PENDING_* for a share of ``--boot-seconds``, then ACTIVE), the 409
while a load balancer is pending, cascade delete, status trees and the wsme
error bodies (``{"faultcode", "faultstring", "debuginfo"}``).

Modules: ``common`` (kinds, views, the state machine, listing),
``loadbalancers`` and ``children`` (listeners, pools, members, monitors).
openstacksdk appends ``v2.0`` to the catalog URL; Octavia serves ``/v2`` and
``/v2.0`` alike, and so does the simulator.
"""

from functools import partial

from bayflow.cloudsim.octavia import children as ch
from bayflow.cloudsim.octavia import loadbalancers as lbs
from bayflow.cloudsim.octavia.common import HEALTHMONITORS, LISTENERS, POOLS, advance

LATEST_MINOR = 27


def versions(sim, req):
    href = f'{sim.url}/load-balancer/v2'
    return {'versions': [{'id': f'v2.{minor}', 'updated': '2023-04-11T00:00:00Z',
                          'status': 'CURRENT' if minor == LATEST_MINOR else 'SUPPORTED',
                          'links': [{'href': href, 'rel': 'self'}]}
                         for minor in range(LATEST_MINOR + 1)]}


def register(router, state):
    state.on_advance(advance)
    router.add('GET', '/load-balancer', versions, 'load-balancer', auth=False)
    member = '/pools/{pool_id}/members/{member_id}'
    routes = [
        ('GET', '/loadbalancers', lbs.list_loadbalancers),
        ('POST', '/loadbalancers', lbs.create_loadbalancer),
        ('GET', '/loadbalancers/{lb_id}', lbs.show_loadbalancer),
        ('PUT', '/loadbalancers/{lb_id}', lbs.update_loadbalancer),
        ('DELETE', '/loadbalancers/{lb_id}', lbs.delete_loadbalancer),
        ('GET', '/loadbalancers/{lb_id}/status', lbs.loadbalancer_status),
        ('GET', '/loadbalancers/{lb_id}/stats', lbs.loadbalancer_stats),
        ('PUT', '/loadbalancers/{lb_id}/failover', lbs.failover_loadbalancer),
        ('POST', '/listeners', ch.create_listener),
        ('POST', '/pools', ch.create_pool),
        ('POST', '/healthmonitors', ch.create_healthmonitor),
        ('GET', '/pools/{pool_id}/members', ch.list_members),
        ('POST', '/pools/{pool_id}/members', ch.create_member),
        ('GET', member, partial(ch.member_call, call=ch.show)),
        ('PUT', member, partial(ch.member_call, call=ch.update)),
        ('DELETE', member, partial(ch.member_call, call=ch.delete)),
        ('GET', '/providers', lbs.providers),
        ('GET', '/flavors', lbs.flavors),
        ('GET', '/availabilityzones', lbs.availability_zones)]
    for kind in (LISTENERS, POOLS, HEALTHMONITORS):
        item = f'/{kind.collection}/{{rid}}'
        routes += [('GET', f'/{kind.collection}', partial(ch.listed, kind=kind)),
                   ('GET', item, partial(ch.show, kind=kind)),
                   ('PUT', item, partial(ch.update, kind=kind)),
                   ('DELETE', item, partial(ch.delete, kind=kind))]
    for prefix in ('/load-balancer/v2', '/load-balancer/v2.0'):
        for method, path, handler in routes:
            router.add(method, prefix + '/lbaas' + path, handler, 'load-balancer')
