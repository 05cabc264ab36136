"""What every COE driver provides (reference 3.1: one driver per (server_type, os_distro, coe)).

A COE driver says what a bay is made of (roles, their security groups, server
names), where its API answers, and what each server runs (its cloud-init
user_data); ``bay_config`` gives a user the files to reach the bay. It asks the
bay's network driver for the container-network parts. Drivers are stateless:
every input comes in as plain dicts (bay and baymodel records, a context).

The user_data context, one per server (``render_user_data(role, context)``)::

    {
      'bay':      the bay record: uuid (required), name, discovery_url,
                  master_count, node_count,
      'baymodel': the baymodel record (tls_disabled, docker_volume_size,
                  docker_storage_driver, network_driver, proxies, labels,
                  cluster_distro, floating_ip_enabled, ...),
      'labels':   effective labels (optional: derived from the baymodel),
      'index':    this server's index within its role (0, 1, ...),
      'fixed_ip': this server's fixed IP,   'floating_ip': its floating IP or None
                  (a master's defaults to its entry in 'masters'),
      'docker_volume': the id of this server's docker volume, or None (optional:
                  with it the volume is found by id, else it is taken as /dev/vdb),
      'masters':  [{'fixed_ip', 'floating_ip'}, ...] every master, by index
                  (without a load balancer master 0 is the API and etcd endpoint),
      'cluster_subnet': the CIDR of the bay's private subnet (optional),
      'ca':       {'cert', 'key'}: the bay CA, key decrypted (required unless
                  tls_disabled); the driver issues the server's own certificate.
    }

The rendered document holds private keys when TLS is on: keep it out of logs
and out of TaskFlow results (render it inside the task that creates the server).
"""

import abc
import base64

from bayflow import validation
from bayflow.drivers import network as network_drivers
from bayflow.drivers import rules
from bayflow.drivers.cloud import naming
from bayflow.drivers.userdata import NOVA_USER_DATA_LIMIT, UserDataError, multipart

DEFAULT_FLAVOR = 'm1.medium'


