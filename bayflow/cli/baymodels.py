"""Baymodel commands, with python-magnumclient's names and flags (Mitaka + Newton)."""

from bayflow import exceptions, validation
from bayflow.cli import common
from bayflow.log import get_logger

LOG = get_logger(__name__)

# (flag, extra flag names, attribute, help). Values stay strings here: the
# validator converts them, so a bad value gets one error naming the field.
VALUE_FLAGS = (
    ('--name', (), 'name', 'Name of the baymodel.'),
    ('--image-id', ('--image',), 'image_id', 'Glance image (name or id) with os_distro set.'),
    ('--keypair-id', ('--keypair',), 'keypair_id', 'Nova keypair (name) for the nodes.'),
    ('--external-network-id', ('--external-network',), 'external_network_id',
     'External Neutron network (name or id) for the router gateway and floating IPs.'),
    ('--coe', (), 'coe', 'Container orchestration engine: kubernetes, swarm or mesos.'),
    ('--fixed-network', (), 'fixed_network', 'Existing private network to use.'),
    ('--fixed-subnet', (), 'fixed_subnet', 'Existing private subnet to use.'),
    ('--network-driver', (), 'network_driver', 'Container network driver.'),
    ('--volume-driver', (), 'volume_driver', 'Container volume driver.'),
    ('--dns-nameserver', (), 'dns_nameserver', 'DNS server for the private subnet '
                                               '(default 8.8.8.8).'),
    ('--flavor-id', ('--flavor',), 'flavor_id', 'Nova flavor of the nodes (default m1.medium).'),
    ('--master-flavor-id', ('--master-flavor',), 'master_flavor_id', 'Nova flavor of masters.'),
    ('--docker-volume-size', (), 'docker_volume_size', 'Size in GB of the docker volume.'),
    ('--docker-storage-driver', (), 'docker_storage_driver',
     'devicemapper (default) or overlay.'),
    ('--apiserver-port', (), 'apiserver_port', 'API server port (1024-65535).'),
    ('--http-proxy', (), 'http_proxy', 'http_proxy for the nodes.'),
    ('--https-proxy', (), 'https_proxy', 'https_proxy for the nodes.'),
    ('--no-proxy', (), 'no_proxy', 'no_proxy for the nodes.'),
    ('--server-type', (), 'server_type', 'vm (default).'),
)
BOOL_FLAGS = (
    ('--tls-disabled', 'tls_disabled', 'Disable TLS for the COE API.'),
    ('--public', 'public', 'Make the baymodel public.'),
    ('--registry-enabled', 'registry_enabled', 'Enable a docker registry on the nodes.'),
    ('--master-lb-enabled', 'master_lb_enabled', 'Put a load balancer in front of masters.'),
)
LIST_COLUMNS = ('uuid', 'name', 'coe')
HIDDEN = ('id', 'version')


def show_baymodel(record):
    """The labels as the user gave them, and beside them what bays get."""
    record = dict(record)
    try:
        record['effective_labels'] = validation.effective_labels(record)
    except exceptions.InvalidParameter as exc:
        record['effective_labels'] = f'invalid ({exc}): fix the labels with baymodel-update'
    return common.show_columns(record, hidden=HIDDEN)


class CreateBayModel(common.ShowOne):
    """Create a baymodel (validated locally before anything is written)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        for flag, aliases, dest, text in VALUE_FLAGS:
            parser.add_argument(flag, *aliases, dest=dest, metavar=dest.upper(), help=text)
        for flag, dest, text in BOOL_FLAGS:
            parser.add_argument(flag, dest=dest, action='store_true', default=None, help=text)
        fip = parser.add_mutually_exclusive_group()
        fip.add_argument('--floating-ip-enabled', dest='floating_ip_enabled',
                         action='store_true', default=None,
                         help='Give every node a floating IP (default).')
        fip.add_argument('--floating-ip-disabled', dest='floating_ip_enabled',
                         action='store_false', help='No floating IPs on the nodes.')
        parser.add_argument('--labels', action='append', default=[],
                            metavar='KEY1=VALUE1,KEY2=VALUE2;KEY3=VALUE3...',
                            help='Labels (repeatable; "," or ";" separated).')
        return parser

    def take_action(self, parsed_args):
        values = {dest: getattr(parsed_args, dest) for _, _, dest, _ in VALUE_FLAGS}
        values.update({dest: getattr(parsed_args, dest) for _, dest, _ in BOOL_FLAGS})
        values['floating_ip_enabled'] = parsed_args.floating_ip_enabled
        values = {k: v for k, v in values.items() if v is not None}
        if parsed_args.labels:
            values['labels'] = validation.parse_labels(parsed_args.labels)
        record, warnings = self.service.create_baymodel(values)
        for warning in warnings:
            LOG.warning(warning)
        return show_baymodel(record)


class ListBayModels(common.Lister):
    """List baymodels."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--limit', metavar='N', help='At most N baymodels.')
        parser.add_argument('--sort-key', default='id', help='Column to sort on.')
        parser.add_argument('--sort-dir', default='asc', help='asc or desc.')
        return parser

    def take_action(self, parsed_args):
        limit = parsed_args.limit
        if limit is not None:
            if not str(limit).isdigit() or int(limit) < 1:
                raise exceptions.InvalidParameter('limit', limit, 'a whole number >= 1')
            limit = int(limit)
        rows = self.service.list_baymodels(limit=limit, sort_key=parsed_args.sort_key,
                                           sort_dir=parsed_args.sort_dir)
        return LIST_COLUMNS, [[row[c] for c in LIST_COLUMNS] for row in rows]


class ShowBayModel(common.ShowOne):
    """Show a baymodel (by name or uuid)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('baymodel', help='Name or uuid.')
        return parser

    def take_action(self, parsed_args):
        return show_baymodel(self.service.get_baymodel(parsed_args.baymodel))


class UpdateBayModel(common.ShowOne):
    """Update a baymodel: <op> is add, replace or remove; attributes as path=value."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        common.add_patch_arguments(parser, 'baymodel', 'add, replace or remove.',
                                   'Attributes (for remove, just the path).')
        return parser

    def take_action(self, parsed_args):
        ops = validation.parse_patch(parsed_args.op, parsed_args.attributes)
        record, warnings = self.service.update_baymodel(parsed_args.baymodel, ops)
        for warning in warnings:
            LOG.warning(warning)
        return show_baymodel(record)


class DeleteBayModel(common.Command):
    """Delete baymodels (refused while a bay uses one)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('baymodels', nargs='+', metavar='baymodel',
                            help='Names or uuids.')
        return parser

    def take_action(self, parsed_args):
        failed = 0
        for ident in parsed_args.baymodels:
            try:
                deleted = self.service.delete_baymodel(ident)
            except common.USER_ERRORS as exc:
                self.app.stderr.write(f'ERROR: {exc}\n')
                failed += 1
            else:
                self.app.stdout.write(f"Request to delete baymodel {deleted['uuid']} "
                                      'has been accepted.\n')
        return 1 if failed else 0
