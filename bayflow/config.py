"""bayflow's options, registered in code and grouped the way operators expect.

Without any config file everything lives under ``$BAYFLOW_HOME`` (default
``~/.bayflow``): the SQLite database, the event-bus database and the logs.
The sample file ``etc/bayflow/bayflow.conf.sample`` is generated from
``list_opts`` by ``oslo-config-generator``.
"""

import os

from oslo_config import cfg

CONF = cfg.CONF

default_opts = [
    cfg.StrOpt('state_path',
               sample_default='<the BAYFLOW_HOME environment variable, else ~/.bayflow>',
               help='Directory for the embedded defaults: SQLite database, '
                    'event-bus database and logs. Defaults to $BAYFLOW_HOME, '
                    'or ~/.bayflow when that is not set.'),
    cfg.StrOpt('log_format', default='console',
               choices=[('console', 'Human-readable lines for a terminal.'),
                        ('json', 'One JSON object a line, for log collectors.')],
               help='How log lines are rendered.'),
    cfg.StrOpt('log_file',
               help='Also write log lines (JSON) to this file. Defaults to '
                    '<state_path>/logs/bayflow.log.'),
    cfg.StrOpt('host', sample_default='<hostname>',
               help='Name of this bayflow process, recorded as the owner of '
                    'the flows it runs.'),
]

database_opts = [
    cfg.StrOpt('connection', secret=True,
               sample_default='sqlite:///<state_path>/bayflow.sqlite',
               help='SQLAlchemy URL of the database holding bays, baymodels '
                    'and TaskFlow logbooks.'),
    cfg.IntOpt('max_pool_size', min=1,
               sample_default='<the flows the process may run at once, at least 5>',
               help='Connections each bayflow process keeps open to a database '
                    'server. Every running flow writes its steps\' states, so a '
                    'process running more flows than it keeps connections opens '
                    'and closes one for most writes (a few ms of CPU each, on '
                    'both sides). By default a daemon flow worker keeps its share '
                    'of [daemon] max_concurrent_flows, at least 5. Not used with '
                    'SQLite.'),
    cfg.IntOpt('max_overflow', default=10, min=0,
               help='Connections a process may open beyond max_pool_size at a '
                    'busy moment; each is closed once given back.'),
]

messaging_opts = [
    cfg.StrOpt('transport_url', secret=True,
               sample_default='sqla+sqlite:///<state_path>/events.sqlite',
               help='kombu URL of the event bus the daemon consumes, e.g. '
                    'amqp://guest:guest@127.0.0.1:5672//.'),
    cfg.StrOpt('exchange', default='bayflow',
               help='oslo.messaging control exchange that OpenStack services cast '
                    'bay_create/bay_update/bay_delete to, and that bayflow publishes '
                    'its notifications on (their control_exchange). bayflow\'s own '
                    'events use the separate bayflow.events exchange.'),
    cfg.StrOpt('topic', default='bayflow',
               help='RPC topic of bayflow\'s oslo.messaging server queues.'),
    cfg.ListOpt('notification_topics', default=['notifications'],
                help='Topics bayflow.bay.create/update/delete notifications are '
                     'published to (routing key <topic>.<priority>), as '
                     'oslo.messaging\'s [oslo_messaging_notifications] topics.'),
]

jobboard_opts = [
    cfg.BoolOpt('enabled', default=False,
                help='Post flows to a TaskFlow jobboard for conductors to run '
                     'instead of running them in this process.'),
    cfg.StrOpt('backend', default='redis', choices=['redis'],
               help='Jobboard backend.'),
    cfg.HostAddressOpt('host', default='127.0.0.1', help='Jobboard host.'),
    cfg.PortOpt('port', default=6379, help='Jobboard port.'),
    cfg.StrOpt('password', secret=True, help='Jobboard password.'),
    cfg.StrOpt('namespace', default='bayflow', help='Jobboard namespace.'),
    cfg.IntOpt('claim_expiry', default=30, min=1,
               help='Seconds a conductor\'s claim lives unless extended.'),
]

cloud_opts = [
    cfg.StrOpt('cloud', default='sim',
               help='Name of the cloud in clouds.yaml (openstacksdk\'s own '
                    'configuration; OS_CLOUD overrides it).'),
    cfg.IntOpt('api_retries', default=5, min=0,
               help='Retries of a transient cloud error (5xx, connection '
                    'reset, port still in use) inside one task.'),
    cfg.FloatOpt('retry_backoff', default=1.0, min=0,
                 help='Seconds before the first retry of a transient cloud '
                      'error; each further retry waits twice as long (with '
                      'jitter), up to retry_backoff_max.'),
    cfg.FloatOpt('retry_backoff_max', default=30.0, min=0,
                 help='Longest wait, in seconds, between two retries of a '
                      'transient cloud error.'),
    cfg.FloatOpt('wait_interval', default=2.0, min=0.01,
                 help='Seconds between two looks at servers or volumes that '
                      'are still settling (servers becoming ACTIVE, a volume '
                      'becoming available before it is attached, servers '
                      'going away on delete).'),
    cfg.IntOpt('wait_timeout', default=600, min=1,
               help='Longest time, in seconds, to wait for servers or '
                    'volumes to settle before the step fails.'),
]

baymodel_opts = [
    cfg.ListOpt('kubernetes_allowed_network_drivers', default=['all'],
                help='Network drivers allowed for kubernetes baymodels '
                     '("all" allows every supported driver).'),
    cfg.ListOpt('swarm_allowed_network_drivers', default=['all'],
                help='Network drivers allowed for swarm baymodels.'),
    cfg.ListOpt('mesos_allowed_network_drivers', default=['all'],
                help='Network drivers allowed for mesos baymodels.'),
]

