"""Structured logging for bayflow: structlog in front, stdlib ``logging`` behind.

One pipeline renders both bayflow's own structlog events and the stdlib
records of the libraries underneath (taskflow, openstacksdk, keystoneauth,
kombu): every record reaches the root logger's handlers, whose
``structlog.stdlib.ProcessorFormatter`` adds the same context, redacts the
same secrets and renders the same way.

* ``setup(log_format='console'|'json', level=..., log_file=..., debug=...)``
  configures structlog and the root logger (idempotent: calling it again
  replaces bayflow's handlers, it never stacks them). The console gets
  ``ConsoleRenderer`` lines (colours only on a tty) or JSON lines; a log file,
  when given, always gets JSON lines.
* ``operation_context(bay_uuid, operation)`` and ``task_context(task)`` bind
  ``bay_uuid``/``operation``/``task`` in contextvars, so every line logged
  inside them (by bayflow or by a library through stdlib logging) carries
  them. contextvars do not follow work handed to another thread: capture
  ``current_context()`` and re-enter it there with ``bound_context(**ctx)``.
* Redaction (``redact``/``scrub_text``/``redact_secrets``) masks secrets with
  ``***`` before anything is rendered; see ``is_secret_key`` for which keys
  count as secret.

Before ``setup`` is called (bayflow embedded in another service) bayflow's
loggers still log through stdlib ``logging``, as one redacted text message
per event, so the host application's own logging configuration applies.
"""

import collections.abc
import logging
import logging.handlers
import os
import re
import sys

import structlog

__all__ = [
    'MASK', 'setup', 'setup_from_config', 'reset', 'get_logger',
    'operation_context', 'task_context', 'bound_context', 'current_context',
    'is_secret_key', 'scrub_text', 'redact', 'redact_secrets',
]

MASK = '***'

# Marks the handlers setup() installs on the root logger, so a second call
# replaces them instead of adding more.
_HANDLER_MARK = '_bayflow_handler'
_MAX_DEPTH = 16
_configured = False

# --------------------------------------------------------------------------
# Redaction
# --------------------------------------------------------------------------

# A key is secret when its normalised form (lower case, without '_', '-',
# '.', spaces) contains one of these words ...
_SECRET_WORDS = (
    'password', 'passwd', 'passphrase', 'secret', 'token', 'privatekey',
    'keymaterial', 'apikey', 'authorization', 'cookie',
)
# ... or ends with one of these (adminPass, root_pass, ssh_key) ...
_SECRET_SUFFIXES = ('pass', 'sshkey')
# ... unless it names metadata about a secret rather than the secret itself.
_NOT_SECRET_SUFFIXES = ('expiresat', 'expires', 'expiry', 'ttl', 'bypass')

_NORMALISE = re.compile(r'[\s_.\-]+')


def is_secret_key(key):
    """Whether values under ``key`` are secret (case-insensitive).

    Secret: password, passwd, passphrase, *secret* (``application_credential
    _secret``), *token* (``auth_token``, ``X-Auth-Token``, ``X-Subject-Token``),
    private key and key material (``private_key``, ``key_material``,
    ``ssh_key``), ``api_key``, ``adminPass``/``*_pass``, ``Authorization`` and
    ``Cookie`` headers.

    Not secret: public keys (``public_key``, ``ssh_authorized_key``: they are
    public by definition and useful when a keypair does not match; a
    ``-----BEGIN ... PRIVATE KEY-----`` block is masked wherever it appears,
    whatever its key), names and ids of keypairs (``key_name``,
    ``keypair_id``), expiry metadata (``token_expires_at``). URL-valued keys
    (``connection``, ``transport_url``) are not masked whole: the password
    inside any URL is (see ``scrub_text``).
    """
    try:
        if isinstance(key, bytes):
            key = key.decode('utf-8', 'replace')
        elif not isinstance(key, str):
            return False
        norm = _NORMALISE.sub('', key.lower())
    except Exception:
        return False
    if not norm or norm.endswith(_NOT_SECRET_SUFFIXES):
        return False
    return (any(word in norm for word in _SECRET_WORDS)
            or norm.endswith(_SECRET_SUFFIXES))


