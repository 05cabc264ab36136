"""Nova's api-ref samples (nova 34.0.0 ``doc/api_samples``) against the
simulator's responses at the matching microversion: key sets and value types.

The samples come from the PyPI sdist at test time (conftest ``nova_samples``).
Every ``ignore`` names a field the simulator deliberately does not model, with
the reason next to it.
"""

import pytest
import requests

from tests.functional.cloudsim.conftest import Raw, shape_diff

CIRROS = 'cirros-0.6.2-x86_64-disk'
SAMPLE_METADATA = {'My Server Name': 'Apache1'}     # the samples' metadata key


def call(sim, conn, method, path, version, **kwargs):
    response = Raw(sim, conn, '/compute/v2.1', f'compute {version}')(method, path, **kwargs)
    assert response.status_code < 300, response.text
    return response


def check(sample, actual, ignore=()):
    problems = shape_diff(sample, actual, ignore=ignore)
    assert problems == [], '\n'.join(problems)


@pytest.fixture
def world(sim, conn):
    """An ACTIVE server on network ``private`` with the samples' metadata, tags
    and an attached volume, plus a second server (so list pages are full)."""
    net = conn.network.create_network(name='private')
    conn.network.create_subnet(network_id=net.id, cidr='192.168.1.0/24', ip_version=4)
    image = conn.image.find_image(CIRROS, ignore_missing=False)
    servers = []
    for name in ('new-server-test', 'second'):
        server = conn.compute.create_server(
            name=name, image_id=image.id, flavor_id='1', networks=[{'uuid': net.id}],
            metadata=SAMPLE_METADATA, tags=['tag1', 'tag2'])
        servers.append(conn.compute.wait_for_server(server, interval=0.05, wait=15))
    volume = conn.block_storage.create_volume(size=1, name='data')
    volume = conn.block_storage.wait_for_status(volume, 'available', interval=0.05,
                                                wait=15)
    conn.compute.create_volume_attachment(servers[0], volume_id=volume.id)
    return {'server': servers[0], 'image': image, 'network': net, 'volume': volume}


# -- versions -------------------------------------------------------------------
def test_versions(sim, nova_samples):
    check(nova_samples('versions/versions-get-resp.json'),
          requests.get(f'{sim.url}/compute/', timeout=10).json())
    check(nova_samples('versions/v21-version-get-resp.json'),
          requests.get(f'{sim.url}/compute/v2.1', timeout=10).json())


# -- servers ----------------------------------------------------------------------
def test_server_create_response(sim, conn, nova_samples, world):
    body = {'server': {'name': 'new-server-test', 'imageRef': world['image'].id,
                       'flavorRef': '1', 'networks': [{'uuid': world['network'].id}],
                       'metadata': SAMPLE_METADATA}}
    response = call(sim, conn, 'POST', '/servers', '2.96', json=body)
    assert response.status_code == 202
    check(nova_samples('servers/v2.94/server-create-resp.json'), response.json())


def test_server_get(sim, conn, nova_samples, world):
    actual = call(sim, conn, 'GET', f"/servers/{world['server'].id}", '2.96').json()
    check(nova_samples('servers/v2.96/server-get-resp.json'), actual)


def test_servers_detail_and_list(sim, conn, nova_samples, world):
    detail = call(sim, conn, 'GET', '/servers/detail?limit=1', '2.96').json()
    check(nova_samples('servers/v2.96/servers-details-resp.json'), detail)
    brief = call(sim, conn, 'GET', '/servers?limit=1', '2.96').json()
    check(nova_samples('servers/v2.96/servers-list-resp.json'), brief)


def test_server_update(sim, conn, nova_samples, world):
    actual = call(sim, conn, 'PUT', f"/servers/{world['server'].id}", '2.96',
                  json={'server': {'name': 'new-server-test'}}).json()
    check(nova_samples('servers/v2.96/server-update-resp.json'), actual)


def test_server_as_admin_at_older_microversions(sim, admin_conn, nova_samples, world):
    # The 2.47 and 2.75 samples were recorded as admin (OS-EXT-SRV-ATTR:*, host_status).
    server_id = world['server'].id
    check(nova_samples('servers/v2.47/server-get-resp.json'),
          call(sim, admin_conn, 'GET', f'/servers/{server_id}', '2.47').json(),
          ignore=('hw:numa_nodes',))      # an extra spec of the sample's flavor: content
    check(nova_samples('servers/v2.75/server-update-resp.json'),
          call(sim, admin_conn, 'PUT', f'/servers/{server_id}', '2.75',
               json={'server': {'name': 'new-server-test'}}).json())
    check(nova_samples('servers/v2.3/server-get-resp.json'),
          call(sim, admin_conn, 'GET', f'/servers/{server_id}', '2.3').json())
    check(nova_samples('servers/server-get-resp.json'),
          call(sim, admin_conn, 'GET', f'/servers/{server_id}', '2.1').json())


def test_server_tags_and_metadata(sim, conn, nova_samples, world):
    server_id = world['server'].id
    check(nova_samples('os-server-tags/v2.26/server-tags-index-resp.json'),
          call(sim, conn, 'GET', f'/servers/{server_id}/tags', '2.26').json())
    check(nova_samples('os-server-tags/v2.26/server-tags-put-all-resp.json'),
          call(sim, conn, 'PUT', f'/servers/{server_id}/tags', '2.26',
               json={'tags': ['tag1', 'tag2']}).json())
    check(nova_samples('os-server-tags/v2.26/server-tags-show-details-resp.json'),
          call(sim, conn, 'GET', f'/servers/{server_id}', '2.26').json())
    check(nova_samples('server-metadata/server-metadata-all-resp.json'),
          call(sim, conn, 'POST', f'/servers/{server_id}/metadata', '2.1',
               json={'metadata': {'foo': 'Foo Value'}}).json(),
          ignore=('My Server Name',))           # key names, not shapes
    check(nova_samples('server-metadata/server-metadata-resp.json'),
          call(sim, conn, 'GET', f'/servers/{server_id}/metadata/foo', '2.1').json())


