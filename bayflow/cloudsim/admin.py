"""``/_sim/``: what exists, what was called, faults and reset (loopback only)."""

from bayflow.cloudsim import errors
from bayflow.cloudsim.state import public

LISTED = ('networks', 'subnets', 'routers', 'ports', 'floatingips', 'security_groups',
          'security_group_rules', 'servers', 'volumes', 'keypairs', 'images', 'flavors',
          'projects', 'users', 'roles', 'role_assignments', 'loadbalancers', 'listeners',
          'pools', 'members', 'healthmonitors')


def resources(sim, req):
    return {name: [public(r) for r in sim.state.table(name).values()] for name in LISTED}


def calls(sim, req):
    return sim.calls.render()


def add_fault(sim, req):
    try:
        rule = sim.faults.add(req.body)
    except (TypeError, ValueError) as exc:
        raise errors.keystone(400, f'Invalid fault rule: {exc}')
    return 201, {'id': rule.id}


def list_faults(sim, req):
    return {'faults': sim.faults.render()}


def clear_faults(sim, req):
    sim.faults.clear()
    return 204, None


def reset(sim, req):
    sim.reset()
    return 204, None


def expire_tokens(sim, req):
    sim.expire_tokens()
    return 204, None


def register(router, state):
    for method, path, handler in (
            ('GET', '/_sim/resources', resources),
            ('GET', '/_sim/calls', calls),
            ('POST', '/_sim/faults', add_fault),
            ('GET', '/_sim/faults', list_faults),
            ('DELETE', '/_sim/faults', clear_faults),
            ('POST', '/_sim/reset', reset),
            ('POST', '/_sim/tokens/expire', expire_tokens)):
        router.add(method, path, handler, 'admin', auth=False)
