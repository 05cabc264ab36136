"""Bay commands, with python-magnumclient's names, flags and columns."""

import argparse
import os

from bayflow import validation
from bayflow.cli import common, progress as progress_mod

LIST_COLUMNS = ('uuid', 'name', 'node_count', 'master_count', 'status')
# What `magnum bay-show` printed, in Magnum's names.
SHOW_FIELDS = ('uuid', 'name', 'status', 'status_reason', 'baymodel_id', 'node_count',
               'master_count', 'api_address', 'master_addresses', 'node_addresses',
               'discovery_url', 'create_timeout', 'created_at', 'updated_at')
STEP_COLUMNS = ('step', 'state', 'started_at', 'duration', 'error')
FAILED_ENDS = ('CREATE_FAILED', 'DELETE_FAILED', 'ROLLBACK_COMPLETE', 'ROLLBACK_FAILED',
               'UPDATE_FAILED')


def show_bay(bay):
    return SHOW_FIELDS, [common.plain(bay.get(k)) for k in SHOW_FIELDS]


class _Runs:
    """Commands that start a flow: ``--wait`` shows it and reports how it ended."""

    def add_wait(self, parser):
        parser.add_argument('--wait', action='store_true',
                            help='Run the flow here, showing its steps, and exit non-zero '
                                 'when the bay ends failed (default: a detached worker '
                                 'runs it and the command returns at once).')

    def add_rollback(self, parser, operation):
        parser.add_argument('--disable-rollback', action='store_true',
                            help=f'Keep what was built when the {operation} fails '
                                 f'({operation.upper()}_FAILED) instead of removing it.')

    def progress(self, parsed_args, title):
        if not parsed_args.wait:
            return None
        return progress_mod.Progress(title, stream=self.app.stdout)

    def run_flow(self, parsed_args, title, start, wanted):
        """``start()`` leaves the flow to a detached worker; with --wait it runs
        here under the progress display and the bay must end in ``wanted``."""
        view = self.progress(parsed_args, title)
        if view is None:
            return start()
        with view:
            bay = start(wait=True, progress=view)
        self.settle(bay, wanted)
        return bay

    def settle(self, bay, wanted=()):
        """Exit non-zero, with the reason, when the bay did not end as wanted."""
        if bay['status'] in FAILED_ENDS or (wanted and bay['status'] not in wanted):
            self.exit_code = 1
            self.app.stderr.write(f"ERROR: bay {bay['uuid']} is {bay['status']}: "
                                  f"{bay.get('status_reason')}\n")


class CreateBay(_Runs, common.ShowOne):
    """Create a bay from a baymodel."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('--name', help='Name of the bay.')
        parser.add_argument('--baymodel', required=True,
                            help='Baymodel (name or uuid) to build the bay from.')
        parser.add_argument('--node-count', dest='node_count', metavar='N',
                            help='Number of nodes (default 1).')
        parser.add_argument('--master-count', dest='master_count', metavar='N',
                            help='Number of masters (default 1).')
        parser.add_argument('--discovery-url', dest='discovery_url',
                            help='etcd discovery URL for the masters.')
        parser.add_argument('--timeout', dest='create_timeout', metavar='MINUTES',
                            help='Minutes the create may take (0 = no limit; default '
                                 '[bay] create_timeout).')
        self.add_rollback(parser, 'create')
        self.add_wait(parser)
        return parser

    def take_action(self, parsed_args):
        values = {k: getattr(parsed_args, k) for k in
                  ('name', 'node_count', 'master_count', 'discovery_url', 'create_timeout')
                  if getattr(parsed_args, k) is not None}
        values['baymodel_id'] = parsed_args.baymodel
        bay = self.run_flow(
            parsed_args, f'bay-create {parsed_args.name or ""}'.strip(),
            lambda **kw: self.service.create_bay(
                values, disable_rollback=parsed_args.disable_rollback, **kw),
            ('CREATE_COMPLETE',))
        return show_bay(bay)


class UpdateBay(_Runs, common.ShowOne):
    """Scale a bay: <op> is replace (node_count=N) or remove (node_count: back to 1)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        common.add_patch_arguments(
            parser, 'bay', 'replace (or add) node_count=N, or remove node_count.',
            'node_count=N (for remove, just node_count).')
        self.add_rollback(parser, 'update')
        self.add_wait(parser)
        return parser

    def take_action(self, parsed_args):
        ops = validation.parse_patch(parsed_args.op, parsed_args.attributes)
        node_count = validation.validate_bay_update({}, ops)['node_count']
        # (a no-op update leaves the bay as it was: CREATE_COMPLETE, say)
        bay = self.run_flow(
            parsed_args, f'bay-update {parsed_args.bay}',
            lambda **kw: self.service.update_bay(
                parsed_args.bay, node_count, disable_rollback=parsed_args.disable_rollback,
                **kw),
            ('CREATE_COMPLETE', 'UPDATE_COMPLETE'))
        return show_bay(bay)


