"""Bay commands, with python-magnumclient's names and columns."""

from bayflow.cli import common

LIST_COLUMNS = ('uuid', 'name', 'node_count', 'master_count', 'status')


class ListBays(common.Lister):
    """List bays."""

    def take_action(self, parsed_args):
        rows = self.service.list_bays()
        return LIST_COLUMNS, [[row[c] for c in LIST_COLUMNS] for row in rows]


class ShowBay(common.ShowOne):
    """Show a bay (by name or uuid)."""

    def get_parser(self, prog_name):
        parser = super().get_parser(prog_name)
        parser.add_argument('bay', help='Name or uuid.')
        return parser

    def take_action(self, parsed_args):
        bay = self.service.get_bay(parsed_args.bay)
        return common.show_columns(bay, hidden=('id', 'owner', 'lease_expires_at'))
