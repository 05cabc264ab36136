"""``bayflow cloud-sim``: the OpenStack API simulator, for demos and tests."""

import argparse

from cliff import command


class CloudSim(command.Command):
    """Run the OpenStack API simulator (Keystone, Neutron, Nova, Glance, Cinder)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('sim_args', nargs=argparse.REMAINDER,
                            help='--host, --port, --latency-ms, --boot-seconds, '
                                 '--clouds-yaml PATH, --state FILE '
                                 '(see: bayflow cloud-sim -- --help)')
        return parser

    def take_action(self, parsed_args):
        from bayflow.cloudsim import cli
        args = parsed_args.sim_args
        if args[:1] == ['--']:
            args = args[1:]
        return cli.main(args)
