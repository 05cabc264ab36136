"""Path-template routing and the request object handlers receive."""

import re

_PARAM = re.compile(r'\{(\w+)\}')


class Request:
    """One parsed HTTP request. ``context`` is the authenticated caller."""

    def __init__(self, method, path, query, headers, body, context=None, raw=b''):
        self.method = method
        self.path = path
        self.query = query          # dict: name -> list of values (order kept)
        self.headers = headers      # case-insensitive mapping
        self.body = body            # parsed JSON (or None)
        self.raw = raw              # the body's bytes (image data is not JSON)
        self.context = context      # keystone.Context or None
        self.params = {}
        self.template = None

    def arg(self, name, default=None):
        """The last value of a query parameter."""
        values = self.query.get(name)
        return values[-1] if values else default

    def int_arg(self, name, error, default=None):
        """A non-negative integer parameter; ``error(400, message)`` otherwise
        (Glance's and Cinder's wording)."""
        value = self.arg(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise error(400, f'{name} param must be an integer')
        if number < 0:
            raise error(400, f'{name} param must be positive')
        return number

    def args(self, name):
        """Every value of a query parameter, comma lists split (Neutron's merging)."""
        out = []
        for value in self.query.get(name, ()):
            out.extend(v for v in value.split(',') if v != '')
        return out


class Response:
    def __init__(self, status=200, body=None, headers=None):
        self.status, self.body, self.headers = status, body, headers or {}


def as_response(result):
    """A handler's result (Response, (status, body[, headers]) or body) as a Response."""
    if isinstance(result, Response):
        return result
    if isinstance(result, tuple):
        return Response(*result)
    return Response(200, result)


class Router:
    """Maps (method, path template) to handlers; first registration wins."""

    def __init__(self):
        self._routes = []
        self._paths = set()

    def add(self, method, template, handler, service, auth=True):
        names = _PARAM.findall(template)
        pattern = '^' + _PARAM.sub(r'([^/]+)', re.escape(template).replace(r'\{', '{').replace(r'\}', '}')) + '/?$'
        self._routes.append((method, re.compile(pattern), names, template, handler, service, auth))
        self._paths.add(template)

    def route(self, method, template, service, auth=True):
        def decorate(handler):
            self.add(method, template, handler, service, auth)
            return handler
        return decorate

    def match(self, method, path):
        """(handler, params, template, service, auth) or a reason it failed."""
        allowed = False
        for m, regex, names, template, handler, service, auth in self._routes:
            found = regex.match(path)
            if not found:
                continue
            if m != method:
                allowed = True
                continue
            return handler, dict(zip(names, found.groups())), template, service, auth
        return 405 if allowed else 404
