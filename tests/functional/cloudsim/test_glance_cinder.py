"""Glance v2 and Cinder v3 of the simulator, through the real openstacksdk
(raw HTTP only for what the SDK cannot express: discovery documents, error
bodies, headers, malformed input)."""

import openstack
import pytest
import requests

from tests.functional.cloudsim.conftest import Raw

# Key sets of Glance's api-ref samples (image-show-response.json) and of
# Cinder's volume detail view (cinder/api/v2/views/volumes.py, v3 additions).
GLANCE_IMAGE_KEYS = {
    'status', 'name', 'tags', 'container_format', 'created_at', 'disk_format',
    'updated_at', 'visibility', 'self', 'min_disk', 'protected', 'id', 'file',
    'checksum', 'os_hash_algo', 'os_hash_value', 'owner', 'size', 'min_ram', 'schema',
    'virtual_size', 'os_hidden'}
CINDER_VOLUME_KEYS = {
    'attachments', 'availability_zone', 'bootable', 'consistencygroup_id', 'created_at',
    'description', 'encrypted', 'id', 'links', 'metadata', 'multiattach', 'name',
    'os-vol-tenant-attr:tenant_id', 'replication_status', 'size', 'snapshot_id',
    'source_volid', 'status', 'updated_at', 'user_id', 'volume_type'}
SEEDED = {'fedora-21-atomic-5': 'fedora-atomic', 'fedora-23-atomic': 'fedora-atomic',
          'coreos': 'coreos', 'ubuntu-14.04': 'ubuntu', 'cirros-0.6.2-x86_64-disk': None}


def _raw(conn, method, path, **kw):
    """A raw call with the connection's token (path relative to the sim URL)."""
    return Raw(conn.session.auth.auth_url.rsplit('/identity', 1)[0], conn)(method, path, **kw)


def _vol_path(conn, suffix=''):
    return f'/volume/v3/{conn.current_project_id}/volumes{suffix}'


def _wait(conn, volume, status):
    return conn.block_storage.wait_for_status(volume, status, failures=['error'],
                                              interval=0.05, wait=10)


# == Glance ==================================================================
def test_image_versions_document(sim):
    r = requests.get(f'{sim.url}/image', headers={'Accept': 'application/json'}, timeout=10)
    assert r.status_code == 300
    versions = r.json()['versions']
    current = [v for v in versions if v['status'] == 'CURRENT']
    assert len(current) == 1 and current[0]['id'].startswith('v2.')
    assert all(v['links'][0]['href'] == f'{sim.url}/image/v2/' for v in versions)
    assert {'v2.0', 'v2.3'} <= {v['id'] for v in versions}
    assert r.headers['X-Openstack-Request-Id'].startswith('req-')


def test_seeded_images(conn):
    images = {i.name: i for i in conn.image.images()}
    assert set(images) == set(SEEDED)
    for name, distro in SEEDED.items():
        image = images[name]
        assert image.status == 'active' and image.visibility == 'public'
        assert image.disk_format == 'qcow2' and image.container_format == 'bare'
        assert image.size > 0 and len(image.checksum) == 32
        assert image.min_disk == 0 and image.min_ram == 0 and image.owner_id
        assert image.created_at
        assert image.os_distro == distro


def test_find_image_by_name_and_id(conn, sim):
    image = conn.image.find_image('fedora-23-atomic', ignore_missing=False)
    assert image.name == 'fedora-23-atomic' and image.os_distro == 'fedora-atomic'
    assert conn.image.find_image(image.id).name == 'fedora-23-atomic'
    assert conn.image.find_image('no-such-image') is None
    calls = [(c['method'], c['path'], c['status']) for c in sim.calls.render()['recent']]
    assert ('GET', '/image/v2/images/fedora-23-atomic', 404) in calls
    assert ('GET', '/image/v2/images', 200) in calls


def test_image_show_shape_and_flattened_properties(conn):
    image_id = conn.image.find_image('coreos').id
    r = _raw(conn, 'GET', f'/image/v2/images/{image_id}')
    assert r.status_code == 200
    body = r.json()
    assert GLANCE_IMAGE_KEYS <= set(body)
    assert set(body) - GLANCE_IMAGE_KEYS == {'os_distro'}    # flattened, not nested
    assert body['self'] == f'/v2/images/{image_id}' and body['schema'] == '/v2/schemas/image'
    assert 'project_id' not in body


