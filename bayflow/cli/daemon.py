"""``bayflow daemon``: serve bay events and OpenStack RPC casts until SIGTERM."""

from bayflow import config
from bayflow.cli import common


class Daemon(common.Command):
    """Consume bay events and oslo.messaging casts, run their flows, send notifications.

    Messages come from [messaging] transport_url (the embedded SQLite bus by
    default). At most [daemon] max_concurrent_flows flows run at once. SIGTERM
    stops it cleanly: running flows stop at a step boundary for a later resume.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--health-port', dest='health_port', type=int, metavar='PORT',
                            help='Serve /healthz and Prometheus /metrics on this port '
                                 '(default [daemon] health_port; 0: off).')
        return parser

    def take_action(self, parsed_args):
        from bayflow.daemon import app  # only this command pulls in kombu and the pool
        return app.Daemon(config.CONF, health_port=parsed_args.health_port).run()
