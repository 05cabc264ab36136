"""bayflow.log: one structlog/stdlib pipeline, context binding, redaction."""

import collections.abc
import copy
import io
import json
import logging
import threading

import pytest

from bayflow import log

SECRETS = ('hunter2', 's3cr3t-token', 'admin-pw', 'trustee-pw', 'rabbit-pw',
           'db-pw', 'MIIEpAIBAAKCAQEA', 'gAAAAAB-token', 'key-material-x')
FORMATS = ('console', 'json')


@pytest.fixture
def logs():
    """Set bayflow logging up on a StringIO; undo everything afterwards."""
    root = logging.getLogger()
    level = root.level
    streams = []

    def _setup(log_format='console', **kw):
        stream = io.StringIO()
        streams.append(stream)
        log.setup(log_format, stream=stream, **kw)
        return stream

    yield _setup
    log.reset()
    root.setLevel(level)


def _assert_clean(text):
    for secret in SECRETS:
        assert secret not in text, f'{secret!r} leaked into: {text}'


def _lines(stream, log_format):
    lines = [line for line in stream.getvalue().splitlines() if line.strip()]
    if log_format == 'json':
        return [json.loads(line) for line in lines]
    return lines


# -- redaction, on both renderers --------------------------------------------

@pytest.mark.parametrize('log_format', FORMATS)
def test_nested_secret_values_are_masked(logs, log_format):
    stream = logs(log_format)
    server = {
        'name': 'bf-1234-master-0', 'adminPass': 'admin-pw',
        'key_pair': {'private_key': '-----BEGIN RSA PRIVATE KEY-----\n'
                                    'MIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----',
                     'public_key': 'ssh-rsa AAAAB3Nza public'},
        'headers': [('X-Auth-Token', 'gAAAAAB-token'), ('Accept', 'application/json')],
        'trust': ({'trustee_password': 'trustee-pw'},),
        'auth': {'identity': {'password': {'user': {'name': 'admin',
                                                    'password': 'hunter2'}}}},
    }
    log.get_logger('bayflow.test').info(
        'server created', server=server, AUTH_TOKEN='s3cr3t-token',
        key_material='key-material-x',
        transport_url='amqp://guest:rabbit-pw@127.0.0.1:5672//',
        connection='postgresql+psycopg2://bayflow:db-pw@db/bayflow')

    text = stream.getvalue()
    _assert_clean(text)
    assert log.MASK in text
    # what is not secret survives
    for kept in ('bf-1234-master-0', 'ssh-rsa AAAAB3Nza public', 'application/json',
                 'amqp://guest:***@127.0.0.1:5672//',
                 'postgresql+psycopg2://bayflow:***@db/bayflow'):
        assert kept in text
    if log_format == 'json':
        (line,) = _lines(stream, log_format)
        assert line['AUTH_TOKEN'] == '***'
        assert line['server']['adminPass'] == '***'
        assert line['server']['key_pair']['private_key'] == '***'
        assert line['server']['headers'][0] == ['X-Auth-Token', '***']
        assert line['server']['trust'][0]['trustee_password'] == '***'
        assert line['server']['auth']['identity']['password'] == '***'


@pytest.mark.parametrize('log_format', FORMATS)
def test_secrets_in_event_text_and_positional_args_are_masked(logs, log_format):
    stream = logs(log_format)
    logger = log.get_logger('bayflow.test')
    logger.info('connecting to amqp://guest:rabbit-pw@rabbit:5672// with password=hunter2')
    logger.info('request body %s', {'auth': {'password': 'admin-pw', 'user': 'admin'}})
    logger.info('json body {"auth_token": "s3cr3t-token", "project": "demo"}')
    text = stream.getvalue()
    _assert_clean(text)
    assert 'amqp://guest:***@rabbit:5672//' in text
    assert 'admin' in text and 'demo' in text


@pytest.mark.parametrize('log_format', FORMATS)
def test_exception_text_is_scrubbed(logs, log_format):
    stream = logs(log_format)
    try:
        raise ConnectionError('cannot reach amqp://guest:rabbit-pw@rabbit// '
                              "(auth {'password': 'hunter2'})")
    except ConnectionError:
        log.get_logger('bayflow.test').exception('event bus down')
    text = stream.getvalue()
    _assert_clean(text)
    assert 'ConnectionError: cannot reach amqp://guest:***@rabbit//' in text
    assert 'Traceback (most recent call last)' in text