# Names that introduce a secret in free text ("password=", '"auth_token": ',
# "X-Auth-Token: ", "--os-password "): a whole [\w-] token (possessive, so
# long runs stay linear) that contains a secret word; is_secret_key has the
# last word on it.
_SECRET_NAME = (r'(?=[\w-]*?(?:password|passwd|passphrase|secret'
                r'|token|private[_\-]?key|key[_\-]?material|api[_\-]?key'
                r'|pass|ssh[_\-]?key))(?P<name>[\w-]++)')
_SECRET_VALUE = (r'(?P<val>\\"(?:(?!\\").)*\\"'
                 r'|[bBrRuU]?"(?:[^"\\]|\\.)*"'
                 r"|[bBrRuU]?'(?:[^'\\]|\\.)*'"
                 r'|(?![\[{(])[^\s\'",;&}\])>]+)')

# '=' always; ':' when the key was quoted or a space/quote follows, so that
# "module.admin_token:AdminToken" (entry points) and "user:pass" stay as they are.
_SEPARATOR = r'''\s*(?:=|(?<=["']):|:(?=[\s"'\\]))\s*'''

_TEXT_PATTERNS = (
    # PEM private keys, terminated or not.
    (re.compile(r'-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?'
                r'(?:-----END \1PRIVATE KEY-----|\Z)', re.S),
     lambda m: MASK),
    # scheme://user:password@host -> scheme://user:***@host
    (re.compile(r"(?P<pre>\b[a-zA-Z][a-zA-Z0-9+.\-]{0,31}+://[^:/?#@\s'\"]*:)"
                r"[^@/\s'\"]+(?=@)"),
     lambda m: m.group('pre') + MASK),
    # oslo.messaging-style extra hosts: amqp://u:***@h1,u2:p2@h2
    (re.compile(r"(?<=,)(?P<pre>[^:/?#@\s,'\"]+:)[^@/\s,'\"]+(?=@)"),
     lambda m: m.group('pre') + MASK),
    # --os-password VALUE / --password=VALUE (command lines)
    (re.compile(r'(?P<pre>(?<![\w-])--' + _SECRET_NAME + r'(?:\s+|=))(?!--)'
                + _SECRET_VALUE, re.I),
     lambda m: _mask_pair(m)),
    # password=VALUE, "password": "VALUE", 'token': 'VALUE', X-Auth-Token: V
    (re.compile(r'(?P<pre>(?P<q>\\?["\']?)(?<![\w-])' + _SECRET_NAME
                + r'(?P=q)' + _SEPARATOR + ')' + _SECRET_VALUE, re.I),
     lambda m: _mask_pair(m)),
)


def _mask_pair(match):
    """Mask the value of a ``name=value`` match whose name is secret."""
    if not is_secret_key(match.group('name')):
        # token_expires_at=...: keep it, but scrub inside the value.
        return match.group('pre') + _scrub_pairs(match.group('val'))
    return match.group('pre') + _masked_like(match.group('val'))


def _scrub_pairs(text):
    for pattern, repl in _TEXT_PATTERNS[3:]:
        text = pattern.sub(repl, text)
    return text


def _masked_like(value):
    """MASK, keeping the quotes around ``value`` so the text stays parseable."""
    if value.startswith('\\"'):
        return '\\"' + MASK + '\\"'
    body = value.lstrip('bBrRuU')
    if body[:1] in ('"', "'") and len(body) >= 2:
        return body[0] + MASK + body[0]
    return MASK


def scrub_text(text):
    """Mask secrets embedded in free text; returns a new string.

    Handles ``key=value`` and ``"key": "value"`` pairs whose key looks secret
    (``is_secret_key`` words), ``--password VALUE`` options, the password of
    any ``scheme://user:password@host`` URL, and PEM private key blocks.
    Never raises: a non-string is returned unchanged.
    """
    if not isinstance(text, str) or not text:
        return text
    try:
        for pattern, repl in _TEXT_PATTERNS:
            text = pattern.sub(repl, text)
        return text
    except Exception:  # pragma: no cover - regexes on a str do not fail
        return '<unloggable text>'