def test_image_not_found_is_glance_shaped(conn):
    r = _raw(conn, 'GET', '/image/v2/images/cirros')
    assert r.status_code == 404
    body = r.json()
    assert body['code'] == '404 Not Found' and body['title'] == 'Not Found'
    assert body['message'].startswith('No image found with ID cirros')
    with pytest.raises(openstack.exceptions.NotFoundException) as err:
        conn.image.get_image('cirros')
    assert 'No image found with ID cirros' in str(err.value)


def test_image_filters(conn):
    assert [i.name for i in conn.image.images(name='coreos')] == ['coreos']
    assert list(conn.image.images(name='nothing')) == []
    r = _raw(conn, 'GET', '/image/v2/images', params={'os_distro': 'fedora-atomic'})
    assert {i['name'] for i in r.json()['images']} == {'fedora-21-atomic-5',
                                                       'fedora-23-atomic'}
    assert {i.name for i in conn.image.images(visibility='public')} == set(SEEDED)
    assert list(conn.image.images(visibility='private')) == []
    assert len(list(conn.image.images(status='active'))) == len(SEEDED)


def test_image_pagination(conn):
    r = _raw(conn, 'GET', '/image/v2/images', params={'limit': 2})
    body = r.json()
    assert len(body['images']) == 2
    assert body['first'] == '/v2/images?limit=2' and body['schema'] == '/v2/schemas/images'
    assert body['next'] == f"/v2/images?limit=2&marker={body['images'][1]['id']}"
    names = [i.name for i in conn.image.images(limit=2)]
    assert sorted(names) == sorted(SEEDED)      # the SDK follows "next" to the end
    r = _raw(conn, 'GET', '/image/v2/images', params={'limit': 'x'})
    assert r.status_code == 400


def test_image_create_update_delete(conn):
    image = conn.image.create_image('mine', disk_format='qcow2', container_format='bare',
                                    meta={'os_distro': 'cirros'}, allow_duplicates=True)
    assert image.status == 'queued' and image.visibility == 'shared'
    assert image.owner_id == conn.current_project_id
    image = conn.image.update_image(image, name='mine2', os_distro='other')
    assert image.name == 'mine2' and image.os_distro == 'other'
    assert conn.image.find_image('mine2').id == image.id
    conn.image.delete_image(image, ignore_missing=False)
    assert conn.image.find_image('mine2') is None


def test_image_permissions(conn):
    seeded = conn.image.find_image('cirros-0.6.2-x86_64-disk')
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.image.delete_image(seeded)
    r = _raw(conn, 'POST', '/image/v2/images', json={'name': 'x', 'visibility': 'public'})
    assert r.status_code == 403


# == Cinder ==================================================================
def test_volume_version_discovery(sim, conn):
    r = requests.get(f'{sim.url}/volume/', timeout=10)
    assert r.status_code == 300
    (version,) = r.json()['versions']
    assert version['id'] == 'v3.0' and version['status'] == 'CURRENT'
    assert version['min_version'] == '3.0' and version['version'] >= '3.71'
    assert {'rel': 'self', 'href': f'{sim.url}/volume/v3/'} in version['links']
    r = requests.get(f'{sim.url}/volume/v3/', timeout=10)
    assert r.status_code == 200 and r.json()['versions'][0]['id'] == 'v3.0'
    list(conn.block_storage.volumes())
    calls = [(c['method'], c['path']) for c in sim.calls.render()['recent']]
    assert ('GET', '/volume/v3') in calls       # keystoneauth's discovery


