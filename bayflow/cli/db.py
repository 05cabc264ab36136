"""``bayflow db upgrade|version``: bayflow's and TaskFlow's schema."""

from bayflow import config
from bayflow.cli import common
from bayflow.persistence import migration


class Upgrade(common.Command):
    """Apply bayflow's migrations and TaskFlow's persistence migrations."""

    def take_action(self, parsed_args):
        url = config.database_url()
        if url.startswith('sqlite:'):
            config.ensure_state_path()
        migration.upgrade(url)
        self.app.stdout.write(f'database at revision {migration.current(url)}\n')
        return 0


class Version(common.Command):
    """Print the database's bayflow schema revision."""

    def take_action(self, parsed_args):
        self.app.stdout.write(f'{migration.current(config.database_url()) or "none"}\n')
        return 0
