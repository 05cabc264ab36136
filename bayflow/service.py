"""The service layer every front door drives: validate, persist, move the lifecycle.

The CLI, the daemon, conductors and embedding services call these methods;
they never touch persistence or the flows directly.
"""

from bayflow import config, validation
from bayflow.persistence import api as db_api
from bayflow.persistence import migration

BAYMODEL_SORT_KEYS = ('id', 'uuid', 'name', 'coe', 'created_at')


class Service:
    def __init__(self, conf=config.CONF):
        self.conf = conf
        self._db = None

    @property
    def db(self):
        """The database; the embedded SQLite default is migrated on first use."""
        if self._db is None:
            url = config.database_url(self.conf)
            if not self.conf.database.connection:
                config.ensure_state_path(self.conf)
                migration.upgrade(url)
            self._db = db_api.Database(url)
        return self._db

    def close(self):
        if self._db is not None:
            self._db.dispose()
            self._db = None

    # -- baymodels -----------------------------------------------------------
    def create_baymodel(self, values):
        """Validate first (no database touched on bad input), then insert."""
        record, warnings = validation.validate_baymodel(values, conf=self.conf)
        return self.db.create_baymodel(record), warnings

    def get_baymodel(self, ident):
        return self.db.get_baymodel(ident)

    def list_baymodels(self, limit=None, sort_key='id', sort_dir='asc'):
        return self.db.list_baymodels(limit=limit, sort_key=sort_key, sort_dir=sort_dir)

    def update_baymodel(self, ident, ops):
        stored = self.db.get_baymodel(ident)
        record, warnings = validation.validate_baymodel_patch(stored, ops, conf=self.conf)
        changes = {k: v for k, v in record.items() if stored.get(k) != v}
        if not changes:
            return stored, warnings
        return self.db.update_baymodel(stored['uuid'], changes), warnings

    def delete_baymodel(self, ident):
        stored = self.db.get_baymodel(ident)
        self.db.delete_baymodel(stored['uuid'])
        return stored

    # -- bays ------------------------------------------------------------------
    def get_bay(self, ident):
        return self.db.get_bay(ident)

    def list_bays(self, filters=None):
        return self.db.list_bays(filters=filters)
