"""Nova's admin side in the simulator, through openstacksdk: flavor create,
update, access (private flavors), consoles, console output, and keypairs of
another user. Raw HTTP only for error bodies and shapes the SDK hides."""

import pytest
from openstack import exceptions

from tests.functional.cloudsim.test_nova import CIRROS, SAMPLE_KEY, boot, fault, raw


@pytest.fixture
def image(conn):
    return conn.image.find_image(CIRROS, ignore_missing=False)


def test_private_flavor_restricted_to_a_project_and_booted(sim, conn, admin_conn, image):
    flavor = admin_conn.compute.create_flavor(name='bay.private', ram=1024, vcpus=2,
                                              disk=10, is_public=False)
    assert flavor.is_public is False
    assert conn.compute.find_flavor('bay.private') is None      # not on the list yet
    hidden = raw(sim, conn, 'POST', '/servers', version='2.96', json={'server': {
        'name': 'vm', 'imageRef': image.id, 'flavorRef': flavor.id, 'networks': 'none'}})
    assert fault(hidden) == ('badRequest', f'Flavor {flavor.id} could not be found.')
    admin_conn.compute.flavor_add_tenant_access(flavor, conn.current_project_id)
    assert admin_conn.compute.get_flavor_access(flavor) == [
        {'flavor_id': flavor.id, 'tenant_id': conn.current_project_id}]
    assert conn.compute.find_flavor('bay.private', ignore_missing=False).id == flavor.id
    server = boot(conn, image, flavor=flavor.id)
    assert server.status == 'ACTIVE' and server.flavor.name == 'bay.private'
    admin_conn.compute.flavor_remove_tenant_access(flavor, conn.current_project_id)
    assert conn.compute.find_flavor('bay.private') is None
    assert raw(sim, conn, 'GET', f'/flavors/{flavor.id}').status_code == 404


def test_flavor_access_errors(sim, conn, admin_conn):
    private = admin_conn.compute.create_flavor(name='p', ram=64, vcpus=1, disk=0,
                                               is_public=False)

    def action(client, flavor_id, body, version='2.96'):
        return raw(sim, client, 'POST', f'/flavors/{flavor_id}/action', version=version,
                   json=body)
    add = {'addTenantAccess': {'tenant': conn.current_project_id}}
    assert fault(action(conn, private.id, add)) == (
        'forbidden', "Policy doesn't allow os_compute_api:os-flavor-access:add_tenant_access "
                     "to be performed.")
    # nova asks Keystone about the project: an unknown one is a 400
    unknown = action(admin_conn, private.id, {'addTenantAccess': {'tenant': 'nope'}})
    assert fault(unknown) == ('badRequest', 'Project ID nope is not a valid project.')
    assert fault(action(admin_conn, '1', add)) == (
        'conflictingRequest', 'Can not add access to a public flavor.')
    assert action(admin_conn, private.id, add).status_code == 200
    assert fault(action(admin_conn, private.id, add)) == (
        'conflictingRequest', f'Flavor access already exists for flavor {private.id} and '
                              f'project {conn.current_project_id} combination.')
    remove = {'removeTenantAccess': {'tenant': 'nope'}}
    assert fault(action(admin_conn, private.id, remove)) == (
        'itemNotFound', f'Flavor access not found for {private.id} / nope combination.')
    public_list = raw(sim, admin_conn, 'GET', '/flavors/1/os-flavor-access')
    assert fault(public_list) == ('itemNotFound',
                                  'Access list not available for public flavors.')
    listed = raw(sim, admin_conn, 'GET', '/flavors/detail?is_public=false').json()
    assert [f['name'] for f in listed['flavors']] == ['p']


def test_flavor_description_update_and_delete(sim, conn, admin_conn):
    flavor = admin_conn.compute.create_flavor(name='d', ram=64, vcpus=1, disk=0,
                                              description='first')
    updated = admin_conn.compute.update_flavor(flavor, description='second')
    assert updated.description == 'second'
    old = raw(sim, admin_conn, 'PUT', f'/flavors/{flavor.id}', version='2.54',
              json={'flavor': {'description': 'x'}})
    assert old.status_code == 404
    refused = raw(sim, conn, 'PUT', f'/flavors/{flavor.id}', version='2.55',
                  json={'flavor': {'description': 'x'}})
    assert refused.status_code == 403
    admin_conn.compute.delete_flavor(flavor, ignore_missing=False)
    assert admin_conn.compute.find_flavor('d') is None


def test_remote_consoles_and_console_output(sim, conn, image):
    sim.state.boot_seconds = 5
    building = boot(conn, image, name='early', wait=False)
    sim.state.boot_seconds = 0.2
    not_ready = raw(sim, conn, 'POST', f'/servers/{building.id}/remote-consoles',
                    version='2.96',
                    json={'remote_console': {'protocol': 'vnc', 'type': 'novnc'}})
    assert fault(not_ready) == ('conflictingRequest', f'Instance {building.id} is not ready')
    server = boot(conn, image)
    vnc = conn.compute.create_console(server, 'novnc')
    assert vnc['protocol'] == 'vnc' and vnc['type'] == 'novnc'
    assert vnc['url'].startswith(f'http://{sim.host}:6080/vnc_auto.html?path=%3Ftoken%3D')
    spice = conn.compute.create_server_remote_console(server, protocol='spice',
                                                      type='spice-html5')
    assert spice.url.startswith(f'http://{sim.host}:6082/spice_auto.html?token=')
    serial = conn.compute.create_console(server, 'serial')
    assert serial['url'].startswith(f'ws://{sim.host}:6083/?token=')
    legacy = raw(sim, conn, 'POST', f'/servers/{server.id}/action', version='2.5',
                 json={'os-getVNCConsole': {'type': 'novnc'}})
    assert legacy.json()['console']['url'].startswith(f'http://{sim.host}:6080/')
    mismatch = raw(sim, conn, 'POST', f'/servers/{server.id}/remote-consoles',
                   version='2.96',
                   json={'remote_console': {'protocol': 'vnc', 'type': 'spice-html5'}})
    assert fault(mismatch) == ('badRequest', 'Invalid console type spice-html5')
    rdp = raw(sim, conn, 'POST', f'/servers/{server.id}/remote-consoles', version='2.96',
              json={'remote_console': {'protocol': 'rdp', 'type': 'rdp-html5'}})
    assert fault(rdp) == ('badRequest', 'Unavailable console type rdp.')
    output = conn.compute.get_server_console_output(server, length=1)['output']
    assert output == 'vm1 login: '


def test_admin_manages_keypairs_of_another_user(sim, conn, admin_conn):
    user_id = conn.current_user_id
    key = admin_conn.compute.create_keypair(name='ops', public_key=SAMPLE_KEY,
                                            user_id=user_id)
    assert key.user_id == user_id
    assert conn.compute.find_keypair('ops', ignore_missing=False).public_key == SAMPLE_KEY
    theirs = sorted(k.name for k in admin_conn.compute.keypairs(user_id=user_id))
    assert theirs == ['ops', 'testkey']
    assert admin_conn.compute.find_keypair('ops') is None      # not the admin's own
    with pytest.raises(exceptions.ForbiddenException):
        conn.compute.create_keypair(name='x', public_key=SAMPLE_KEY,
                                    user_id=admin_conn.current_user_id)
    admin_conn.compute.delete_keypair('ops', user_id=user_id, ignore_missing=False)
    assert conn.compute.find_keypair('ops') is None