def test_volume_attachments(sim, conn, nova_samples, world):
    server_id, volume_id = world['server'].id, world['volume'].id
    check(nova_samples('os-volume_attachments/v2.89/list-volume-attachments-resp.json'),
          call(sim, conn, 'GET', f'/servers/{server_id}/os-volume_attachments',
               '2.89').json())
    check(nova_samples('os-volume_attachments/v2.89/volume-attachment-detail-resp.json'),
          call(sim, conn, 'GET',
               f'/servers/{server_id}/os-volume_attachments/{volume_id}', '2.89').json())
    other = conn.block_storage.create_volume(size=1)
    conn.block_storage.wait_for_status(other, 'available', interval=0.05, wait=15)
    created = call(sim, conn, 'POST', f'/servers/{server_id}/os-volume_attachments',
                   '2.89', json={'volumeAttachment': {'volumeId': other.id, 'tag': 'foo',
                                                      'delete_on_termination': True}})
    check(nova_samples('os-volume_attachments/v2.89/attach-volume-to-server-resp.json'),
          created.json())
    check(nova_samples('os-volume_attachments/list-volume-attachments-resp.json'),
          call(sim, conn, 'GET', f'/servers/{server_id}/os-volume_attachments',
               '2.1').json())


# -- flavors ------------------------------------------------------------------------
@pytest.mark.parametrize('folder, version', [('flavors/v2.61', '2.61'),
                                             ('flavors/v2.55', '2.55'),
                                             ('flavors/v2.75', '2.75'),
                                             ('flavors', '2.1')])
def test_flavors(sim, conn, admin_conn, nova_samples, folder, version):
    # The samples' flavor carries these extra specs (content, set like nova's test).
    admin_conn.compute.create_flavor_extra_specs('2', {'hw:cpu_policy': 'shared',
                                                       'hw:numa_nodes': '1'})
    check(nova_samples(f'{folder}/flavor-get-resp.json'),
          call(sim, conn, 'GET', '/flavors/2', version).json())
    check(nova_samples(f'{folder}/flavors-detail-resp.json'),
          call(sim, conn, 'GET', '/flavors/detail', version).json())
    check(nova_samples(f'{folder}/flavors-list-resp.json'),
          call(sim, conn, 'GET', '/flavors', version).json())


# -- keypairs --------------------------------------------------------------------
@pytest.mark.parametrize('folder, version', [('os-keypairs/v2.10', '2.10'),
                                             ('os-keypairs/v2.2', '2.2'),
                                             ('os-keypairs', '2.1')])
def test_keypairs(sim, conn, nova_samples, folder, version):
    generated = call(sim, conn, 'POST', '/os-keypairs', version,
                     json={'keypair': {'name': 'generated'}}).json()
    check(nova_samples(f'{folder}/keypairs-post-resp.json'), generated)
    imported = call(sim, conn, 'POST', '/os-keypairs', version,
                    json={'keypair': {'name': 'imported',
                                      'public_key': generated['keypair']['public_key']}})
    check(nova_samples(f'{folder}/keypairs-import-post-resp.json'), imported.json())
    check(nova_samples(f'{folder}/keypairs-get-resp.json'),
          call(sim, conn, 'GET', '/os-keypairs/testkey', version).json())
    check(nova_samples(f'{folder}/keypairs-list-resp.json'),
          call(sim, conn, 'GET', '/os-keypairs', version).json())


# -- quotas, limits, zones ----------------------------------------------------------
@pytest.mark.parametrize('folder, version', [('os-quota-sets/v2.57', '2.57'),
                                             ('os-quota-sets/v2.36', '2.36'),
                                             ('os-quota-sets', '2.1')])
def test_quota_sets(sim, conn, admin_conn, nova_samples, folder, version):
    project = conn.current_project_id
    check(nova_samples(f'{folder}/quotas-show-get-resp.json'),
          call(sim, conn, 'GET', f'/os-quota-sets/{project}', version).json())
    check(nova_samples(f'{folder}/quotas-show-defaults-get-resp.json'),
          call(sim, conn, 'GET', f'/os-quota-sets/{project}/defaults', version).json())
    check(nova_samples(f'{folder}/quotas-show-detail-get-resp.json'),
          call(sim, conn, 'GET', f'/os-quota-sets/{project}/detail', version).json())
    check(nova_samples(f'{folder}/quotas-update-post-resp.json'),
          call(sim, admin_conn, 'PUT', f'/os-quota-sets/{project}', version,
               json={'quota_set': {'instances': 45}}).json())


@pytest.mark.parametrize('folder, version', [('limits/v2.57', '2.57'),
                                             ('limits/v2.39', '2.39'),
                                             ('limits/v2.36', '2.36'),
                                             ('limits', '2.1')])
def test_limits(sim, conn, nova_samples, folder, version):
    check(nova_samples(f'{folder}/limit-get-resp.json'),
          call(sim, conn, 'GET', '/limits', version).json())


def test_availability_zones(sim, conn, nova_samples):
    check(nova_samples('os-availability-zone/availability-zone-list-resp.json'),
          call(sim, conn, 'GET', '/os-availability-zone', '2.1').json())
