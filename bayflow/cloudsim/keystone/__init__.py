"""Keystone v3: discovery, password tokens scoped by role assignments, expiry
and revocation; and the admin API (the Default domain, projects, users, roles,
project role assignments) an operator and openstacksdk's identity proxy use.

Modules: ``common`` (seed, roles, assignments, views), ``tokens`` (discovery,
catalog, tokens) and ``identity`` (the admin API). Users keep their password
in the private ``_password`` (never rendered, never logged).
"""

from bayflow.cloudsim.keystone import common, identity, tokens
from bayflow.cloudsim.keystone.common import DOMAIN, REGION, USERS  # noqa: F401
from bayflow.cloudsim.keystone.tokens import catalog  # noqa: F401


class Context:
    """The authenticated caller of one request (``project_id`` None when the
    token is unscoped)."""

    def __init__(self, token):
        self.token = token['id']
        self.user_id = token['user_id']
        self.user_name = token['user_name']
        self.project_id = token['project_id']
        self.project_name = token['project_name']
        self.is_admin = token['is_admin']
        self.roles = [r['name'] for r in token.get('roles') or ()]


def register(router, state):
    state.on_seed(common.seed)
    state.on_load(common.upgrade)
    add = router.add
    add('GET', '/identity', tokens.versions, 'identity', auth=False)
    add('GET', '/identity/v3', tokens.version, 'identity', auth=False)
    add('POST', '/identity/v3/auth/tokens', tokens.issue_token, 'identity', auth=False)
    add('GET', '/identity/v3/auth/tokens', tokens.validate_token, 'identity')
    add('HEAD', '/identity/v3/auth/tokens', tokens.validate_token, 'identity')
    add('DELETE', '/identity/v3/auth/tokens', tokens.revoke_token, 'identity')
    add('GET', '/identity/v3/auth/projects', tokens.auth_projects, 'identity')
    add('GET', '/identity/v3/domains', identity.list_domains, 'identity')
    add('GET', '/identity/v3/domains/{domain_id}', identity.get_domain, 'identity')
    add('GET', '/identity/v3/projects', identity.list_projects, 'identity')
    add('POST', '/identity/v3/projects', identity.create_project, 'identity')
    add('GET', '/identity/v3/projects/{project_id}', tokens.get_project, 'identity')
    add('PATCH', '/identity/v3/projects/{project_id}', identity.update_project, 'identity')
    add('DELETE', '/identity/v3/projects/{project_id}', identity.delete_project, 'identity')
    grant = '/identity/v3/projects/{project_id}/users/{user_id}/roles'
    add('GET', grant, identity.list_grants, 'identity')
    add('PUT', grant + '/{role_id_}', identity.grant, 'identity')
    add('HEAD', grant + '/{role_id_}', identity.check_grant, 'identity')
    add('GET', grant + '/{role_id_}', identity.check_grant, 'identity')
    add('DELETE', grant + '/{role_id_}', identity.revoke_grant, 'identity')
    add('GET', '/identity/v3/users', identity.list_users, 'identity')
    add('POST', '/identity/v3/users', identity.create_user, 'identity')
    add('GET', '/identity/v3/users/{user_id}', identity.get_user, 'identity')
    add('PATCH', '/identity/v3/users/{user_id}', identity.update_user, 'identity')
    add('DELETE', '/identity/v3/users/{user_id}', identity.delete_user, 'identity')
    add('POST', '/identity/v3/users/{user_id}/password', identity.change_password,
        'identity')
    add('GET', '/identity/v3/users/{user_id}/projects', identity.user_projects, 'identity')
    add('GET', '/identity/v3/roles', identity.list_roles, 'identity')
    add('POST', '/identity/v3/roles', identity.create_role, 'identity')
    add('GET', '/identity/v3/roles/{role_id_}', identity.get_role, 'identity')
    add('DELETE', '/identity/v3/roles/{role_id_}', identity.delete_role, 'identity')
    add('GET', '/identity/v3/role_assignments', identity.list_role_assignments, 'identity')
