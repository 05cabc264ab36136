"""Block device mappings, boot from volume and the timing of volume attach and
detach, through openstacksdk, with Cinder's side checked through Cinder."""

import pytest
from openstack import exceptions

from tests.functional.cloudsim.conftest import Raw
from tests.functional.cloudsim.test_nova import (
    CIRROS, boot, fault, gone, make_volume, raw, until, wait_volume)


@pytest.fixture
def image(conn):
    return conn.image.find_image(CIRROS, ignore_missing=False)


def image_root(image):
    """What python-openstackclient 10.5 sends with ``server create --image``."""
    return {'uuid': image.id, 'boot_index': 0, 'source_type': 'image',
            'destination_type': 'local', 'delete_on_termination': True}


def test_openstackclient_image_boot_with_its_image_mapping(sim, conn, image):
    server = boot(conn, image, block_device_mapping=[image_root(image)])
    assert server.status == 'ACTIVE' and server.image.id == image.id
    assert server.attached_volumes == []


def test_boot_from_an_image_volume_created_in_cinder_and_deleted_with_the_server(
        sim, conn, image):
    server = conn.compute.create_server(
        name='bfv', flavor_id='1', networks='none', block_device_mapping=[{
            'uuid': image.id, 'boot_index': 0, 'source_type': 'image',
            'destination_type': 'volume', 'volume_size': 2, 'delete_on_termination': True}])
    server = conn.compute.wait_for_server(server, interval=0.05, wait=15)
    shown = raw(sim, conn, 'GET', f'/servers/{server.id}', version='2.96').json()['server']
    assert shown['image'] == ''                       # booted from a volume
    (root,) = shown['os-extended-volumes:volumes_attached']
    assert root['delete_on_termination'] is True
    volume = conn.block_storage.get_volume(root['id'])
    assert (volume.status, volume.size, volume.is_bootable) == ('in-use', 2, True)
    assert volume.volume_image_metadata['image_id'] == image.id
    assert volume.attachments[0]['server_id'] == server.id
    assert volume.attachments[0]['device'] == '/dev/vda'
    detach_root = raw(sim, conn, 'DELETE',
                      f'/servers/{server.id}/os-volume_attachments/{volume.id}')
    assert fault(detach_root) == ('badRequest', 'Cannot detach a root device volume')
    conn.compute.delete_server(server)
    gone(conn, server)
    conn.block_storage.wait_for_delete(volume, interval=0.02, wait=15)


def test_boot_from_an_existing_volume_keeps_it(sim, conn, image):
    source = conn.block_storage.create_volume(size=1, image_id=image.id)
    source = wait_volume(conn, source, 'available')
    server = conn.compute.create_server(
        name='bfv', flavor_id='1', networks='none', block_device_mapping=[{
            'uuid': source.id, 'boot_index': 0, 'source_type': 'volume',
            'destination_type': 'volume'}])
    assert conn.block_storage.get_volume(source).status == 'reserved'
    with pytest.raises(exceptions.BadRequestException):
        conn.block_storage.delete_volume(source)          # reserved by Nova
    conn.compute.wait_for_server(server, interval=0.05, wait=15)
    assert conn.block_storage.get_volume(source).status == 'in-use'
    conn.compute.delete_server(server)
    gone(conn, server)
    kept = conn.block_storage.get_volume(source)
    assert kept.status == 'available' and kept.attachments == []


@pytest.mark.parametrize('mapping, message', [
    ({'source_type': 'image', 'destination_type': 'local', 'boot_index': 0},
     'Block Device Mapping is Invalid: Missing device UUID.'),
    ({'source_type': 'blank', 'destination_type': 'volume', 'boot_index': 0},
     "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size"),
    ({'source_type': 'volume', 'uuid': 'IMAGE', 'boot_index': 1},
     'Block Device Mapping is Invalid: Boot sequence for the instance and image/block '
     'device mapping combination is not valid.'),
    ({'source_type': 'image', 'uuid': 'IMAGE', 'destination_type': 'volume',
      'boot_index': 0}, "Images with destination_type 'volume' need to have a non-zero "
                        "size specified"),
    ({'source_type': 'snapshot', 'uuid': 'IMAGE', 'boot_index': 0},
     'Block Device Mapping is Invalid: failed to get snapshot IMAGE.'),
    ({'source_type': 'volume', 'uuid': 'IMAGE', 'boot_index': 0},
     'Block Device Mapping is Invalid: failed to get volume IMAGE.'),
])
def test_mapping_errors_are_novas_400(sim, conn, image, mapping, message):
    mapping = {k: (image.id if v == 'IMAGE' else v) for k, v in mapping.items()}
    response = raw(sim, conn, 'POST', '/servers', version='2.96', json={'server': {
        'name': 'vm', 'flavorRef': '1', 'networks': 'none',
        'block_device_mapping_v2': [mapping]}})
    assert fault(response) == ('badRequest', message.replace('IMAGE', image.id))


