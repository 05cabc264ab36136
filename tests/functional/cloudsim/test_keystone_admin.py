"""Keystone's admin API in the simulator through openstacksdk's identity proxy:
the Default domain, projects, users, roles and project role assignments, and
the whole operator flow (a new project and user that logs in and boots)."""

import keystoneauth1.exceptions
import openstack
import pytest
from openstack import exceptions

from tests.functional.cloudsim.conftest import Raw

CIRROS = 'cirros-0.6.2-x86_64-disk'


def login(sim, username, password, project):
    return openstack.connect(auth_url=sim.auth_url, username=username, password=password,
                             project_name=project, user_domain_name='Default',
                             project_domain_name='Default', region_name='RegionOne')


def keystone_error(exc_info):
    body = exc_info.value.response.json()
    assert set(body['error']) == {'code', 'title', 'message'}
    return body['error']['code'], body['error']['message']


def test_new_project_and_user_log_in_and_boot(sim, admin_conn, sim_admin):
    project = admin_conn.identity.create_project(name='bay-team', domain_id='default',
                                                 description='bays')
    user = admin_conn.identity.create_user(name='alice', password='s3cret',
                                           default_project_id=project.id,
                                           domain_id='default', email='alice@example.org')
    assert (user.default_project_id, user.email) == (project.id, 'alice@example.org')
    shown = Raw(sim, admin_conn, '/identity/v3').get(f'/users/{user.id}')['user']
    assert 'password' not in shown and shown['links']['self'].endswith(user.id)
    with pytest.raises(keystoneauth1.exceptions.Unauthorized):     # no role there yet
        login(sim, 'alice', 's3cret', 'bay-team').compute.flavors().__next__()
    member = admin_conn.identity.find_role('member', ignore_missing=False)
    admin_conn.identity.assign_project_role_to_user(project, user, member)
    assert admin_conn.identity.validate_user_has_project_role(project, user, member)
    alice = login(sim, 'alice', 's3cret', 'bay-team')
    assert alice.current_project_id == project.id
    image = alice.image.find_image(CIRROS, ignore_missing=False)
    server = alice.compute.create_server(name='first', image_id=image.id, flavor_id='1',
                                         networks='none')
    server = alice.compute.wait_for_server(server, interval=0.05, wait=15)
    assert server.status == 'ACTIVE' and server.project_id == project.id
    assert server.user_id == user.id
    seen = sim_admin.get('resources')
    assert 'bay-team' in {p['name'] for p in seen['projects']}
    (listed,) = [u for u in seen['users'] if u['name'] == 'alice']
    assert 'password' not in listed and 's3cret' not in str(listed)
    # the project exists for the other services too
    assert admin_conn.compute.get_quota_set(project.id).instances == 10


def test_listing_filters_and_lookups(admin_conn):
    assert [d.id for d in admin_conn.identity.domains()] == ['default']
    assert admin_conn.identity.get_domain('default').name == 'Default'
    for name in ('p1', 'p2'):
        admin_conn.identity.create_project(name=name, domain_id='default')
    assert [p.name for p in admin_conn.identity.projects(name='p2')] == ['p2']
    assert {p.name for p in admin_conn.identity.projects(domain_id='default')} >= {
        'admin', 'demo', 'p1', 'p2'}
    assert admin_conn.identity.find_project('p1', ignore_missing=False).name == 'p1'
    assert {u.name for u in admin_conn.identity.users()} == {'admin', 'demo'}
    assert admin_conn.identity.find_user('demo', ignore_missing=False).name == 'demo'
    assert {r.name for r in admin_conn.identity.roles()} >= {'admin', 'member', 'reader'}
    demo = admin_conn.identity.find_user('demo')
    (assignment,) = admin_conn.identity.role_assignments(user_id=demo.id)
    assert assignment.scope['project']['id'] == admin_conn.identity.find_project('demo').id
    assert assignment.role['id'] == admin_conn.identity.find_role('member').id


def test_updates_conflicts_and_not_found(admin_conn):
    project = admin_conn.identity.create_project(name='p', domain_id='default')
    with pytest.raises(exceptions.ConflictException) as dup:
        admin_conn.identity.create_project(name='p', domain_id='default')
    assert keystone_error(dup) == (409, 'Conflict occurred attempting to store project - it '
                                        'is not permitted to have two projects with the '
                                        'same name in the same domain : p.')
    renamed = admin_conn.identity.update_project(project, name='q', description='d')
    assert (renamed.name, renamed.description) == ('q', 'd')
    user = admin_conn.identity.create_user(name='bob', password='x')
    with pytest.raises(exceptions.ConflictException):
        admin_conn.identity.create_user(name='bob', password='y')
    assert admin_conn.identity.update_user(user, email='b@example.org').email == \
        'b@example.org'
    admin_conn.identity.delete_user(user)
    with pytest.raises(exceptions.NotFoundException) as missing:
        admin_conn.identity.get_user(user.id)
    assert keystone_error(missing) == (404, f'Could not find user: {user.id}.')
    admin_conn.identity.delete_project(project)
    assert admin_conn.identity.find_project('q') is None
    with pytest.raises(exceptions.NotFoundException):
        admin_conn.identity.get_domain('other')


def test_members_cannot_administer(sim, conn):
    with pytest.raises(exceptions.ForbiddenException) as refused:
        list(conn.identity.users())
    assert keystone_error(refused) == (
        403, 'You are not authorized to perform the requested action: identity:list_users.')
    with pytest.raises(exceptions.ForbiddenException):
        conn.identity.create_project(name='mine')
    assert conn.identity.get_user(conn.current_user_id).name == 'demo'    # itself
    own = Raw(sim, conn, '/identity/v3').get('/auth/projects')['projects']
    assert [p['name'] for p in own] == ['demo']


def test_disabling_or_removing_access_ends_the_session(sim, admin_conn):
    project = admin_conn.identity.create_project(name='team', domain_id='default')
    user = admin_conn.identity.create_user(name='carol', password='pw',
                                           default_project_id=project.id)
    member = admin_conn.identity.find_role('member')
    admin_conn.identity.assign_project_role_to_user(project, user, member)
    carol = login(sim, 'carol', 'pw', 'team')
    token = carol.auth_token
    admin_conn.identity.update_user(user, is_enabled=False)
    gone = Raw(sim, admin_conn, '/identity/v3')(
        'GET', '/auth/tokens', headers={'X-Subject-Token': token})
    assert gone.status_code == 404
    admin_conn.identity.update_user(user, is_enabled=True)
    assert login(sim, 'carol', 'pw', 'team').compute.get_limits()
    admin_conn.identity.unassign_project_role_from_user(project, user, member)
    assert not admin_conn.identity.validate_user_has_project_role(project, user, member)
    with pytest.raises(keystoneauth1.exceptions.Unauthorized):
        login(sim, 'carol', 'pw', 'team').compute.get_limits()
