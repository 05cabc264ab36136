"""JSON-PATCH style operations, as ``baymodel-update`` / ``bay-update`` send them."""

from bayflow.validation._common import invalid
from bayflow.validation.labels import parse_labels

OPS = ('add', 'replace', 'remove')


def parse_patch(op, attributes):
    """The CLI's ``<op> <path=value> [...]`` as a list of ``(op, path, value)``.

    Like python-magnumclient: ``add``/``replace`` take ``path=value``, ``remove``
    takes bare paths. ``labels=K=V,...`` is parsed like ``--labels``;
    ``labels/KEY=VALUE`` sets one label. Other values stay strings: the
    validators convert them, so a bad value gets an error naming its field.
    """
    if op not in OPS:
        raise invalid('op', op, f'one of {", ".join(OPS)}')
    if isinstance(attributes, str):
        attributes = [attributes]
    ops = []
    for item in attributes:
        if op == 'remove':
            if '=' in item:
                raise invalid('attribute', item, 'remove takes attribute names, without =VALUE')
            ops.append((op, '/' + item.strip().lstrip('/'), None))
            continue
        path, sep, value = item.partition('=')
        path = path.strip().lstrip('/')
        if not sep or not path:
            raise invalid('attribute', item, f'{op} takes ATTRIBUTE=VALUE')
        if path == 'labels':
            value = parse_labels([value]) if value.strip() else {}
        ops.append((op, '/' + path, value))
    return ops


def _unescape(token):
    return token.replace('~1', '/').replace('~0', '~')


def normalise_ops(ops):
    """``(op, path, value)`` tuples or JSON-PATCH dicts -> ``[(op, name, sub, value)]``.

    ``name`` is the attribute, ``sub`` the part after it (a label key for
    ``/labels/KEY``, else None).
    """
    single = isinstance(ops, tuple) and bool(ops) and isinstance(ops[0], str)
    if single or isinstance(ops, dict) or not hasattr(ops, '__iter__'):
        ops = [ops]
    result = []
    for item in ops:
        if isinstance(item, dict):
            op, path, value = item.get('op'), item.get('path'), item.get('value')
        elif isinstance(item, (list, tuple)) and len(item) in (2, 3):
            op, path, value = (tuple(item) + (None,))[:3]
        else:
            raise invalid('operation', item, '(op, path, value) or {"op", "path", "value"}')
        if not isinstance(path, str) or not path.strip('/'):
            raise invalid('operation', f'{op} {path}', 'a path naming an attribute, e.g. /name')
        if op not in OPS:
            raise invalid('operation', f'{op} {path}', f'op must be {", ".join(OPS)}')
        name, _, sub = path.strip().lstrip('/').partition('/')
        result.append((op, _unescape(name), _unescape(sub) if sub else None, value))
    return result
