"""The ``bayflow`` command: Magnum-era commands on a cliff application."""

import sys

import bayflow

bayflow.quiet_imports()

from cliff import app, commandmanager  # noqa: E402 - after quiet_imports

from bayflow import config, log  # noqa: E402
from bayflow.cli import baymodels, bays, cloudsim, daemon, db, demo, events  # noqa: E402

COMMANDS = {
    'baymodel-create': baymodels.CreateBayModel,
    'baymodel-list': baymodels.ListBayModels,
    'baymodel-show': baymodels.ShowBayModel,
    'baymodel-update': baymodels.UpdateBayModel,
    'baymodel-delete': baymodels.DeleteBayModel,
    'bay-create': bays.CreateBay,
    'bay-update': bays.UpdateBay,
    'bay-delete': bays.DeleteBay,
    'bay-list': bays.ListBays,
    'bay-show': bays.ShowBay,
    'bay-config': bays.BayConfig,
    'resume': bays.Resume,
    'event-send': events.SendEvent,
    'demo': demo.Demo,
    'daemon': daemon.Daemon,
    'db upgrade': db.Upgrade,
    'db version': db.Version,
    'cloud-sim': cloudsim.CloudSim,
}


class BayflowApp(app.App):
    """Global options first (``--config-file``, ``--log-format``, ``--debug``)."""

    def __init__(self):
        manager = commandmanager.CommandManager('bayflow.cli')
        for name, command in COMMANDS.items():
            manager.add_command(name, command)
        super().__init__(description=__doc__, version=bayflow.__version__,
                         command_manager=manager, deferred_help=True)

    def build_option_parser(self, description, version, argparse_kwargs=None):
        parser = super().build_option_parser(description, version, argparse_kwargs)
        parser.add_argument('--config-file', metavar='PATH', action='append', default=[],
                            help='oslo.config file (repeatable). Without one, '
                                 'everything lives under $BAYFLOW_HOME (~/.bayflow).')
        parser.add_argument('--log-format', choices=('console', 'json'),
                            help='Render log lines for people (console) or as JSON.')
        return parser

    def configure_logging(self):
        # cliff's own logging setup is replaced by structlog's (bayflow.log).
        self._logging_ready = False

    def initialize_app(self, argv):
        config.load(self.options.config_file)
        if self.options.log_format:
            config.CONF.set_override('log_format', self.options.log_format)
        if config.CONF.log_file is None:
            config.ensure_state_path()
        # cliff's default verbosity is 1: warnings only on the console then;
        # -v shows info, -vv debug.
        log.setup_from_config(debug=self.options.debug,
                              verbose_level=max(self.options.verbose_level - 1, 0))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv:
        argv = ['--help']
    if argv[0] == 'cloud-sim':
        # The simulator parses its own flags (and stands apart from the engine).
        from bayflow.cloudsim import cli
        return cli.main(argv[1:])
    return BayflowApp().run(argv)


if __name__ == '__main__':
    sys.exit(main())
