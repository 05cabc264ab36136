"""What every bayflow command shares: one clear error line, never a traceback."""

import datetime
import sys

from cliff import command, lister, show
from sqlalchemy import exc as sa_exc

from bayflow import config, exceptions, service
from bayflow.persistence import exceptions as db_exc

USER_ERRORS = (exceptions.BayflowError, db_exc.PersistenceError)


class _UserErrors:
    """Turn a user-facing error into ``ERROR: <message>`` and its exit code.

    With ``--debug`` the error propagates, so cliff prints the traceback.
    """

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.error = lambda message: _usage_error(parser, message)
        return parser

    # A command sets this to fail without an error line (a bay that ended failed).
    exit_code = 0

    def run(self, parsed_args):
        try:
            return super().run(parsed_args) or self.exit_code
        except (*USER_ERRORS, sa_exc.DBAPIError) as exc:
            if isinstance(exc, sa_exc.DBAPIError):
                # The database went away (or was never set up) mid-command.
                exc = service.database_error(config.database_url(), exc)
            if self.app_args.debug or not isinstance(exc, USER_ERRORS):
                raise
            sys.stderr.write(f'ERROR: {exc}\n')
            return getattr(exc, 'exit_code', 1)

    @property
    def service(self):
        if not hasattr(self, '_service'):
            self._service = service.Service()
        return self._service


def _usage_error(parser, message):
    """argparse's usage errors, as one line and exit code 2."""
    sys.stderr.write(f'ERROR: {parser.prog}: {message} (see: {parser.prog} --help)\n')
    sys.exit(2)


class Command(_UserErrors, command.Command):
    pass


class Lister(_UserErrors, lister.Lister):
    pass


class ShowOne(_UserErrors, show.ShowOne):
    pass


def add_patch_arguments(parser, target, op_help, attributes_help):
    """``<target> <op> <attribute=value> [...]``: python-magnumclient's *-update form."""
    parser.add_argument(target, help='Name or uuid.')
    parser.add_argument('op', help=op_help)
    parser.add_argument('attributes', nargs='+', metavar='attribute=value',
                        help=attributes_help)


def plain(value):
    """Datetimes as ISO 8601 text, so every formatter (json, yaml) can print them."""
    return value.isoformat() if isinstance(value, datetime.datetime) else value


def show_columns(record, hidden=()):
    """(columns, values) of a record dict, sorted by name, for ShowOne."""
    names = sorted(k for k in record if k not in hidden)
    return names, [plain(record[k]) for k in names]
