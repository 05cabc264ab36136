"""The time-driven transitions: build (scheduling, networking, spawning),
delete, stop/start/reboot; and the ports and volumes a server holds."""

import logging

from bayflow.cloudsim import errors, neutron
from bayflow.cloudsim.state import isotime
from bayflow.cloudsim.nova import bdm, volumes
from bayflow.cloudsim.nova.common import (
    AZ, DEVICE_OWNER, HOST, NODE, NO_VALID_HOST, _POWER, _busy, _micro, _pending, _schedule,
    _set_state)

LOG = logging.getLogger(__name__)


# -- servers: the time-driven build / delete / power transitions -----------------------
def _fail(state, server, at, message, details=None):
    """The build ends in ERROR; its volumes are released (kept on the server,
    deleted with it when delete_on_termination)."""
    server['fault'] = {'code': 500, 'created': isotime(at), 'message': message}
    if details:
        server['fault']['details'] = details
    _set_state(server, at, vm_state='error', task_state=None,
               power_state=_POWER['nostate'])
    volumes.release_all(state, server)


def _on_scheduled(state, server, at):
    if server['_build_error']:
        _fail(state, server, at, NO_VALID_HOST,
              details='  File "nova/conductor/manager.py", line 1654, in '
                      'schedule_and_build_instances\n    nova.exception.NoValidHost: '
                      + NO_VALID_HOST + '\n')
        return
    server['host'], server['node'] = HOST, NODE
    server['availability_zone'] = server['availability_zone'] or AZ
    _set_state(server, at, task_state='networking')
    if not _allocate_networks(state, server, at):
        return
    _schedule(state, server, 'networked', server['_created_ts'] + server['_boot'] * 2 / 3)


def _on_networked(state, server, at):
    if not server.get('_bdms'):
        _on_mapped(state, server, at)
        return
    _set_state(server, at, task_state='block_device_mapping')
    try:
        bdm.build_volumes(state, server)
    except errors.ApiError as exc:
        _fail(state, server, at, exc.body['computeFault']['message'])
        return
    _schedule(state, server, 'mapped', server['_created_ts'] + server['_boot'] * 5 / 6)


def _on_mapped(state, server, at):
    _set_state(server, at, task_state='spawning')
    _schedule(state, server, 'spawned', server['_created_ts'] + server['_boot'])


def _on_spawned(state, server, at):
    bdm.attach_all(state, server)
    server['launched_at'] = _micro(at)
    server['root_device_name'] = '/dev/vda'
    _set_state(server, at, vm_state='active', task_state=None,
               power_state=_POWER['running'])


def _on_stopped(state, server, at):
    _set_state(server, at, vm_state='stopped', task_state=None,
               power_state=_POWER['shutdown'])


def _on_running(state, server, at):
    _set_state(server, at, vm_state='active', task_state=None,
               power_state=_POWER['running'])


def _on_deleted(state, server, at):
    _release_resources(state, server)
    state.table('servers').pop(server['id'], None)


_TRANSITIONS = {'scheduled': _on_scheduled, 'networked': _on_networked,
                'mapped': _on_mapped, 'spawned': _on_spawned, 'stopped': _on_stopped,
                'running': _on_running, 'deleted': _on_deleted}


def advance(state, now):
    pending = _pending(state)
    if not pending:
        return
    servers = state.table('servers')
    for server_id in list(pending):
        server = servers.get(server_id)
        while server is not None and server.get('_next') is not None \
                and server['_next'] <= now:
            kind, at = server['_next_kind'], server['_next']
            server['_next'] = server['_next_kind'] = None
            try:
                _TRANSITIONS[kind](state, server, at)
            except Exception as exc:        # a simulator bug: log it, fail the server
                LOG.exception('nova transition %s of server %s failed', kind, server_id)
                if server_id in servers and kind != 'deleted':
                    _fail(state, server, at, f'Simulator error during {kind}: {exc}')
                elif kind == 'deleted':
                    servers.pop(server_id, None)
            server = servers.get(server_id)
        if server is not None:
            volumes.advance_bdms(state, server, now)
        if server is None or not _busy(server):
            pending.discard(server_id)


def _port_id(port):
    return port['id'] if isinstance(port, dict) else port


def _allocate_networks(state, server, at):
    """Create (uuid requests) or bind (port requests) the server's ports.

    A Neutron error fails the build, as nova's compute does: ports created so
    far are deleted, bound ones unbound, and the server goes to ERROR.
    """
    done = []
    try:
        for request in server['_requests']:
            if request['port_id']:
                port = state.table('ports').get(request['port_id'])
                if port is None:
                    raise errors.nova(400, f"Port id {request['port_id']} could not be "
                                           "found.")
                if port.get('device_id') and port['device_id'] != server['id']:
                    raise errors.nova(409, f"Port {request['port_id']} is still in use.")
                neutron.bind_port(state, request['port_id'], server['id'], DEVICE_OWNER,
                                  host=HOST)
                done.append({'id': request['port_id'], 'created': False})
            else:
                fixed = ([{'ip_address': request['fixed_ip']}] if request['fixed_ip']
                         else None)
                port = neutron.create_port(state, server['project_id'],
                                           request['network_id'], name='',
                                           security_group_ids=server['_sg_ids'],
                                           device_id=server['id'],
                                           device_owner=DEVICE_OWNER, fixed_ips=fixed,
                                           is_admin=bool(server.get('_admin')))
                done.append({'id': _port_id(port), 'created': True})
                neutron.bind_port(state, _port_id(port), server['id'], DEVICE_OWNER,
                                  host=HOST)
    except errors.ApiError as exc:
        _free_ports(state, done)
        reason = next((v.get('message') for v in exc.body.values()
                       if isinstance(v, dict)), '') if isinstance(exc.body, dict) else ''
        _fail(state, server, at, f"Build of instance {server['id']} aborted: Failed to "
                                 "allocate the network(s), not rescheduling.",
              details=reason or None)
        return False
    server['_ports'] = done
    return True


def _free_ports(state, entries):
    """Nova-created ports deleted, pre-existing ones unbound."""
    for entry in entries:
        try:
            if entry['created']:
                neutron.delete_port(state, entry['id'])
            else:
                neutron.unbind_port(state, entry['id'])
        except errors.ApiError:
            pass


def _release_resources(state, server):
    """On delete: the ports freed, volumes detached (or deleted when
    delete_on_termination)."""
    _free_ports(state, server.get('_ports') or ())
    server['_ports'] = []
    volumes.release_all(state, server, delete=True)
    server['_bdms'] = []
