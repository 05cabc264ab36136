"""daemon.flows.FlowPool with a runner whose worker process dies under it."""

import threading

from taskflow import states as tf_states

from bayflow.daemon import flows
from bayflow.daemon.metrics import Metrics


class Runner:
    """Loses the worker ``losses`` times, then runs the flow to success."""

    def __init__(self, losses):
        self.losses, self.runs = losses, 0
        self.finished = threading.Event()

    def run(self, bay_uuid):
        self.runs += 1
        if self.runs <= self.losses:
            raise flows.WorkerLost('flow worker 4242 died (exit code -9)')
        self.finished.set()
        return {'uuid': bay_uuid, 'status': 'CREATE_COMPLETE'}, ('create', tf_states.SUCCESS)

    def shutdown(self):
        pass


class Service:
    status = 'CREATE_IN_PROGRESS'

    def __init__(self):
        self.db = self

    def get_bay(self, bay_uuid):
        return {'uuid': bay_uuid, 'status': self.status}

    def finish_events(self, *args):
        pass


class Notifier:
    def __init__(self):
        self.sent = []

    def notify(self, operation, outcome, bay, context):
        self.sent.append((operation, outcome))


def _run(losses, status='CREATE_IN_PROGRESS'):
    runner, service, notifier = Runner(losses), Service(), Notifier()
    service.status = status
    pool = flows.FlowPool(service, 2, notifier, Metrics(), runner=runner)
    pool.submit('bay-1')
    pool._pool.shutdown(wait=True)
    return runner, notifier


def test_a_bay_whose_worker_died_runs_again_at_once():
    runner, notifier = _run(losses=1)
    assert runner.runs == 2 and notifier.sent == [('create', 'success')]


def test_a_bay_that_kills_its_worker_each_time_is_left_for_a_resume():
    runner, notifier = _run(losses=10)
    assert runner.runs == flows._LOST_RUNS and notifier.sent == []


def test_a_bay_finished_before_its_worker_died_is_not_run_again():
    runner, notifier = _run(losses=1, status='CREATE_COMPLETE')
    assert runner.runs == 1 and notifier.sent == []
