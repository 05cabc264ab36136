"""bayflow's own recorder: a finished flow moves the bay through the lifecycle machine."""

from bayflow import lifecycle, log
from bayflow.flows import records
from bayflow.persistence import exceptions as db_exc

LOG = log.get_logger(__name__)
NAME = 'bayflow'


class DatabaseRecorder(records.Recorder):
    """Writes as the lease holder, so a flow that lost its bay can't record."""

    def __init__(self, db, owner):
        self.db, self.owner = db, owner

    def create_complete(self, bay_uuid, outputs):
        self._complete(bay_uuid, 'create', outputs, ('api_address', 'master_addresses',
                                                     'node_addresses', 'ca_cert', 'ca_key'))

    def update_complete(self, bay_uuid, outputs):
        self._complete(bay_uuid, 'update', outputs, ('node_count', 'node_addresses'))

    def _complete(self, bay_uuid, operation, outputs, fields):
        bay = self.db.get_bay(bay_uuid)
        if bay['status'] != f'{operation.upper()}_IN_PROGRESS':
            # Already recorded (a re-run), or a delete was requested meanwhile.
            LOG.info('bay %s is %s: %s not recorded as complete', bay_uuid,
                     bay['status'], operation)
            return
        lifecycle.transition(self.db, bay, f'{operation}_complete', owner=self.owner,
                             extra={k: outputs[k] for k in fields if k in outputs})

    def delete_complete(self, bay_uuid):
        try:
            bay = self.db.get_bay(bay_uuid)
        except db_exc.NotFound:
            return  # a re-run: the row is already gone
        lifecycle.transition(self.db, bay, 'delete_complete', owner=self.owner)


def install(db, owner):
    records.register(NAME, DatabaseRecorder(db, owner))
