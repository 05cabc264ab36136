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

from bayflow import api, config, exceptions, lifecycle, log, validation
from bayflow.drivers import cloud as cloud_driver
from bayflow.drivers import coe, tls
from bayflow.engine import books, owner as owner_mod, recorder, runner
from bayflow.flows import specs
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
    def create_bay(self, values, wait=False, disable_rollback=False, progress=None):
        """Record the bay and its flow, then run it here (wait) or detached."""
        record = validation.validate_bay(values, conf=self.conf)
        baymodel = self.db.get_baymodel(record['baymodel_id'])
        resolved = api.check_baymodel(baymodel)
        identity = self.cloud.identity()
        bay = lifecycle.start_create(self.db, dict(
            record, baymodel_id=baymodel['uuid'], project_id=identity['project_id'],
            user_id=identity['user_id']))
        bay = self._save_flow(bay, resolved=resolved, disable_rollback=disable_rollback)
        return self._start(bay, wait, progress)

    def _save_flow(self, bay, resolved=None, disable_rollback=False):
        """Persist the flow of the bay's current operation and point the bay at it."""
        operation = bay['operation']
        options = {'operation': operation, 'disable_rollback': disable_rollback}
        wait = {'wait_attempts': self._wait_attempts(),
                'wait_interval': self.conf.cloud.wait_interval}
        if operation == 'create':
            resolved = resolved or api.check_baymodel(self.db.get_baymodel(bay['baymodel_id']))
            spec = specs.create_spec(bay, resolved, recorder.NAME, wait)
        elif operation == 'delete':
            spec = specs.delete_spec(bay, recorder.NAME, wait)
        else:
            raise exceptions.OperationNotAllowed(
                f"bay {bay['uuid']} is in the middle of an {operation}, which bayflow "
                f"cannot run yet")
        flow_id = books.save_flow(self.backend, bay['uuid'], spec['factory'],
                                  spec['factory_kwargs'], spec['store'], options)
        return self.db.update_bay(bay['uuid'], bay['version'], {'flow_id': flow_id})

    def _wait_attempts(self):
        return max(int(self.conf.cloud.wait_timeout / max(self.conf.cloud.wait_interval,
                                                          0.01)), 1)

    # -- delete ---------------------------------------------------------------
    def delete_bay(self, ident, wait=False, progress=None):
        """Any status may be deleted; a running flow stops at its next step."""
        bay = self.db.get_bay(ident)
        bay = lifecycle.transition(self.db, bay, 'delete')
        bay = self._save_flow(bay)
        return self._start(bay, wait, progress)

    # -- running --------------------------------------------------------------
    def _start(self, bay, wait, progress):
        if wait:
            return self.run_bay(bay['uuid'], progress=progress)
        self.spawn_worker(bay['uuid'])
        return self.db.get_bay(bay['uuid'])

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
        live holder (say, a create flow stopping for a delete) is waited for
        until it releases or its lease expires, up to ``patience`` seconds.
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
                if bay['status'] not in lifecycle.IN_PROGRESS or time.monotonic() > give_up:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def run_bay(self, bay_uuid, progress=None, patience=None):
        """Take the bay and run its current operation's flow to the end here."""
        bay = self.take(bay_uuid, patience)
        recorder.install(self.db, self.owner)
        if not self._flow_matches(bay):
            bay = self._save_flow(bay)
        return runner.run(self.db, self.backend, bay, self.owner, self.lease_seconds,
                          progress=progress) or _gone(bay)

    def _flow_matches(self, bay):
        if not bay.get('flow_id'):
            return False
        try:
            fd = books.load_flow(self.backend, bay['flow_id'])
        except Exception:  # noqa: BLE001 - saved flow missing: build it again
            return False
        return books.options_of(fd).get('operation') == bay['operation']

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