class _Text(str):
    """A scrubbed ``repr`` of an object: renders as itself, without quotes."""

    __slots__ = ()

    def __repr__(self):
        return str.__str__(self)


def _safe_repr(value):
    try:
        return repr(value)
    except Exception as exc:  # a broken __repr__ must not break logging
        try:
            return f'<unrepresentable {type(value).__name__}: {type(exc).__name__}>'
        except Exception:
            return '<unrepresentable>'


def _maskable(value):
    # None, booleans and '' say "no secret" / "secret set"; nothing to hide.
    return not (value is None or isinstance(value, bool)
                or (isinstance(value, str) and not value))


def _key(key):
    # JSON objects only take str/int/float/bool/None keys; a key is text too.
    if isinstance(key, str):
        return scrub_text(key)
    if key is None or isinstance(key, (bool, int, float)):
        return key
    return _opaque(key)


def _opaque(value):
    return _Text(scrub_text(_safe_repr(value)))


def _redact(value, depth, seen):
    if isinstance(value, str):
        return scrub_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (bytes, bytearray)):
        text = bytes(value).decode('utf-8', 'replace')
        scrubbed = scrub_text(text)
        return value if scrubbed == text else scrubbed
    if depth >= _MAX_DEPTH:
        return _opaque(value)
    is_mapping = isinstance(value, collections.abc.Mapping)
    if not (is_mapping or isinstance(value, (list, tuple, set, frozenset))):
        return _opaque(value)
    marker = id(value)
    if marker in seen:
        return _Text('<cycle>')
    seen.add(marker)
    try:
        if is_mapping:
            return {_key(k): (MASK if is_secret_key(k) and _maskable(v)
                              else _redact(v, depth + 1, seen))
                    for k, v in list(value.items())}
        if isinstance(value, (set, frozenset)):
            items = [_redact(v, depth + 1, seen) for v in value]
            try:
                return type(value)(items) if type(value) in (set, frozenset) else set(items)
            except TypeError:
                return items
        return _redact_sequence(value, depth, seen)
    except Exception:
        return _opaque(value)
    finally:
        seen.discard(marker)


def _redact_sequence(value, depth, seen):
    """Lists and tuples; a secret name followed by its value is masked too:
    header pairs ``('X-Auth-Token', 'abc')`` and argv ``['--password', 'x']``.
    """
    items = list(value)
    out = []
    mask_next = False
    for index, item in enumerate(items):
        if mask_next and _maskable(item):
            out.append(MASK)
            mask_next = False
            continue
        mask_next = False
        out.append(_redact(item, depth + 1, seen))
        if isinstance(item, str) and '=' not in item and (
                (len(items) == 2 and index == 0) or item.startswith('-')):
            mask_next = is_secret_key(item.lstrip('-'))
    return out if isinstance(value, list) else tuple(out)


def redact(value):
    """A copy of ``value`` with secrets masked; ``value`` itself is untouched.

    Mappings (at any depth, inside lists/tuples/sets too) have the values of
    secret keys (``is_secret_key``) replaced by ``***``; strings and bytes are
    scrubbed (``scrub_text``); other objects are replaced by their scrubbed
    ``repr``. Cycles and nesting deeper than 16 levels end in a scrubbed
    ``repr``. Never raises.
    """
    try:
        return _redact(value, 0, set())
    except Exception:
        return _Text('<unloggable value>')


# Keys a processor chain carries that are not log data.
_PASSTHROUGH_KEYS = frozenset(('_record', '_from_structlog', 'exc_info'))
_SAFE_KEYS = ('timestamp', 'level', 'logger', 'bay_uuid', 'operation', 'task')


def redact_secrets(logger, method_name, event_dict):
    """structlog processor: mask secrets in every value and in the event text.

    Run it after ``format_exc_info`` so the exception text is scrubbed too.
    Returns a new dict and never raises: if redaction fails the event is
    replaced by a placeholder rather than logged unredacted.
    """
    try:
        seen = set()
        out = {}
        for key, value in event_dict.items():
            if key in _PASSTHROUGH_KEYS:
                out[key] = value
            elif is_secret_key(key) and _maskable(value):
                out[key] = MASK
            else:
                out[key] = _redact(value, 0, seen)
        return out
    except Exception as exc:
        out = {k: event_dict[k] for k in _PASSTHROUGH_KEYS if k in event_dict}
        for key in _SAFE_KEYS:
            if isinstance(event_dict.get(key), str):
                out[key] = scrub_text(event_dict[key])
        out['event'] = '<log event withheld: redaction failed>'
        out['redaction_error'] = type(exc).__name__
        return out