class DeleteBay(_Runs, common.Command):
    """Delete bays (any status; a running flow stops at its next step)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('bays', nargs='+', metavar='bay', help='Names or uuids.')
        self.add_wait(parser)
        return parser

    def take_action(self, parsed_args):
        failed = 0
        for ident in parsed_args.bays:
            try:
                view = self.progress(parsed_args, f'bay-delete {ident}')
                if view is None:
                    bay = self.service.delete_bay(ident)
                    self.app.stdout.write(f"Request to delete bay {bay['uuid']} has been "
                                          f"accepted.\n")
                    continue
                with view:
                    bay = self.service.delete_bay(ident, wait=True, progress=view)
                if bay['status'] == 'DELETE_COMPLETE':
                    self.app.stdout.write(f"Bay {bay['uuid']} deleted.\n")
                else:
                    self.settle(bay)
                    failed += 1
            except common.USER_ERRORS as exc:
                if self.app_args.debug:
                    raise
                self.app.stderr.write(f'ERROR: {exc}\n')
                failed += 1
        return 1 if failed else 0


class ListBays(common.Lister):
    """List bays."""

    def take_action(self, parsed_args):
        rows = self.service.list_bays()
        return LIST_COLUMNS, [[row[c] for c in LIST_COLUMNS] for row in rows]


class ShowBay(common.ShowOne):
    """Show a bay (by name or uuid); --steps adds each step of its flow."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('bay', help='Name or uuid.')
        parser.add_argument('--steps', action='store_true',
                            help="Add each step of the bay's flow: state, start, "
                                 'duration and error.')
        return parser

    def take_action(self, parsed_args):
        bay = self.service.get_bay(parsed_args.bay)
        columns, values = show_bay(bay)
        if parsed_args.steps:
            steps = self.service.bay_steps(bay['uuid'])
            columns += ('steps',)
            values.append(steps if parsed_args.formatter in ('json', 'yaml')
                          else _steps_text(steps))
        return columns, values


def _steps_text(steps):
    lines = []
    for s in steps:
        duration = f"{s['duration']:.2f}s" if s.get('duration') is not None else '-'
        error = f"  {s['error']}" if s.get('error') else ''
        lines.append(f"{s['step']:<34} {s['state']:<15} {duration:>8}{error}")
    return '\n'.join(lines)


class BayConfig(common.Command):
    """Write the bay's client configuration (ca.pem, cert.pem, key.pem, config)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('bay', help='Name or uuid.')
        parser.add_argument('--dir', default='.', help='Directory to write to (default .).')
        parser.add_argument('--force', action='store_true',
                            help='Overwrite files that already exist.')
        return parser

    def take_action(self, parsed_args):
        written = self.service.bay_config(parsed_args.bay, parsed_args.dir,
                                          force=parsed_args.force)
        config = next((p for p in written if os.path.basename(p) == 'config'), None)
        if config:
            self.app.stdout.write(f'export KUBECONFIG={os.path.abspath(config)}\n')
        return 0


class Resume(common.Command):
    """Take over unfinished flows whose owner is gone (all, or the bays named)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('bays', nargs='*', metavar='bay', help='Names or uuids.')
        parser.add_argument('--wait', action='store_true',
                            help='Run the flows here until they end (default: detached '
                                 'workers run them).')
        parser.add_argument('--quiet', action='store_true', help=argparse.SUPPRESS)
        return parser

    def take_action(self, parsed_args):
        view = None
        if parsed_args.wait and not parsed_args.quiet:
            view = progress_mod.Progress('resume', stream=self.app.stdout, live=False)
        results = self.service.resume(parsed_args.bays, wait=parsed_args.wait, progress=view)
        if not results:
            self.app.stdout.write('Nothing to resume.\n')
        for bay, outcome in results:
            self.app.stdout.write(f"bay {bay['uuid']} ({bay.get('name') or '-'}): "
                                  f"{outcome}\n")
            if outcome in FAILED_ENDS or outcome.startswith('not resumed'):
                self.exit_code = 1
        if parsed_args.bays and any(o.startswith('skipped') for _, o in results):
            self.exit_code = 1
        return 0