@pytest.mark.parametrize('log_format', FORMATS)
def test_stdlib_record_from_a_library_is_redacted_and_carries_context(logs, log_format):
    stream = logs(log_format)
    library = logging.getLogger('keystoneauth.session')
    with log.operation_context('3f2a-uuid', 'bay-create'), log.task_context('CreateServer'):
        library.warning('REQ: POST %s body %s', 'http://keystone/v3/auth/tokens',
                        {'auth': {'identity': {'password': {'user': {'password': 'hunter2'}}}}},
                        extra={'X-Auth-Token': 's3cr3t-token', 'status': 401})
        try:
            raise RuntimeError('db down: mysql://u:db-pw@db/x')
        except RuntimeError:
            logging.getLogger('taskflow.engine').exception('flow failed')
    text = stream.getvalue()
    _assert_clean(text)
    lines = _lines(stream, log_format)
    assert len(lines) >= 2
    if log_format == 'json':
        req, failed = lines
        assert req['logger'] == 'keystoneauth.session'
        assert req['level'] == 'warning'
        assert req['X-Auth-Token'] == '***'
        assert req['status'] == 401
        for line in (req, failed):
            assert (line['bay_uuid'], line['operation'], line['task']) == \
                ('3f2a-uuid', 'bay-create', 'CreateServer')
        assert 'mysql://u:***@db/x' in failed['exception']
    else:
        assert 'bay_uuid=3f2a-uuid' in lines[0] and 'task=CreateServer' in lines[0]
        assert '[keystoneauth.session]' in lines[0]
        assert 'mysql://u:***@db/x' in text


def test_caller_objects_are_not_mutated(logs):
    logs('json')
    body = {'user': {'password': 'hunter2', 'roles': ['admin']},
            'headers': [('X-Auth-Token', 's3cr3t-token')], 'raw': b'password=hunter2'}
    before = copy.deepcopy(body)
    log.get_logger('bayflow.test').info('x', body=body)
    assert body == before
    assert log.redact(body) is not body
    assert body == before


@pytest.mark.parametrize('log_format', FORMATS)
def test_odd_values_never_raise(logs, log_format):
    stream = logs(log_format)

    class BadRepr:
        def __repr__(self):
            raise RuntimeError('no repr')

    class Leaky:
        def __repr__(self):
            return '<Leaky password=hunter2>'

    class NoEquality:
        def __eq__(self, other):
            raise TypeError('ambiguous')

        __hash__ = object.__hash__

        def __repr__(self):
            return 'NoEquality(secret=hunter2)'

    class BadMapping(collections.abc.Mapping):
        def __getitem__(self, key):
            raise KeyError(key)

        def __iter__(self):
            raise RuntimeError('cannot iterate')

        def __len__(self):
            return 1

    cycle = {'password': 'hunter2'}
    cycle['self'] = cycle
    cycle_list = ['x']
    cycle_list.append(cycle_list)
    deep = current = {}
    for _ in range(5000):
        current['next'] = {}
        current = current['next']
    current['password'] = 'hunter2'

    log.get_logger('bayflow.test').info(
        'odd', raw=b'\xff\xfe password=hunter2', blob=bytearray(b'abc'),
        bad=BadRepr(), leaky=Leaky(), mapping=BadMapping(), cycle=cycle,
        cycle_list=cycle_list, deep=deep, numbers={1: 'one', (2, 3): {'token': 'hunter2'}},
        aset={'a', 'b'}, none_password=None, flag_password=True,
        api_key=NoEquality(), thing=NoEquality())
    text = stream.getvalue()
    _assert_clean(text)
    assert 'odd' in text and '<cycle>' in text
    if log_format == 'json':
        (line,) = _lines(stream, log_format)
        assert line['none_password'] is None and line['flag_password'] is True
        assert line['cycle']['password'] == '***'
        assert line['api_key'] == '***' and line['thing'] == 'NoEquality(secret=***)'


def test_redaction_failure_withholds_the_event(logs, monkeypatch):
    stream = logs('json')

    def broken(*args, **kwargs):
        raise RuntimeError('boom')

    monkeypatch.setattr(log, '_redact', broken)
    with log.operation_context('u-1', 'bay-delete'):
        log.get_logger('bayflow.test').info('password=hunter2', body={'x': 'hunter2'})
    (line,) = _lines(stream, 'json')
    _assert_clean(json.dumps(line))
    assert line['event'].startswith('<log event withheld')
    assert line['bay_uuid'] == 'u-1'


@pytest.mark.parametrize('key', [
    'password', 'PASSWORD', 'passwd', 'admin_pass', 'adminPass', 'trustee_password',
    'os_password', 'token', 'auth_token', 'X-Auth-Token', 'x_subject_token', 'secret',
    'application_credential_secret', 'private_key', 'privateKey', 'ssh_key',
    'key_material', 'api_key', 'Authorization', 'Cookie', 'passphrase'])
