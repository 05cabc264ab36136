"""Glance image data in the simulator through openstacksdk: upload, the
glance-direct import, download with the checksum and multihash, image tags;
raw HTTP for status codes and error bodies."""

import hashlib
import io

import openstack
import pytest

from bayflow.cloudsim import Simulator
from tests.functional.cloudsim.conftest import Raw

# a qcow2 header (magic, version 3, virtual size 1 GiB at offset 24) and a body
QCOW2 = b'QFI\xfb' + (3).to_bytes(4, 'big') + bytes(16) + (1 << 30).to_bytes(8, 'big') \
    + b'\x5a' * 4000


def glance_error(response):
    body = response.json()
    assert set(body) == {'message', 'code', 'title'}, body
    return response.status_code, body['message'].split('<br />')[0]


def test_upload_then_download_with_hashes(sim, conn, tmp_path):
    path = tmp_path / 'disk.qcow2'
    path.write_bytes(QCOW2)
    image = conn.image.create_image('bay-image', filename=str(path), disk_format='qcow2',
                                    container_format='bare', os_distro='fedora-atomic')
    image = conn.image.get_image(image)
    assert (image.status, image.size, image.virtual_size) == ('active', len(QCOW2), 1 << 30)
    assert image.checksum == hashlib.md5(QCOW2).hexdigest()
    assert (image.hash_algo, image.hash_value) == ('sha512', hashlib.sha512(QCOW2).hexdigest())
    assert image.os_distro == 'fedora-atomic'
    downloaded = conn.image.download_image(image)        # the SDK verifies the hash
    assert downloaded.content == QCOW2
    assert downloaded.headers['Content-MD5'] == image.checksum
    out = io.BytesIO()
    conn.image.download_image(image, output=out)
    assert hashlib.sha512(out.getvalue()).hexdigest() == image.hash_value


def test_stage_and_glance_direct_import(sim, conn):
    assert conn.image.get_import_info().import_methods['value'] == ['glance-direct']
    image = conn.image.create_image('imported', data=io.BytesIO(b'raw-bytes' * 100),
                                    disk_format='raw', container_format='bare',
                                    use_import=True)
    assert conn.image.get_image(image).status == 'importing'
    image = conn.image.wait_for_status(image, 'active', interval=0.02, wait=10)
    assert image.size == 900 and image.virtual_size == 900
    assert conn.image.download_image(image).content == b'raw-bytes' * 100


def test_status_rules_and_errors(sim, conn, admin_conn):
    glance = Raw(sim, conn, '/image/v2')
    octet = {'Content-Type': 'application/octet-stream'}
    bare = glance.post('/images', {'name': 'nofmt'})
    assert glance('GET', f"/images/{bare['id']}/file").status_code == 204   # no data yet
    no_formats = glance('PUT', f"/images/{bare['id']}/file", data=b'x', headers=octet)
    assert glance_error(no_formats) == (400, 'Properties disk_format, container_format '
                                             'must be set prior to saving data.')
    image = glance.post('/images', {'name': 'img', 'disk_format': 'raw',
                                    'container_format': 'bare'})
    url = f"/images/{image['id']}"
    assert glance('PUT', url + '/file', data=b'"x"', headers={
        'Content-Type': 'application/json'}).status_code == 415
    not_staged = glance('POST', url + '/import', json={'method': {'name': 'glance-direct'}})
    assert not_staged.status_code == 409
    assert glance('PUT', url + '/file', data=b'abc', headers=octet).status_code == 204
    again = glance('PUT', url + '/file', data=b'abc', headers=octet)
    assert glance_error(again) == (409, 'Image status transition from active to saving is '
                                        'not allowed')
    web = glance('POST', url + '/import', json={'method': {'name': 'web-download',
                                                            'uri': 'http://example.org/x'}})
    assert web.status_code == 400
    theirs = Raw(sim, admin_conn, '/image/v2').post('/images', {
        'name': 'admins', 'disk_format': 'raw', 'container_format': 'bare',
        'visibility': 'public'})
    refused = glance('PUT', f"/images/{theirs['id']}/file", data=b'x', headers=octet)
    assert refused.status_code == 403
    conn.image.delete_image(image['id'])
    assert glance('GET', url + '/file').status_code == 404
    seeded = conn.image.find_image('coreos', ignore_missing=False)
    assert glance('GET', f'/images/{seeded.id}/file').status_code == 204  # metadata only


def test_image_tags(sim, conn):
    image = conn.image.create_image('tagged', disk_format='raw', container_format='bare',
                                    data=io.BytesIO(b'x'))
    conn.image.add_tag(image, 'k8s')
    conn.image.add_tag(image, 'bay')
    assert conn.image.get_image(image).tags == ['bay', 'k8s']
    assert [i.name for i in conn.image.images(tag='k8s')] == ['tagged']
    conn.image.remove_tag(image, 'k8s')
    assert conn.image.get_image(image).tags == ['bay']
    with pytest.raises(openstack.exceptions.NotFoundException):
        conn.image.remove_tag(image, 'k8s')


def test_image_data_survives_a_restart(tmp_path):
    state = str(tmp_path / 'state.json')
    with Simulator(boot_seconds=0.1, state_file=state) as sim:
        cfg = sim.clouds_yaml()['clouds']['sim']
        conn = openstack.connect(**cfg['auth'], region_name=cfg['region_name'])
        image = conn.image.create_image('kept', data=io.BytesIO(QCOW2), disk_format='qcow2',
                                        container_format='bare')
    with Simulator(boot_seconds=0.1, state_file=state) as sim:
        cfg = sim.clouds_yaml()['clouds']['sim']
        conn = openstack.connect(**cfg['auth'], region_name=cfg['region_name'])
        assert conn.image.download_image(image.id).content == QCOW2
