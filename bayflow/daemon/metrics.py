"""The daemon's Prometheus metrics, on a registry of its own.

A registry per daemon (not prometheus_client's global one) keeps what
/metrics shows to bayflow's own figures and lets tests build several.
"""

import prometheus_client as prom

from bayflow.engine import watch

# Step durations run from milliseconds (a record write) to many minutes (a boot).
STEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)
# Messages an ingest worker took at once ([daemon] ingest_batch bounds them).
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class Metrics:
    def __init__(self):
        self.registry = prom.CollectorRegistry()
        count = self._counter
        self.events_consumed = count('events_consumed', 'Messages taken from the event and '
                                     'RPC queues.', ['source'])
        self.events_rejected = count('events_rejected', 'Events refused and dead-lettered.')
        self.events_duplicate = count('events_duplicate',
                                      'Events acknowledged as already processed.')
        self.events_accepted = count('events_accepted',
                                     'Events whose bay and flow were recorded.')
        self.ingest_batch = prom.Histogram(
            'bayflow_ingest_batch_messages', 'Messages an ingest worker took in at once '
            '(the creates among them are recorded in one transaction).',
            buckets=BATCH_BUCKETS, registry=self.registry)
        self.flows_running = prom.Gauge('bayflow_flows_running',
                                        'Bay flows running in this daemon now.',
                                        registry=self.registry)
        self.flows_completed = count('flows_completed', 'Bay flows that ended *_COMPLETE.')
        self.flows_rolled_back = count('flows_rolled_back',
                                       'Create or update flows that failed and were '
                                       'rolled back.')
        self.flows_failed = count('flows_failed', 'Bay flows that ended *_FAILED.')
        self.step_duration = prom.Histogram(
            'bayflow_step_duration_seconds', 'How long each flow step took.', ['task'],
            buckets=STEP_BUCKETS, registry=self.registry)
        watch.observe_steps(self.step_ended)

    def _counter(self, name, doc, labels=()):
        return prom.Counter('bayflow_' + name, doc, list(labels), registry=self.registry)

    def step_ended(self, step, state, seconds):
        self.step_duration.labels(task=step).observe(seconds)

    def flow_ended(self, how):
        """how: 'completed', 'rolled back' or 'failed'."""
        {'completed': self.flows_completed, 'rolled back': self.flows_rolled_back,
         'failed': self.flows_failed}[how].inc()

    def exposition(self):
        return prom.generate_latest(self.registry), prom.CONTENT_TYPE_LATEST
