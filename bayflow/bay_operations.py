"""The bay half of the service layer: create, delete and resume bays as flows.

Every front door (CLI, daemon, conductor) goes through here: validate, check
the cloud, insert the bay through the lifecycle machine, persist its flow,
then either run the flow in this process or leave it to a detached worker.
"""

import os
import subprocess
import sys
import threading
import time
import uuid as uuidlib

from bayflow import api, config, exceptions, lifecycle, log, validation
from bayflow.drivers import cloud as cloud_driver
from bayflow.drivers import coe, tls
from bayflow.engine import books, owner as owner_mod, recorder, runner
from bayflow.flows import retry, specs
from bayflow.persistence import exceptions as db_exc

LOG = log.get_logger(__name__)

class BayOperations:
    """Mixed into ``bayflow.service.Service`` (which owns ``conf`` and ``db``)."""

    @property
    def cloud(self):
        return cloud_driver.get_cloud()

    @property
    def owner(self):
        return owner_mod.me()

    @property
    def lease_seconds(self):
        return self.conf.bay.lease_seconds

    @property
    def backend(self):
        if getattr(self, '_backend', None) is None:
            self._backend = books.backend_for(self.db)
        return self._backend

    # -- create -------------------------------------------------------------
    def create_bay(self, values, wait=False, disable_rollback=False, progress=None,
                   event_id=None):
        """Record the bay and its flow, then run it here (wait) or start it
        (``start_flow``). ``event_id`` is recorded with the bay's insert.

        The bay, its flow's logbook and the event go in one transaction, so
        no bay is ever without its flow and a duplicate event leaves nothing.
        """
        # The warm-up helps only the process that goes on to run the flow.
        values, book = self._prepared(values, self.db.get_baymodel, wait, disable_rollback)
        bay = lifecycle.start_create(self.db, values, event_id=event_id, book=book)
        return self._start(bay, wait, progress)

    def create_bays(self, requests):
        """Record many creates in one transaction (the daemon's batch of
        events), then start each: ``requests`` are (values, event_id).

        -> one bay or exception per request, in order: a request refused
        (validation, its baymodel, the cloud check) does not stop the others.
        Raises if the transaction fails (a duplicate event among them, an
        outage): nothing of the batch was recorded then.
        """
        baymodels, results, ready = {}, [None] * len(requests), []
        identity = self.cloud.identity()

        def baymodel(ident):
            if ident not in baymodels:
                baymodels[ident] = self.db.get_baymodel(ident)
            return baymodels[ident]

        for i, (values, event_id) in enumerate(requests):
            try:
                ready.append((i, self._prepared(values, baymodel, identity=identity),
                              event_id))
            except Exception as exc:  # noqa: BLE001 - this request's own verdict
                results[i] = exc
        if ready:
            bays = lifecycle.start_creates(
                self.db, [(values, event_id, book)
                          for _, (values, book), event_id in ready])
            for (i, _, _), bay in zip(ready, bays):
                results[i] = self._start(bay, False, None)
        return results

    def _prepared(self, values, baymodel_of, warm_up=False, disable_rollback=False,
                  identity=None):
        """A create's checked bay values (with its flow's id) and its logbook."""
        record = validation.validate_bay(values, conf=self.conf)
        baymodel = baymodel_of(record['baymodel_id'])
        resolved = self._checked(baymodel, warm_up=warm_up)
        identity = identity or self.cloud.identity()
        values = dict(record, uuid=str(uuidlib.uuid4()), baymodel_id=baymodel['uuid'],
                      project_id=identity['project_id'], user_id=identity['user_id'])
        book, flow_id = self._new_book(values, 'create', resolved, disable_rollback)
        return dict(values, flow_id=flow_id), book

    def _checked(self, baymodel, warm_up=False):
        """api.check_baymodel, or the front door's own (``Service(check_baymodel=)``:
        the daemon keeps the answers a while, for its ingest rate)."""
        check = getattr(self, 'check_baymodel', None) or api.check_baymodel
        return check(baymodel, warm_up=warm_up)

    def _save_flow(self, bay, resolved=None, disable_rollback=False):
        """Persist the flow of the bay's current operation and point the bay at it."""
        flow_id = self._new_flow(bay, bay['operation'], resolved, disable_rollback)
        return self.db.update_bay(bay['uuid'], bay['version'], {'flow_id': flow_id})

    def _new_flow(self, bay, operation, resolved=None, disable_rollback=False,
                  node_count=None):
        """Persist a flow of ``operation`` for the bay; -> its flow id."""
        book, flow_id = self._new_book(bay, operation, resolved, disable_rollback,
                                       node_count)
        books.save_book(self.backend, book)
        return flow_id

    def _new_book(self, bay, operation, resolved=None, disable_rollback=False,
                  node_count=None):
        """A logbook with a new flow of ``operation`` for the bay; -> (book, flow id)."""
        options = {'operation': operation, 'disable_rollback': disable_rollback}
        wait = {'wait_attempts': self._wait_attempts(),
                'wait_interval': self.conf.cloud.wait_interval}
        if operation == 'create':
            resolved = resolved or self._checked(self.db.get_baymodel(bay['baymodel_id']))
            spec = specs.create_spec(bay, resolved, recorder.NAME, wait)
        elif operation == 'delete':
            spec = specs.delete_spec(bay, recorder.NAME, wait)
        elif operation == 'update':
            # Without node_count (its saved flow is lost): back to the recorded size.
            resolved = resolved or self._checked(self.db.get_baymodel(bay['baymodel_id']))
            spec = specs.update_spec(bay, resolved, node_count or bay['node_count'],
                                     recorder.NAME, wait)
        else:
            raise exceptions.OperationNotAllowed(
                f"bay {bay['uuid']} is in the middle of an {operation}, which bayflow "
                f"cannot run yet")
        return books.new_book(bay['uuid'], spec['factory'], spec['factory_kwargs'],
                              spec['store'], options)

    def _wait_attempts(self):
        return retry.attempts_for(self.conf.cloud.wait_timeout, self.conf.cloud.wait_interval)

    # -- delete ---------------------------------------------------------------
    def delete_bay(self, ident, wait=False, progress=None, event_id=None):
        """Any status may be deleted; a running flow stops at its next step."""
        bay = self.db.get_bay(ident)
        bay = lifecycle.transition(self.db, bay, 'delete', event_id=event_id)
        bay = self._save_flow(bay)
        return self._start(bay, wait, progress)

    # -- update (scale) ---------------------------------------------------------
    def update_bay(self, ident, node_count, wait=False, progress=None, event_id=None,
                   disable_rollback=False):
        """Scale the bay's nodes to ``node_count`` (Magnum's bay-update).

        Only from a *_COMPLETE status; the same count is a no-op returning the
        bay unchanged. The flow is saved before the move to UPDATE_IN_PROGRESS,
        which points the bay at it in the same write: a crash in between leaves
        the bay as it was, never updating without knowing to what size.
        """
        node_count = validation.validate_bay_update(
            {}, [('replace', '/node_count', node_count)])['node_count']
        bay = self.db.get_bay(ident)
        if lifecycle.next_status(bay['status'], bay.get('operation'), 'update') is None:
            lifecycle.transition(self.db, bay, 'update')  # refuses, saying why
        if node_count == bay['node_count']:
            return bay
        resolved = self._checked(self.db.get_baymodel(bay['baymodel_id']), warm_up=wait)
        flow_id = self._new_flow(bay, 'update', resolved, disable_rollback, node_count)
        events = {} if event_id is None else {'event_id': event_id}
        bay = lifecycle.transition(self.db, bay, 'update', extra={'flow_id': flow_id},
                                   **events)
        return self._start(bay, wait, progress)

    # -- running --------------------------------------------------------------
    def _start(self, bay, wait, progress):
        if wait:
            return self.run_bay(bay['uuid'], progress=progress)
        start_flow = getattr(self, 'start_flow', None) or self.spawn_worker
        start_flow(bay['uuid'])
        return bay

    def spawn_worker(self, bay_uuid):
        """A detached ``bayflow resume BAY --wait`` that outlives this command."""
        path = config.ensure_state_path(self.conf)
        logfile = os.path.join(path, 'logs', f'worker-{bay_uuid}.log')
        args = [sys.executable, '-m', 'bayflow.cli.main']
        for item in self.conf.config_file or ():
            args += ['--config-file', item]
        args += ['resume', bay_uuid, '--wait', '--quiet']
        with open(logfile, 'ab') as out:
            subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, start_new_session=True,
                             close_fds=True)

    def take(self, bay_uuid, patience=None):
        """Take the bay's lease for this process; waits for a holder to let go.

        A holder on this host whose process is gone is taken over at once; a
        create flow stopping for a delete is waited for until it releases (or
        its lease expires); another live holder up to ``patience`` seconds.
        """
        patience = self.lease_seconds * 2 if patience is None else patience
        give_up = time.monotonic() + patience
        delay = 0.05
        while True:
            bay = self.db.get_bay(bay_uuid)
            holder = bay.get('owner')
            steal = holder if holder and owner_mod.is_dead(holder) else None
            try:
                return lifecycle.transition(self.db, bay, 'resume', owner=self.owner,
                                            steal_from=steal,
                                            lease_seconds=self.lease_seconds)
            except exceptions.Conflict:
                continue  # the bay moved; look again
            except exceptions.OperationNotAllowed:
                # A holder stopping for this request keeps its lease only
                # while it lives and finishes its step: wait for it, however
                # long that step takes (its lease expires if it dies).
                stopping = holder and bay.get('lease_operation') not in (None,
                                                                          bay['operation'])
                if bay['status'] not in lifecycle.IN_PROGRESS or (
                        not stopping and time.monotonic() > give_up):
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def run_bay(self, bay_uuid, progress=None, patience=None):
        """Take the bay and run its current operation's flow to the end here."""
        bay = self.take(bay_uuid, patience)
        recorder.install(self.db, self.owner)
        flow_detail = self._saved_flow(bay)
        if flow_detail is None:
            bay = self._save_flow(bay)
        return runner.run(self.db, self.backend, bay, self.owner, self.lease_seconds,
                          progress=progress, flow_detail=flow_detail) or _gone(bay)

    def _saved_flow(self, bay):
        """The bay's saved flow when it is its current operation's, else None."""
        if not bay.get('flow_id'):
            return None
        try:
            fd = books.load_flow(self.backend, bay['flow_id'])
        except Exception:  # noqa: BLE001 - saved flow missing: build it again
            return None
        return fd if books.options_of(fd).get('operation') == bay['operation'] else None

    def resumable(self, idents=()):
        """(bay, why-not) for each unfinished bay (or the ones named)."""
        bays = ([self.db.get_bay(i) for i in idents] if idents else
                [b for b in self.db.list_bays() if b['status'] in lifecycle.IN_PROGRESS])
        out = []
        for bay in bays:
            out.append((bay, self._why_not(bay)))
        return out

    def _why_not(self, bay):
        if bay['status'] not in lifecycle.IN_PROGRESS:
            return f"it is {bay['status']}: nothing to resume"
        holder, expires = bay.get('owner'), bay.get('lease_expires_at')
        if not holder or holder == self.owner or owner_mod.is_dead(holder):
            return None
        if bay.get('lease_operation') not in (None, bay['operation']):
            return None  # its holder is stopping for a delete: take() waits for it
        if expires is not None and expires <= self.db.now():
            return None
        return (f"{holder} is running its {bay.get('lease_operation') or bay['operation']} "
                f"flow (lease until {expires.isoformat() if expires else '?'})")

    def resume(self, idents=(), wait=False, progress=None):
        """Take over unfinished flows whose owner is gone; -> [(bay, outcome)]."""
        results, threads = [], []
        lock = threading.Lock()
        if not idents:
            books.sweep(self.backend, {b['uuid'] for b in self.db.list_bays()})
        for bay, why_not in self.resumable(idents):
            if why_not is not None:
                results.append((bay, f'skipped: {why_not}'))
                continue
            if not wait:
                self.spawn_worker(bay['uuid'])
                results.append((bay, 'resuming in a detached worker'))
                continue

            def one(bay=bay):
                try:
                    final = self.run_bay(bay['uuid'], progress=progress, patience=0)
                    outcome = final['status']
                except (exceptions.BayflowError, db_exc.PersistenceError) as exc:
                    final, outcome = bay, f'not resumed: {exc}'
                with lock:
                    results.append((final, outcome))
            threads.append(threading.Thread(target=one, name=f"resume-{bay['uuid'][:8]}"))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    # -- reading --------------------------------------------------------------
    def bay_config(self, ident, directory, force=False):
        """Write what a client needs (``magnum bay-config``); -> the paths written."""
        bay = self.db.get_bay(ident)
        if bay['status'] not in ('CREATE_COMPLETE', 'UPDATE_COMPLETE'):
            raise exceptions.OperationNotAllowed(
                f"bay {bay['uuid']} is {bay['status']}: its configuration exists only "
                f"once it is CREATE_COMPLETE or UPDATE_COMPLETE")
        baymodel = self.db.get_baymodel(bay['baymodel_id'])
        driver = coe.get_driver(baymodel['coe'], baymodel.get('cluster_distro'),
                                baymodel.get('server_type') or 'vm')
        ca = client = None
        if not baymodel.get('tls_disabled'):
            ca = {'cert': bay['ca_cert'], 'key': tls.decrypt_key(bay['ca_key'])}
            client = tls.issue_client_cert(ca)
        files = driver.bay_config(bay, baymodel, ca, client)
        os.makedirs(directory, exist_ok=True)
        existing = [n for n in files if os.path.exists(os.path.join(directory, n))]
        if existing and not force:
            raise exceptions.InvalidParameter(
                'dir', directory, f"a directory without {', '.join(sorted(existing))} "
                                  f"(or pass --force to overwrite them)")
        written = []
        for name, content in files.items():
            path = os.path.join(directory, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, 'w') as out:
                out.write(content)
            written.append(path)
        return written

    def bay_steps(self, ident):
        bay = self.db.get_bay(ident)
        return books.steps(self.backend, bay.get('flow_id'))


def _gone(bay):
    return dict(bay, status='DELETE_COMPLETE', status_reason='Bay DELETE completed successfully')