class CoeDriver(abc.ABC):
    #: ((server_type, os_distro, coe), ...) this driver builds.
    provides = ()
    #: The roles of a bay, in creation order (masters first: nodes need their addresses).
    role_names = ('master', 'node')

    # -- what a bay is made of --------------------------------------------------
    def roles(self, bay, baymodel=None):
        """-> [{'role', 'count', 'flavor', 'volume_size'}] in creation order.

        ``flavor`` is the baymodel's (master_flavor_id, else flavor_id, for
        masters) and ``volume_size`` its docker volume in GB, None for no
        volume; both None without a baymodel.
        """
        baymodel = baymodel or {}
        flavor = baymodel.get('flavor_id') or (DEFAULT_FLAVOR if baymodel else None)
        volume = baymodel.get('docker_volume_size') or None
        return [
            {'role': 'master', 'count': int(bay.get('master_count') or 1),
             'flavor': baymodel.get('master_flavor_id') or flavor, 'volume_size': volume},
            {'role': 'node', 'count': int(bay.get('node_count') or 1),
             'flavor': flavor, 'volume_size': volume},
        ]

    def shares_service_account_key(self, bay, baymodel):
        """True when the bay's masters need one key made for them all before
        they boot (tls.service_account_key); the CA step makes it."""
        return False

    def server_name(self, bay_uuid, role, index):
        """The cloud driver's name (``bf-<uuid>-<role>-<index>``), which is also
        the hostname: hyphens only, an underscore breaks kubernetes' node names
        (reference 5.3)."""
        return naming.server_name(bay_uuid, role, index)

    def network_driver(self, baymodel, network_driver=None):
        """The network driver instance: given (instance or name), else the
        baymodel's, else the COE's default."""
        if isinstance(network_driver, network_drivers.NetworkDriver):
            return network_driver
        return network_drivers.get_driver(
            network_driver or baymodel.get('network_driver')
            or validation.DEFAULT_NETWORK_DRIVER.get(baymodel.get('coe')))

    def labels(self, baymodel, labels=None):
        """``labels`` if given (effective already), else the baymodel's effective labels."""
        return validation.effective_labels(baymodel) if labels is None else labels

    def security_groups(self, baymodel, network_driver=None, labels=None):
        """-> {role: [rule dicts]}: the COE's rules plus the network driver's."""
        labels = self.labels(baymodel, labels)
        network = self.network_driver(baymodel, network_driver)
        extra = rules.expand(network.security_group_rules(labels), self.role_names)
        return rules.merge({role: [] for role in self.role_names},
                           self.coe_rules(baymodel, labels), extra)

    def allowed_address_pairs(self, baymodel, network_driver=None, labels=None):
        """-> [{'ip_address': cidr}] for every port of the bay (the network driver's)."""
        network = self.network_driver(baymodel, network_driver)
        return network.allowed_address_pairs(self.labels(baymodel, labels))

    @abc.abstractmethod
    def coe_rules(self, baymodel, labels):
        """-> {role: [rule dicts]}: what the COE itself needs open."""

    @abc.abstractmethod
    def api_address(self, baymodel, master):
        """-> str: the bay's API URL, from ``{'fixed_ip', 'floating_ip'}`` of master 0."""

    @staticmethod
    def public_ip(baymodel, server):
        """The floating IP, or the fixed IP when floating IPs are off or absent."""
        if baymodel.get('floating_ip_enabled', True) is not False and server.get('floating_ip'):
            return server['floating_ip']
        return server['fixed_ip']

    # -- what each server runs --------------------------------------------------
    def render_user_data(self, role, context):
        """-> str: the server's cloud-init document (MIME multipart)."""
        ctx = self.prepare_context(role, context)
        document = multipart(self.user_data_parts(role, ctx))
        size = len(base64.b64encode(document.encode('utf-8')))
        if size > NOVA_USER_DATA_LIMIT:
            raise UserDataError(
                f'user_data of {ctx["server_name"]}: {size} bytes once base64-encoded, '
                f'Nova accepts at most {NOVA_USER_DATA_LIMIT}; shorten the proxy '
                f'settings or labels')
        return document

    def prepare_context(self, role, context):
        """The context checked, with labels, server_name and role filled in."""
        if role not in self.role_names:
            raise UserDataError(f'role {role!r}: this driver renders '
                                f'{", ".join(self.role_names)}')
        missing = [key for key in ('bay', 'baymodel', 'index', 'fixed_ip')
                   if context.get(key) is None]
        if not (context.get('bay') or {}).get('uuid'):
            missing.append("bay['uuid']")
        if not (context.get('masters') or [{}])[0].get('fixed_ip'):
            missing.append("masters[0]['fixed_ip']")
        baymodel = context.get('baymodel') or {}
        ca = context.get('ca') or {}
        if not baymodel.get('tls_disabled') and not (ca.get('cert') and ca.get('key')):
            missing.append("ca {'cert', 'key'} (TLS is on)")
        if missing:
            raise UserDataError(f'user_data context for {role}: missing '
                                f'{", ".join(dict.fromkeys(missing))}')
        ctx = dict(context)
        ctx['role'] = role
        ctx['labels'] = self.labels(baymodel, context.get('labels'))
        ctx['server_name'] = self.server_name(context['bay']['uuid'], role, context['index'])
        if ctx.get('floating_ip') is None and role == 'master' \
                and context['index'] < len(context['masters']):
            ctx['floating_ip'] = context['masters'][context['index']].get('floating_ip')
        return ctx

    @abc.abstractmethod
    def user_data_parts(self, role, context):
        """-> [(filename, content)] in run order, from a prepared context."""

    # -- reaching the bay -------------------------------------------------------------
    @abc.abstractmethod
    def bay_config(self, bay, baymodel, ca=None, client=None):
        """-> {filename: content}: what ``bay-config`` writes for a user."""

    def __repr__(self):
        return f'<{type(self).__name__} {", ".join("/".join(p) for p in self.provides)}>'