# --------------------------------------------------------------------------
# Context
# --------------------------------------------------------------------------

def bound_context(**values):
    """Bind ``values`` for the log lines inside the block; restores afterwards."""
    return structlog.contextvars.bound_contextvars(**values)


def operation_context(bay_uuid, operation, **extra):
    """Every line logged inside carries ``bay_uuid`` and ``operation``."""
    return bound_context(bay_uuid=str(bay_uuid), operation=operation, **extra)


def task_context(task_name, **extra):
    """Every line logged inside carries ``task`` (use inside an operation)."""
    return bound_context(task=task_name, **extra)


def current_context():
    """A copy of the bound context, to re-bind with ``bound_context(**ctx)``
    in a worker thread (contextvars do not cross to threads by themselves)."""
    return structlog.contextvars.get_contextvars()


# --------------------------------------------------------------------------
# Pipeline
# --------------------------------------------------------------------------

_timestamper = structlog.processors.TimeStamper(fmt='iso', utc=True)


_RECORD_ATTRS = frozenset(
    logging.LogRecord('n', 0, 'p', 0, 'm', (), None).__dict__) | {'message', 'asctime'}


def _add_extras(logger, method_name, event_dict):
    """Copy ``extra=`` attributes of a foreign stdlib record into the event."""
    record = event_dict.get('_record')
    if record is not None:
        for key, value in record.__dict__.items():
            if (key not in _RECORD_ATTRS
                    and not key.startswith('_')):
                event_dict.setdefault(key, value)
    return event_dict


def _render_for_host(logger, method_name, event_dict):
    """Before setup(): one text message per event for the host's handlers."""
    event = event_dict.pop('event', '')
    exception = event_dict.pop('exception', None)
    stack = event_dict.pop('stack', None)
    for key in ('level', 'logger', 'timestamp'):
        event_dict.pop(key, None)
    parts = [str(event)]
    parts += [f'{key}={value!r}' if isinstance(value, str) and not isinstance(value, _Text)
              else f'{key}={value}' for key, value in sorted(event_dict.items())]
    message = ' '.join(parts)
    for text in (stack, exception):
        if text:
            message += '\n' + text
    return message


def _finalize(logger, method_name, event_dict):
    if _configured:
        return structlog.stdlib.ProcessorFormatter.wrap_for_formatter(
            logger, method_name, event_dict)
    return _render_for_host(logger, method_name, event_dict)


# bayflow's structlog loggers: filtered by the stdlib level, redacted before
# they leave the chain (so no handler ever sees a secret in record.msg).
_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.filter_by_level,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.stdlib.PositionalArgumentsFormatter(),
    _timestamper,
    structlog.processors.StackInfoRenderer(),
    structlog.processors.format_exc_info,
    redact_secrets,
    _finalize,
]

# Records of stdlib loggers (libraries) get the same treatment in the formatter.
_FOREIGN_PRE_CHAIN = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    _add_extras,
    _timestamper,
    structlog.processors.StackInfoRenderer(),
    structlog.processors.format_exc_info,
    redact_secrets,
]


_JSON_FIRST = ('timestamp', 'level', 'logger', 'event', 'bay_uuid', 'operation', 'task')


def _json_key_order(logger, method_name, event_dict):
    """JSON lines read better with the same leading keys on every line."""
    ordered = {key: event_dict[key] for key in _JSON_FIRST if key in event_dict}
    ordered.update(event_dict)
    return ordered


def _renderer(log_format, colors=False):
    if log_format == 'json':
        return structlog.processors.JSONRenderer()
    return structlog.dev.ConsoleRenderer(
        colors=colors, exception_formatter=structlog.dev.plain_traceback)