bay_opts = [
    cfg.IntOpt('create_timeout', default=60, min=0,
               help='Default bay create timeout in minutes (0 = none).'),
    cfg.IntOpt('lease_seconds', default=30, min=2,
               help='Seconds a running flow\'s lease on its bay lasts unless renewed '
                    '(renewed every third of it, and at each step). A flow whose '
                    'owner died on another host is resumed after this long; on the '
                    'same host at once.'),
]

daemon_opts = [
    cfg.IntOpt('max_concurrent_flows', default=8, min=1,
               help='Bay flows the daemon runs at once; more wait their turn, '
                    'already recorded (their events acknowledged).'),
    cfg.IntOpt('flow_processes', default=0, min=0,
               help='Processes the daemon runs its flows in, beside the one that '
                    'takes events in: a flow is Python work between its cloud '
                    'calls, and one process runs Python on one core at a time. '
                    '0: one per CPU when [database] connection is a server '
                    '(PostgreSQL, MySQL), else 1. 1: flows run in the daemon\'s '
                    'own process. A worker that dies is started again and its '
                    'flows resumed.'),
    cfg.IntOpt('ingest_workers', default=4, min=1,
               help='Threads taking events in (validate, record the bay and '
                    'its flow).'),
    cfg.IntOpt('ingest_batch', default=16, min=1,
               help='Most events one ingest worker takes at once: the create '
                    'events among them are recorded in one transaction. '
                    'ingest_workers x ingest_batch bounds the unacknowledged '
                    'messages the daemon holds (prefetch).'),
    cfg.IntOpt('cloud_check_seconds', default=30, min=0,
               help='Seconds the daemon keeps the cloud\'s answer to a baymodel\'s '
                    'checks (image, keypair, flavors, network) for the next creates '
                    'from it; 0 checks every event. A resource removed meanwhile '
                    'fails the create\'s own step, which rolls back.'),
    cfg.PortOpt('health_port', default=0,
                help='Port of the daemon\'s /healthz and /metrics (Prometheus) '
                     'on 127.0.0.1; 0 turns them off. --health-port overrides it.'),
    cfg.HostAddressOpt('health_host', default='127.0.0.1',
                       help='Address /healthz and /metrics listen on.'),
]

certificates_opts = [
    cfg.StrOpt('ca_key_encryption_key', secret=True,
               sample_default='<generated into <state_path>/ca_key_encryption.key '
                              'when no [database] connection is set>',
               help='Fernet key (32 url-safe base64-encoded bytes) that encrypts '
                    'each bay\'s CA private key in the database. Generate one with '
                    'python -c "from cryptography.fernet import Fernet; '
                    'print(Fernet.generate_key().decode())". Unset, the embedded '
                    'default (no [database] connection) generates a key once into '
                    '<state_path>/ca_key_encryption.key (mode 0600): back it up with '
                    'the database. Required with a [database] connection, so every '
                    'process sharing the database uses the same key.'),
]

_GROUPS = (
    (None, default_opts),
    ('database', database_opts),
    ('messaging', messaging_opts),
    ('jobboard', jobboard_opts),
    ('cloud', cloud_opts),
    ('baymodel', baymodel_opts),
    ('bay', bay_opts),
    ('daemon', daemon_opts),
    ('certificates', certificates_opts),
)


def snapshot(conf=CONF):
    """bayflow's option values as a plain dict: a worker process started with
    them (``restore``) has the parent's configuration, overrides included."""
    return {(group, opt.dest): (conf[group] if group else conf)[opt.dest]
            for group, opts in _GROUPS for opt in opts}


def restore(values, conf=CONF):
    """Parse no file, then set every option from ``snapshot``'s dict."""
    load(conf=conf)
    for (group, name), value in values.items():
        conf.set_override(name, value, group=group)
    return conf


def register_opts(conf=CONF):
    for group, opts in _GROUPS:
        conf.register_opts(opts, group=group)


def list_opts():
    """The entry point oslo-config-generator reads (``oslo.config.opts``)."""
    return [(group or 'DEFAULT', opts) for group, opts in _GROUPS]


register_opts()


def state_path(conf=CONF):
    path = (conf.state_path or os.environ.get('BAYFLOW_HOME')
            or os.path.join(os.path.expanduser('~'), '.bayflow'))
    return os.path.abspath(path)


def ensure_state_path(conf=CONF):
    path = state_path(conf)
    os.makedirs(os.path.join(path, 'logs'), exist_ok=True)
    return path


def database_pool(conf=CONF, flows=None):
    """(pool size, overflow) of a process's connections to a database server,
    for a process running up to ``flows`` at once (default: the daemon's)."""
    flows = conf.daemon.max_concurrent_flows if flows is None else flows
    return conf.database.max_pool_size or max(5, flows), conf.database.max_overflow


def database_url(conf=CONF):
    return (conf.database.connection
            or 'sqlite:///' + os.path.join(state_path(conf), 'bayflow.sqlite'))


def transport_url(conf=CONF):
    return (conf.messaging.transport_url
            or 'sqla+sqlite:///' + os.path.join(state_path(conf), 'events.sqlite'))


def log_file(conf=CONF):
    return conf.log_file or os.path.join(state_path(conf), 'logs', 'bayflow.log')


def load(config_files=(), conf=CONF, args=()):
    """Parse the given config files (no command-line parsing: the CLI owns argv)."""
    conf(args=list(args), project='bayflow', default_config_files=list(config_files),
         default_config_dirs=[],
         validate_default_values=True)
    return conf