def test_volume_lifecycle(conn, sim_admin):
    volume = conn.block_storage.create_volume(size=1, name='v1', description='d',
                                              metadata={'a': 'b'})
    assert volume.status == 'creating' and volume.size == 1
    volume = _wait(conn, volume, 'available')
    assert volume.name == 'v1' and volume.description == 'd'
    assert volume.metadata == {'a': 'b'} and volume.is_bootable is False
    assert volume.availability_zone == 'nova' and volume.volume_type == '__DEFAULT__'
    assert volume.project_id == conn.current_project_id
    (listed,) = sim_admin.get('resources')['volumes']
    for key in ('id', 'project_id', 'name', 'description', 'status', 'size',
                'attachments', 'metadata', 'bootable', 'created_at', 'updated_at',
                'availability_zone', 'volume_type', 'multiattach', 'encrypted', 'user_id'):
        assert key in listed, key
    assert listed['status'] == 'available' and listed['attachments'] == []
    conn.block_storage.delete_volume(volume)
    assert conn.block_storage.get_volume(volume).status == 'deleting'
    conn.block_storage.wait_for_delete(volume, interval=0.05, wait=10)
    assert sim_admin.get('resources')['volumes'] == []
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.block_storage.delete_volume(volume, ignore_missing=False)


def test_volume_create_answer(conn):
    r = _raw(conn, 'POST', _vol_path(conn), json={'volume': {'size': 2, 'name': 'raw'}})
    assert r.status_code == 202
    body = r.json()['volume']
    assert CINDER_VOLUME_KEYS - {'os-vol-tenant-attr:tenant_id'} <= set(body)
    assert body['status'] == 'creating' and body['bootable'] == 'false'
    assert body['links'][0]['href'].endswith(_vol_path(conn, '/' + body['id']))
    r = _raw(conn, 'GET', _vol_path(conn, '/' + body['id']))
    assert CINDER_VOLUME_KEYS <= set(r.json()['volume'])
    assert 'os-vol-host-attr:host' not in r.json()['volume']      # admin only


def test_volume_show_missing_is_cinder_shaped(conn):
    r = _raw(conn, 'GET', _vol_path(conn, '/nope'))
    assert r.status_code == 404
    assert r.json() == {'itemNotFound': {'code': 404,
                                         'message': 'Volume nope could not be found.'}}
    assert conn.block_storage.find_volume('nope') is None


def test_volume_create_validation(conn):
    for body, status, text in (
            ({'volume': {'size': 0}}, 400, '0 is less than the minimum of 1'),
            ({'volume': {'name': 'x'}}, 400, "Volume size 'None' must be an integer"),
            ({'volume': {'size': 'ten'}}, 400, "does not match"),
            ({'volume': {'size': 1, 'volume_type': 'gold'}}, 404,
             'Volume type with name gold could not be found.'),
            ({'volume': {'size': 1, 'availability_zone': 'az9'}}, 400,
             "Availability zone 'az9' is invalid."),
            ({'volume': {'size': 1, 'metadata': {'k': 1}}}, 400, 'metadata'),
            ({'size': 1}, 400, "'volume' is a required property")):
        r = _raw(conn, 'POST', _vol_path(conn), json=body)
        assert r.status_code == status, body
        (fault,) = r.json().values()
        assert fault['code'] == status and text in fault['message'], fault
    r = _raw(conn, 'POST', _vol_path(conn), json={'volume': {'size': '3'}})
    assert r.status_code == 202 and r.json()['volume']['size'] == 3


def test_volume_url_must_name_own_project(conn, admin_conn):
    r = _raw(conn, 'GET', f'/volume/v3/{admin_conn.current_project_id}/volumes')
    assert r.status_code == 400
    assert r.json()['badRequest']['message'] == 'Malformed request url'


def test_volume_list_filters_and_pagination(conn, admin_conn):
    ids = [conn.block_storage.create_volume(size=1, name=f'v{i}',
                                            metadata={'n': str(i % 2)}).id
           for i in range(5)]
    assert {v.name for v in conn.block_storage.volumes(name='v3')} == {'v3'}
    assert len(list(conn.block_storage.volumes(status='creating'))) == 5
    r = _raw(conn, 'GET', _vol_path(conn, '/detail'), params={'metadata': '{"n": "1"}'})
    assert {v['name'] for v in r.json()['volumes']} == {'v1', 'v3'}
    # Newest first; a full page carries a "next" link; the SDK follows it.
    r = _raw(conn, 'GET', _vol_path(conn), params={'limit': 2})
    body = r.json()
    assert [v['id'] for v in body['volumes']] == ids[::-1][:2]
    assert set(body['volumes'][0]) == {'id', 'name', 'links'}
    (link,) = body['volumes_links']
    assert link['rel'] == 'next' and f"marker={ids[3]}" in link['href']
    assert [v.id for v in conn.block_storage.volumes(limit=2)] == ids[::-1]
    r = _raw(conn, 'GET', _vol_path(conn, '/detail'), params={'marker': ids[0]})
    assert r.json() == {'volumes': []}
    # another project's volumes: invisible, except to an admin asking for all
    assert list(admin_conn.block_storage.volumes()) == []
    assert len(list(admin_conn.block_storage.volumes(all_projects=True))) == 5
    theirs = admin_conn.block_storage.create_volume(size=1, name='admins')
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.block_storage.get_volume(theirs.id)
    assert 'admins' not in {v.name for v in conn.block_storage.volumes()}


