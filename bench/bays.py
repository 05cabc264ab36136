"""What the bay benchmarks share: a simulator process, bayflow in a throw-away
home, and the plain sequential openstacksdk script a user would write instead.

Request loops are bounded: every wait polls with a deadline.
"""

import contextlib
import os
import sys
import tempfile
import time
import warnings

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
warnings.filterwarnings('ignore')

import openstack  # noqa: E402

from bayflow.cloudsim import SimProcess  # noqa: E402

POLL = 0.05          # how often both bayflow and the script look at the cloud
DEADLINE = 600       # seconds any one wait may take


@contextlib.contextmanager
def simulator(latency_ms, boot_seconds):
    """A simulator process with the demo project's quotas lifted (50 servers)."""
    with tempfile.TemporaryDirectory(prefix='bayflow-bench-') as home:
        sim = SimProcess(latency_ms=latency_ms, boot_seconds=boot_seconds)
        sim.start()
        try:
            path = os.path.join(home, 'clouds.yaml')
            with open(path, 'w') as out:
                yaml.safe_dump(sim.clouds_yaml(), out)
            _lift_quotas(sim)  # before OS_CLOUD is set: connect() would merge it in
            os.environ.update(OS_CLIENT_CONFIG_FILE=path, OS_CLOUD='sim')
            sim.home = home
            yield sim
        finally:
            sim.stop()


def connect(sim, cloud='sim'):
    cfg = sim.clouds_yaml()['clouds'][cloud]
    return openstack.connect(**cfg['auth'], region_name=cfg['region_name'])


def _lift_quotas(sim):
    admin = connect(sim, 'sim-admin')
    project = admin.identity.find_project('demo')
    admin.network.update_quota(project.id, security_groups=-1, security_group_rules=-1,
                               routers=-1, floating_ips=-1, networks=-1, ports=-1, subnets=-1)
    admin.compute.update_quota_set(project.id, instances=-1, cores=-1, ram=-1)
    admin.block_storage.update_quota_set(project.id, volumes=-1, gigabytes=-1)
    admin.close()


# -- bayflow, in this process, on its embedded default --------------------------
@contextlib.contextmanager
def bayflow_service(sim):
    from bayflow import config, service
    from bayflow.drivers import cloud
    home = tempfile.mkdtemp(prefix='home-', dir=sim.home)
    os.environ['BAYFLOW_HOME'] = home
    conf = config.CONF
    conf.set_override('state_path', home)
    conf.set_override('wait_interval', POLL, group='cloud')
    cloud.set_provider(None)
    svc = service.Service(conf)
    svc.create_baymodel({
        'name': 'k8s', 'coe': 'kubernetes', 'image_id': 'fedora-21-atomic-5',
        'keypair_id': 'testkey', 'external_network_id': 'public',
        'dns_nameserver': '8.8.8.8', 'flavor_id': 'm1.small', 'docker_volume_size': 5,
        'network_driver': 'flannel'})
    try:
        yield svc
    finally:
        svc.close()


def bayflow_create(svc, name, node_count):
    t0 = time.perf_counter()
    bay = svc.create_bay({'name': name, 'baymodel_id': 'k8s', 'node_count': node_count},
                         wait=True)
    elapsed = time.perf_counter() - t0
    assert bay['status'] == 'CREATE_COMPLETE', bay
    return elapsed, bay


def bayflow_delete(svc, name):
    t0 = time.perf_counter()
    bay = svc.delete_bay(name, wait=True)
    assert bay['status'] == 'DELETE_COMPLETE', bay
    return time.perf_counter() - t0


# -- the script a user would write: the same calls, one after another ---------------
def script_create(conn, name, node_count, dns='8.8.8.8'):
    """The same resources bayflow builds, with plain sequential openstacksdk calls."""
    t0 = time.perf_counter()
    image = conn.image.find_image('fedora-21-atomic-5')
    flavor = conn.compute.find_flavor('m1.small')
    public = conn.network.find_network('public')
    net = conn.network.create_network(name=f'{name}-net')
    subnet = conn.network.create_subnet(network_id=net.id, cidr='10.0.0.0/24',
                                        ip_version=4, dns_nameservers=[dns])
    router = conn.network.create_router(name=f'{name}-router')
    conn.network.update_router(router, external_gateway_info={'network_id': public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    groups = {}
    for role, ports in (('master', (22, 6443, 2379, 2380)), ('node', (22, 10250))):
        group = conn.network.create_security_group(name=f'{name}-{role}')
        for port in ports:
            conn.network.create_security_group_rule(
                security_group_id=group.id, direction='ingress', protocol='tcp',
                port_range_min=port, port_range_max=port)
        groups[role] = group
    made = []
    for role, count in (('master', 1), ('node', node_count)):
        for i in range(count):
            port = conn.network.create_port(network_id=net.id, name=f'{name}-{role}-{i}',
                                            security_group_ids=[groups[role].id])
            fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
            volume = conn.block_storage.create_volume(size=5, name=f'{name}-{role}-{i}')
            server = conn.compute.create_server(
                name=f'{name}-{role}-{i}', image_id=image.id, flavor_id=flavor.id,
                key_name='testkey', networks=[{'port': port.id}], user_data='')
            made.append({'port': port, 'fip': fip, 'volume': volume, 'server': server})
    for item in made:
        _until(lambda: conn.compute.get_server(item['server']).status == 'ACTIVE')
    for item in made:
        _until(lambda: conn.block_storage.get_volume(item['volume']).status == 'available')
        conn.compute.create_volume_attachment(item['server'], volume_id=item['volume'].id)
    for item in made:
        _until(lambda: conn.block_storage.get_volume(item['volume']).status == 'in-use')
    return time.perf_counter() - t0, {'net': net, 'subnet': subnet, 'router': router,
                                      'groups': groups, 'made': made}


def script_delete(conn, built):
    t0 = time.perf_counter()
    for item in built['made']:
        conn.compute.delete_server(item['server'])
    for item in built['made']:
        _until(lambda: conn.compute.find_server(item['server'].id) is None)
    for item in built['made']:
        conn.network.delete_ip(item['fip'])
        _until(lambda: conn.block_storage.get_volume(item['volume']).status == 'available')
        conn.block_storage.delete_volume(item['volume'])
    conn.network.remove_interface_from_router(built['router'], subnet_id=built['subnet'].id)
    conn.network.update_router(built['router'], external_gateway_info={})
    conn.network.delete_router(built['router'])
    for item in built['made']:
        conn.network.delete_port(item['port'])
    conn.network.delete_subnet(built['subnet'])
    conn.network.delete_network(built['net'])
    for group in built['groups'].values():
        conn.network.delete_security_group(group)
    return time.perf_counter() - t0


def _until(predicate):
    deadline = time.monotonic() + DEADLINE
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError('the cloud did not settle in time')
        time.sleep(POLL)
