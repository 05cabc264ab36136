"""Cloud checks at baymodel-create and bay-create: one clear error each
(field, value, what is allowed; exit code 2), and nothing created."""

import pytest

from bayflow.cloudsim import glance
from bayflow.drivers.cloud import CloudCheckError


def test_all_good(cloud):
    assert cloud.check_image('fedora-23-atomic') == {
        'id': glance.image_id('fedora-23-atomic'), 'name': 'fedora-23-atomic',
        'os_distro': 'fedora-atomic'}
    assert cloud.check_image(glance.image_id('coreos'))['os_distro'] == 'coreos'
    assert cloud.check_keypair('testkey') == {'name': 'testkey'}
    assert cloud.check_flavor('m1.small') == {'id': '2', 'name': 'm1.small'}
    assert cloud.check_flavor('2') == {'id': '2', 'name': 'm1.small'}
    public = cloud.check_external_network('public')
    assert public['name'] == 'public'
    assert cloud.check_external_network(public['id']) == public


@pytest.mark.parametrize('check, value, field, says', [
    ('check_image', 'no-such-image', 'image_id', 'no such image'),
    ('check_image', 'cirros-0.6.2-x86_64-disk', 'image_id', 'os_distro property'),
    ('check_keypair', 'nokey', 'keypair_id', 'no such keypair'),
    ('check_flavor', 'm1.huge', 'flavor_id', 'no such flavor'),
    ('check_external_network', 'nonet', 'external_network_id', 'no such network'),
])
def test_missing_or_unusable(cloud, sim_admin, check, value, field, says):
    before = sim_admin.resources()
    with pytest.raises(CloudCheckError) as caught:
        getattr(cloud, check)(value)
    error = caught.value
    assert (error.field, error.value, error.exit_code) == (field, value, 2)
    assert says in str(error) and value in str(error)
    assert '\n' not in str(error)
    assert sim_admin.resources() == before


def test_master_flavor_field(cloud):
    with pytest.raises(CloudCheckError, match='master_flavor_id'):
        cloud.check_flavor('m1.huge', field='master_flavor_id')


def test_images_uploaded_by_admin(cloud, admin_cloud):
    """An image without os_distro, and one with it that never became active."""
    images = admin_cloud.conn.image
    images.create_image(name='plain', visibility='public', disk_format='qcow2',
                        container_format='bare')
    images.create_image(name='queued', visibility='public', disk_format='qcow2',
                        container_format='bare', os_distro='fedora-atomic')
    with pytest.raises(CloudCheckError, match='os_distro'):
        cloud.check_image('plain')
    with pytest.raises(CloudCheckError, match='an active image; this one is queued'):
        cloud.check_image('queued')


def test_network_that_is_not_external(cloud, parts):
    parts.network()
    name = parts.network()['name']
    with pytest.raises(CloudCheckError, match='not external') as caught:
        cloud.check_external_network(name)
    assert caught.value.field == 'external_network_id'


def test_network_name_matching_several(cloud, admin_cloud):
    ids = sorted(admin_cloud.conn.network.create_network(name='ext', is_router_external=True).id
                 for _ in range(2))
    with pytest.raises(CloudCheckError, match='matches 2 networks') as caught:
        cloud.check_external_network('ext')
    assert all(i in str(caught.value) for i in ids)