def test_volume_update_and_metadata(conn):
    volume = _wait(conn, conn.block_storage.create_volume(size=1, name='old'), 'available')
    volume = conn.block_storage.update_volume(volume, name='new', description='desc')
    assert (volume.name, volume.description) == ('new', 'desc')
    conn.block_storage.set_volume_metadata(volume, k1='v1', k2='v2')
    conn.block_storage.delete_volume_metadata(volume, keys=['k1'])
    assert conn.block_storage.get_volume(volume).metadata == {'k2': 'v2'}
    r = _raw(conn, 'PUT', _vol_path(conn, f'/{volume.id}'),
             json={'volume': {'metadata': {'only': 'this'}}})
    assert r.status_code == 200 and r.json()['volume']['metadata'] == {'only': 'this'}
    r = _raw(conn, 'PUT', _vol_path(conn, f'/{volume.id}'), json={'volume': {'size': 9}})
    assert r.status_code == 400


def test_volume_actions(conn, admin_conn):
    volume = _wait(conn, conn.block_storage.create_volume(size=1), 'available')
    conn.block_storage.extend_volume(volume, 3)
    assert conn.block_storage.get_volume(volume).size == 3
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.block_storage.extend_volume(volume, 2)
    conn.block_storage.set_volume_bootable_status(volume, True)
    assert conn.block_storage.get_volume(volume).is_bootable is True
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.block_storage.reset_volume_status(volume, status='error')
    r = _raw(conn, 'POST', _vol_path(conn, f'/{volume.id}/action'), json={'os-bogus': {}})
    assert r.status_code == 400
    assert r.json()['badRequest']['message'] == 'There is no such action: os-bogus'


def test_delete_in_use_volume_is_400(conn, admin_conn):
    volume = _wait(conn, conn.block_storage.create_volume(size=1), 'available')
    # What Nova does on attach: the volume goes in-use (here via the admin API).
    admin_conn.block_storage.reset_volume_status(volume, status='in-use',
                                                 attach_status='attached',
                                                 migration_status=None)
    with pytest.raises(openstack.exceptions.BadRequestException) as err:
        conn.block_storage.delete_volume(volume)
    assert str(err.value).endswith(
        'Invalid volume: Volume status must be available or error or error_restoring or '
        'error_extending or error_managing and must not be migrating, attached, belong to '
        'a group, have snapshots or be disassociated from snapshots after volume '
        'transfer.')
    assert conn.block_storage.get_volume(volume).status == 'in-use'
    creating = conn.block_storage.create_volume(size=1)
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.block_storage.delete_volume(creating)


def test_volume_quotas(conn):
    r = _raw(conn, 'POST', _vol_path(conn), json={'volume': {'size': 1001}})
    assert r.status_code == 413 and r.headers['Retry-After'] == '0'
    assert r.json() == {'overLimit': {
        'code': 413, 'retryAfter': '0',
        'message': 'Requested volume or snapshot exceeds allowed gigabytes quota. '
                   'Requested 1001G, quota is 1000G and 0G has been consumed.'}}
    for i in range(10):
        conn.block_storage.create_volume(size=1, name=f'q{i}')
    with pytest.raises(openstack.exceptions.HttpException) as err:
        conn.block_storage.create_volume(size=1)
    assert err.value.status_code == 413
    assert "Maximum number of volumes allowed (10) exceeded for quota 'volumes'." in str(
        err.value)
    quota = conn.block_storage.get_quota_set(conn.current_project_id, usage=True)
    assert quota.volumes == 10 and quota.gigabytes == 1000
    assert quota.usage['volumes'] == 10 and quota.usage['gigabytes'] == 10
    limits = conn.block_storage.get_limits()
    assert limits.absolute.total_volumes_used == 10


