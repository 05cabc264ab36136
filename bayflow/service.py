"""The service layer every front door drives: validate, persist, move the lifecycle.

The CLI, the daemon, conductors and embedding services call these methods;
they never touch persistence or the flows directly.
"""

from sqlalchemy import exc as sa_exc

from bayflow import api, bay_operations, config, exceptions, validation
from bayflow.persistence import api as db_api
from bayflow.persistence import diagnosis
from bayflow.persistence import exceptions as db_exc
from bayflow.persistence import migration

BAYMODEL_SORT_KEYS = ('id', 'uuid', 'name', 'coe', 'created_at')
# A baymodel update re-applied on a newer row this many times at most.
UPDATE_ATTEMPTS = 5


def database_error(url, error):
    """A driver error or DatabaseNotReady as one line: DatabaseUnavailable.

    Any other error, and driver errors we cannot explain (bugs to report),
    come back unchanged.
    """
    if isinstance(error, sa_exc.DBAPIError):
        error = diagnosis.explain(url, error) or error
    if isinstance(error, db_exc.DatabaseNotReady):
        return exceptions.DatabaseUnavailable(str(error))
    return error


class Service(bay_operations.BayOperations):
    """``start_flow(bay_uuid)`` starts a flow nobody waits for: by default a
    detached worker process; the daemon runs it in its own pool, and a
    conductor front door would post it as a job instead.
    ``check_baymodel(baymodel, warm_up=False)`` replaces api.check_baymodel
    for creates (the daemon's keeps answers a while)."""

    def __init__(self, conf=config.CONF, start_flow=None, check_baymodel=None,
                 flows_here=None):
        self.conf = conf
        self.flows_here = flows_here  # flows this process may run at once: its database pool
        self.start_flow = start_flow
        self.check_baymodel = check_baymodel
        self._db = None

    @property
    def db(self):
        """The database; the embedded SQLite default is migrated on first use.

        A configured one must be reachable and at bayflow's schema head, or
        DatabaseUnavailable says in one line which database and the fix.
        """
        if self._db is None:
            url = config.database_url(self.conf)
            db = db_api.Database(url, config.database_pool(self.conf, self.flows_here))
            try:
                if not self.conf.database.connection:
                    config.ensure_state_path(self.conf)
                    migration.upgrade(db)
                migration.check_ready(db)
            except Exception as e:
                db.dispose()
                mapped = database_error(url, e)
                if mapped is e:
                    raise
                raise mapped from e
            self._db = db
        return self._db

    def close(self):
        if self._db is not None:
            self._db.dispose()
            self._db = None

    # -- baymodels -----------------------------------------------------------
    def create_baymodel(self, values):
        """Validate first, then check the cloud (no database touched on bad
        input), then insert with the image's os_distro and the session's ids."""
        record, warnings = validation.validate_baymodel(values, conf=self.conf)
        resolved = api.check_baymodel(record)
        identity = self.cloud.identity()
        record.update(cluster_distro=resolved['cluster_distro'],
                      project_id=identity['project_id'], user_id=identity['user_id'])
        return self.db.create_baymodel(record), warnings

    def get_baymodel(self, ident):
        return self.db.get_baymodel(ident)

    def list_baymodels(self, limit=None, sort_key='id', sort_dir='asc'):
        return self.db.list_baymodels(limit=limit, sort_key=sort_key, sort_dir=sort_dir)

    def update_baymodel(self, ident, ops):
        """Apply ``ops`` to the stored baymodel and write it if still unchanged.

        The write is checked against the version the ops were validated on;
        if another update landed first, the ops are applied again to the new
        row and validated again, so the result is always a valid baymodel.
        """
        for _ in range(UPDATE_ATTEMPTS - 1):
            try:
                return self._update_baymodel(ident, ops)
            except db_exc.StaleObject:
                continue
        return self._update_baymodel(ident, ops)

    def _update_baymodel(self, ident, ops):
        stored = self.db.get_baymodel(ident)
        record, warnings = validation.validate_baymodel_patch(stored, ops, conf=self.conf)
        changes = {k: v for k, v in record.items() if stored.get(k) != v}
        if not changes:
            return stored, warnings
        return self.db.update_baymodel(stored['uuid'], stored['version'], changes), warnings

    def delete_baymodel(self, ident):
        stored = self.db.get_baymodel(ident)
        self.db.delete_baymodel(stored['uuid'])
        return stored

    # -- bays ------------------------------------------------------------------
    def get_bay(self, ident):
        return self.db.get_bay(ident)

    def list_bays(self, filters=None):
        return self.db.list_bays(filters=filters)