def _formatter(log_format, colors=False):
    processors = [structlog.stdlib.ProcessorFormatter.remove_processors_meta]
    if log_format == 'json':
        processors.append(_json_key_order)
    processors.append(_renderer(log_format, colors))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_FOREIGN_PRE_CHAIN, processors=processors)


def _wants_colors(stream):
    if os.environ.get('NO_COLOR'):
        return False
    try:
        return bool(stream.isatty())
    except Exception:
        return False


# cliff's -q / default / -v / -vv
_VERBOSE_LEVELS = {0: logging.WARNING, 1: logging.INFO}


def _level(level, debug, verbose_level=None):
    if debug:
        return logging.DEBUG
    if level is None:
        if verbose_level is None:
            return logging.INFO
        return _VERBOSE_LEVELS.get(verbose_level, logging.DEBUG)
    if isinstance(level, str):
        value = logging.getLevelName(level.upper())
        if not isinstance(value, int):
            raise ValueError(f'unknown log level {level!r}')
        return value
    return int(level)


def _remove_handlers(root):
    for handler in list(root.handlers):
        if getattr(handler, _HANDLER_MARK, False):
            root.removeHandler(handler)
            handler.close()


def setup(log_format='console', level=None, log_file=None, debug=False,
          stream=None, verbose_level=None):
    """Configure structlog and the stdlib root logger for a bayflow process.

    ``log_format``: ``console`` (ConsoleRenderer; colours only when ``stream``
    is a tty and ``NO_COLOR`` is unset) or ``json`` (one JSON object a line).
    ``level``: a stdlib level or its name; ``debug=True`` means DEBUG; without
    either, cliff's ``verbose_level`` decides (0 WARNING, 1 INFO, 2+ DEBUG),
    else INFO. ``log_file``: also write JSON lines there (parent directory is
    created). ``stream``: console stream, default ``sys.stderr``.
    Calling it again replaces bayflow's handlers; other handlers stay.
    """
    global _configured
    if log_format not in ('console', 'json'):
        raise ValueError(f"log_format must be 'console' or 'json', not {log_format!r}")
    root_level = _level(level, debug, verbose_level)
    stream = sys.stderr if stream is None else stream

    handlers = []
    console = logging.StreamHandler(stream)
    console.setFormatter(_formatter(log_format, colors=(
        log_format == 'console' and _wants_colors(stream))))
    handlers.append(console)
    if log_file:
        log_file = os.path.abspath(os.path.expanduser(str(log_file)))
        os.makedirs(os.path.dirname(log_file), exist_ok=True)
        file_handler = logging.handlers.WatchedFileHandler(log_file, encoding='utf-8')
        file_handler.setFormatter(_formatter('json'))
        handlers.append(file_handler)

    root = logging.getLogger()
    _remove_handlers(root)
    for handler in handlers:
        setattr(handler, _HANDLER_MARK, True)
        root.addHandler(handler)
    root.setLevel(root_level)

    structlog.configure(
        processors=_PROCESSORS,
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        context_class=dict,
        # Not cached: module-level loggers created before setup() must pick
        # up the configuration, and setup() may run more than once.
        cache_logger_on_first_use=False,
    )
    _configured = True


def setup_from_config(conf=None, debug=False, stream=None, verbose_level=None):
    """``setup`` from bayflow's options: ``log_format`` and ``log_file``
    (default ``<state_path>/logs/bayflow.log``)."""
    from bayflow import config
    conf = config.CONF if conf is None else conf
    setup(conf.log_format, log_file=config.log_file(conf), debug=debug,
          stream=stream, verbose_level=verbose_level)


def reset():
    """Undo ``setup``: remove bayflow's handlers and structlog's configuration."""
    global _configured
    _remove_handlers(logging.getLogger())
    structlog.reset_defaults()
    _configured = False


def get_logger(name=None, **initial_values):
    """A structlog logger over the stdlib logger ``name``.

    It always goes through bayflow's processor chain (context, redaction), and
    through stdlib ``logging``, whether or not ``setup`` has been called.
    """
    return structlog.wrap_logger(
        logging.getLogger(name), processors=_PROCESSORS,
        wrapper_class=structlog.stdlib.BoundLogger, context_class=dict,
        cache_logger_on_first_use=False, **initial_values)