def test_secret_keys(key):
    assert log.is_secret_key(key)


@pytest.mark.parametrize('key', [
    'public_key', 'ssh_authorized_key', 'key_name', 'keypair_id', 'keypair',
    'username', 'user', 'name', 'connection', 'transport_url', 'token_expires_at',
    'password_expires_at', 'bay_uuid', 'event', 1, None, ('a', 'b')])
def test_not_secret_keys(key):
    assert not log.is_secret_key(key)


SAME = None   # the text must come out unchanged


@pytest.mark.parametrize('text, expected', [
    ('amqp://guest:pw@h:5672//', 'amqp://guest:***@h:5672//'),
    ('redis://:pw@h:6379/0', 'redis://:***@h:6379/0'),
    ('amqp://u:pw@h1:5672,u2:pw2@h2:5672//', 'amqp://u:***@h1:5672,u2:***@h2:5672//'),
    ('sqlite:////tmp/x.sqlite and http://h:5000/v3', SAME),
    ('password=pw user=admin', 'password=*** user=admin'),
    ('{"password": "p w", "user": "u"}', '{"password": "***", "user": "u"}'),
    ('{"token":"t","password":"p"}', '{"token":"***","password":"***"}'),
    ("{'adminPass': 'pw'}", "{'adminPass': '***'}"),
    ('{\\"password\\": \\"pw\\"}', '{\\"password\\": \\"***\\"}'),
    ("password=b'pw'", "password='***'"),
    ('X-Auth-Token: gAAAA.x-y user', 'X-Auth-Token: *** user'),
    ('openstack --os-password pw --os-username u', 'openstack --os-password *** --os-username u'),
    ('--verbose --os-password pw --os-token=tok', '--verbose --os-password *** --os-token=***'),
    ('body="x password=p" token_expires_at=2030', 'body="x password=***" token_expires_at=2030'),
    ('token_expires_at=2030-01-01 public_key=ssh-rsa', SAME),
    ('a -----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY----- b',
     'a *** b'),
    ('cut -----BEGIN PRIVATE KEY-----\nabc', 'cut ***'),
    ('methods ["password"] ok', SAME),
    ("EntryPoint(name='admin_token', value='keystoneauth1.loading.admin_token:AdminToken')",
     SAME),
])
def test_scrub_text(text, expected):
    assert log.scrub_text(text) == (text if expected is SAME else expected)


def test_redact_sequences_and_types():
    out = log.redact({
        'argv': ['openstack', '--os-password', 'pw', '--os-username', 'u'],
        'pair': ('X-Auth-Token', 'tok'),
        'frozen': frozenset({'password=pw'}),
        'empty_password': '',
    })
    assert out['argv'] == ['openstack', '--os-password', '***', '--os-username', 'u']
    assert out['pair'] == ('X-Auth-Token', '***')
    assert out['frozen'] == frozenset({'password=***'})
    assert out['empty_password'] == ''


# -- rendering and handlers ------------------------------------------------------

def test_console_is_default_and_has_no_colours_off_a_tty(logs):
    stream = logs()
    log.get_logger('bayflow.test').info('bay created', bay_uuid='u-1')
    text = stream.getvalue()
    assert '\x1b[' not in text
    assert 'bay created' in text and 'bay_uuid=u-1' in text and '[info' in text
    with pytest.raises(ValueError):
        json.loads(text)


def test_json_lines(logs):
    stream = logs('json')
    logger = log.get_logger('bayflow.test')
    logger.info('one', n=1)
    logger.warning('two')
    one, two = _lines(stream, 'json')
    assert one['event'] == 'one' and one['n'] == 1 and one['level'] == 'info'
    assert one['logger'] == 'bayflow.test' and one['timestamp'].endswith('Z')
    assert two['level'] == 'warning'
    assert list(one)[:4] == ['timestamp', 'level', 'logger', 'event']


def test_setup_twice_does_not_duplicate_handlers(logs):
    root = logging.getLogger()
    before = len(root.handlers)
    logs('console')
    after_first = len(root.handlers)
    stream = logs('json')
    assert len(root.handlers) == after_first == before + 1
    log.get_logger('bayflow.test').info('once')
    assert len(_lines(stream, 'json')) == 1
    log.reset()
    assert len(root.handlers) == before