def test_attach_and_detach_take_time_and_cinder_refuses_a_delete_meanwhile(
        sim, conn, image):
    sim.state.boot_seconds = 0.4
    server = boot(conn, image)
    volume = make_volume(conn)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    seen = [conn.block_storage.get_volume(volume).status]
    assert seen == ['reserved']
    with pytest.raises(exceptions.BadRequestException) as refused:
        conn.block_storage.delete_volume(volume)
    assert 'must be available or error' in str(refused.value)
    early_detach = raw(sim, conn, 'DELETE',
                       f'/servers/{server.id}/os-volume_attachments/{volume.id}')
    assert early_detach.status_code == 400

    def in_use():
        seen.append(conn.block_storage.get_volume(volume).status)
        return seen[-1] == 'in-use'
    until(in_use)
    assert list(dict.fromkeys(seen)) == [s for s in ('reserved', 'attaching', 'in-use')
                                         if s in seen]
    conn.compute.delete_volume_attachment(server, volume)
    assert conn.block_storage.get_volume(volume).status == 'detaching'
    assert [a.volume_id for a in conn.compute.volume_attachments(server)] == [volume.id]
    with pytest.raises(exceptions.BadRequestException):
        conn.block_storage.delete_volume(volume)
    wait_volume(conn, volume, 'available')
    assert list(conn.compute.volume_attachments(server)) == []
    conn.block_storage.delete_volume(volume)


def test_attachment_updated_in_place_and_swap_rules(sim, conn, admin_conn, image):
    server = boot(conn, image)
    volume = make_volume(conn)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    wait_volume(conn, volume, 'in-use')
    conn.compute.update_volume_attachment(server, volume, delete_on_termination=True)
    (attachment,) = conn.compute.volume_attachments(server)
    assert attachment.delete_on_termination is True
    path = f'/servers/{server.id}/os-volume_attachments/{volume.id}'
    device = raw(sim, conn, 'PUT', path, version='2.85', json={'volumeAttachment': {
        'volumeId': volume.id, 'device': '/dev/vdz'}})
    assert fault(device) == ('badRequest', 'The device property is not mutable')
    other = make_volume(conn)
    swap = {'volumeAttachment': {'volumeId': other.id}}
    assert raw(sim, conn, 'PUT', path, version='2.85', json=swap).status_code == 403
    not_migrating = raw(sim, admin_conn, 'PUT', path, version='2.85', json=swap)
    assert fault(not_migrating) == ('conflictingRequest', f'volume {volume.id} is not '
                                    'migrating; this API should only be called by Cinder')
    # Cinder migrating the volume calls the swap: the statuses follow
    admin_conn.block_storage.reset_volume_status(volume, status='in-use',
                                                 attach_status='attached',
                                                 migration_status='migrating')
    assert raw(sim, admin_conn, 'PUT', path, version='2.85', json=swap).status_code == 202
    assert conn.block_storage.get_volume(other).status == 'reserved'
    wait_volume(conn, other, 'in-use')
    assert wait_volume(conn, volume, 'available').attachments == []
    (attachment,) = conn.compute.volume_attachments(server)
    assert attachment.volume_id == other.id
    conn.compute.delete_server(server)
    gone(conn, server)
    conn.block_storage.wait_for_delete(other, interval=0.02, wait=15)   # delete_on_termination


def test_extend_of_an_attached_volume_needs_342(sim, conn, image):
    server = boot(conn, image)
    volume = make_volume(conn)
    conn.compute.create_volume_attachment(server, volume_id=volume.id)
    wait_volume(conn, volume, 'in-use')
    path = f'/volume/v3/{conn.current_project_id}/volumes/{volume.id}/action'
    body = {'os-extend': {'new_size': 2}}
    old = Raw(sim, conn, version='volume 3.41')('POST', path, json=body).json()
    assert "status must be 'available' to extend, currently in-use" in \
        old['badRequest']['message']
    conn.block_storage.extend_volume(volume, 3)        # the SDK asks for 3.71
    assert conn.block_storage.get_volume(volume).size == 3