def test_volume_quota_update_by_admin(conn, admin_conn):
    admin_conn.block_storage.update_quota_set(conn.current_project_id, volumes=1)
    conn.block_storage.create_volume(size=1)
    with pytest.raises(openstack.exceptions.HttpException) as err:
        conn.block_storage.create_volume(size=1)
    assert err.value.status_code == 413
    with pytest.raises(openstack.exceptions.ForbiddenException):
        conn.block_storage.update_quota_set(conn.current_project_id, volumes=50)


def test_volume_build_error_fault(conn, sim_admin):
    rule = sim_admin.fault(method='POST', path='/volumes$', build_error=True)
    volume = conn.block_storage.create_volume(size=1, name='broken')
    assert volume.status == 'creating'
    with pytest.raises(openstack.exceptions.ResourceFailure):
        _wait(conn, volume, 'available')
    assert conn.block_storage.get_volume(volume).status == 'error'
    (fault,) = [f for f in sim_admin.get('faults')['faults'] if f['id'] == rule]
    assert fault['fired'] == 1
    ok = _wait(conn, conn.block_storage.create_volume(size=1), 'available')    # times: 1
    assert ok.status == 'available'
    conn.block_storage.delete_volume(volume)        # an error volume goes at once
    assert conn.block_storage.find_volume(volume.id) is None


def test_volume_microversion_header(conn):
    r = _raw(conn, 'GET', _vol_path(conn), headers={'OpenStack-API-Version': 'volume 3.60'})
    assert r.status_code == 200
    assert r.headers['OpenStack-API-Version'] == 'volume 3.60'
    r = _raw(conn, 'GET', _vol_path(conn), headers={'OpenStack-API-Version': 'volume 9.1'})
    assert r.status_code == 406


def test_volume_types_and_zones(conn):
    assert {t.name for t in conn.block_storage.types()} == {'__DEFAULT__', 'lvmdriver-1'}
    assert [z.name for z in conn.block_storage.availability_zones()] == ['nova']
    volume = conn.block_storage.create_volume(size=1, volume_type='lvmdriver-1')
    assert volume.volume_type == 'lvmdriver-1'


def test_cloud_layer_volume_calls(conn):
    volume = conn.create_volume(size=1, name='cloudvol', wait=True, timeout=10)
    assert volume.status == 'available'
    assert [v.name for v in conn.list_volumes()] == ['cloudvol']
    assert conn.delete_volume(volume.id, wait=True, timeout=10)
    assert conn.list_volumes() == []


def test_volume_attached_by_nova(conn, admin_conn):
    """Nova attaches by editing the volume (status, attachments); Cinder shows it
    and refuses to delete it until it is detached."""
    image = conn.image.find_image('cirros-0.6.2-x86_64-disk', ignore_missing=False)
    flavor = conn.compute.find_flavor('m1.tiny', ignore_missing=False)
    server = conn.compute.create_server(name='vm', image_id=image.id, flavor_id=flavor.id,
                                        networks='none')
    server = conn.compute.wait_for_server(server, interval=0.05, wait=10)
    volume = _wait(conn, conn.block_storage.create_volume(size=1), 'available')
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    volume = _wait(conn, volume, 'in-use')
    (attachment,) = volume.attachments
    assert attachment['server_id'] == server.id and attachment['volume_id'] == volume.id
    assert attachment['host_name'] is None              # admin only
    assert attachment['device'].startswith('/dev/')
    (seen,) = admin_conn.block_storage.get_volume(volume).attachments
    assert seen['host_name']
    with pytest.raises(openstack.exceptions.BadRequestException):
        conn.block_storage.delete_volume(volume)
    conn.compute.delete_volume_attachment(server, volume)
    _wait(conn, volume, 'available')
    conn.block_storage.delete_volume(volume)
    conn.block_storage.wait_for_delete(volume, interval=0.05, wait=10)