def test_log_file_gets_json_lines(logs, tmp_path):
    path = tmp_path / 'logs' / 'sub' / 'bayflow.log'
    stream = logs('console', log_file=str(path))
    with log.operation_context('u-9', 'bay-update'):
        log.get_logger('bayflow.test').info('scaled', password='hunter2')
        logging.getLogger('kombu').info('consumer ready')
    logs('console', log_file=str(path))      # again: the file is not written twice
    log.get_logger('bayflow.test').info('after')
    for handler in logging.getLogger().handlers:
        handler.flush()
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r['event'] for r in records] == ['scaled', 'consumer ready', 'after']
    assert records[0]['password'] == '***' and records[0]['bay_uuid'] == 'u-9'
    assert records[1]['operation'] == 'bay-update'
    _assert_clean(path.read_text())
    assert 'scaled' in stream.getvalue()


def test_levels(logs):
    stream = logs('json')
    logger = log.get_logger('bayflow.test')
    logger.debug('hidden')
    logging.getLogger('openstack').debug('hidden too')
    assert stream.getvalue() == ''
    stream = logs('json', debug=True)
    logger.debug('shown')
    logging.getLogger('openstack').debug('shown too')
    assert [r['event'] for r in _lines(stream, 'json')] == ['shown', 'shown too']
    stream = logs('json', level='warning')
    logger.info('hidden')
    logger.warning('warned')
    assert [r['event'] for r in _lines(stream, 'json')] == ['warned']
    for verbose_level, shown in ((0, ['warned']), (1, ['info', 'warned']),
                                 (2, ['debug', 'info', 'warned'])):
        stream = logs('json', verbose_level=verbose_level)
        logger.debug('debug')
        logger.info('info')
        logger.warning('warned')
        assert [r['event'] for r in _lines(stream, 'json')] == shown
    with pytest.raises(ValueError):
        log.setup('xml')
    with pytest.raises(ValueError):
        log.setup('json', level='chatty')


def test_setup_from_config(logs, tmp_path):
    from oslo_config import cfg

    from bayflow import config
    conf = cfg.ConfigOpts()
    config.register_opts(conf)
    conf([], project='bayflow', default_config_files=[], default_config_dirs=[])
    conf.set_override('log_format', 'json')
    conf.set_override('log_file', str(tmp_path / 'b.log'))
    stream = io.StringIO()
    log.setup_from_config(conf, stream=stream)
    log.get_logger('bayflow.test').info('configured')
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert json.loads(stream.getvalue())['event'] == 'configured'
    assert json.loads((tmp_path / 'b.log').read_text())['event'] == 'configured'


# -- context ----------------------------------------------------------------------

def test_operation_and_task_context_nest_and_restore(logs):
    stream = logs('json')
    logger = log.get_logger('bayflow.test')
    logger.info('before')
    with log.operation_context('u-1', 'bay-create'):
        logger.info('in operation')
        with log.task_context('CreateNetwork'):
            logger.info('in task')
        with log.task_context('CreateRouter'):
            logger.info('in second task')
        logger.info('after tasks')
    logger.info('after')
    lines = {r['event']: r for r in _lines(stream, 'json')}
    assert 'bay_uuid' not in lines['before'] and 'bay_uuid' not in lines['after']
    assert lines['in operation']['operation'] == 'bay-create'
    assert 'task' not in lines['in operation'] and 'task' not in lines['after tasks']
    assert lines['in task']['task'] == 'CreateNetwork'
    assert lines['in task']['bay_uuid'] == 'u-1'
    assert lines['in second task']['task'] == 'CreateRouter'
    assert log.current_context() == {}


def test_context_handed_to_a_thread(logs):
    stream = logs('json')

    def worker(ctx):
        with log.bound_context(**ctx), log.task_context('WaitServer'):
            logging.getLogger('taskflow.executor').info('in thread')

    with log.operation_context('u-2', 'bay-create'):
        thread = threading.Thread(target=worker, args=(log.current_context(),))
        thread.start()
        thread.join()
    (line,) = _lines(stream, 'json')
    assert (line['bay_uuid'], line['operation'], line['task']) == \
        ('u-2', 'bay-create', 'WaitServer')


def test_before_setup_logs_through_the_hosts_stdlib_logging():
    """Embedded in another service (no setup): one redacted text message per event."""
    log.reset()
    records = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(record)

    host_logger = logging.getLogger('bayflow.embedded')
    handler = Collect()
    host_logger.addHandler(handler)
    host_logger.setLevel(logging.INFO)
    try:
        with log.operation_context('u-3', 'bay-delete'):
            log.get_logger('bayflow.embedded').info('deleting', password='hunter2')
    finally:
        host_logger.removeHandler(handler)
        host_logger.setLevel(logging.NOTSET)
    (record,) = records
    message = record.getMessage()
    assert message.startswith('deleting ')
    assert "bay_uuid='u-3'" in message and "password='***'" in message
    _assert_clean(message)
