"""Error bodies shaped the way each OpenStack service shapes them."""

# Nova's fault names per status (nova/api/openstack/wsgi.py _fault_names).
_NOVA_FAULTS = {
    400: 'badRequest', 401: 'unauthorized', 403: 'forbidden', 404: 'itemNotFound',
    405: 'badMethod', 409: 'conflictingRequest', 413: 'overLimit', 429: 'overLimit',
    500: 'computeFault', 501: 'notImplemented', 503: 'serviceUnavailable',
}
_NEUTRON_TYPES = {
    400: 'BadRequest', 401: 'NotAuthorized', 403: 'PolicyNotAuthorized', 404: 'HTTPNotFound',
    405: 'HTTPMethodNotAllowed', 409: 'Conflict', 500: 'InternalServerError',
    503: 'ServiceUnavailable',
}
_TITLES = {
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found',
    405: 'Method Not Allowed', 406: 'Not Acceptable', 409: 'Conflict',
    413: 'Request Entity Too Large', 415: 'Unsupported Media Type',
    500: 'Internal Server Error', 503: 'Service Unavailable',
}


class ApiError(Exception):
    """Raised by a handler; the server turns it into the response as is."""

    def __init__(self, status, body, headers=None):
        super().__init__(status, body)
        self.status, self.body, self.headers = status, body, headers or {}


def neutron(status, type_=None, message=''):
    return ApiError(status, {'NeutronError': {
        'type': type_ or _NEUTRON_TYPES.get(status, 'HTTPError'),
        'message': message, 'detail': ''}})


def nova(status, message):
    return ApiError(status, {_NOVA_FAULTS.get(status, 'computeFault'): {
        'code': status, 'message': message}})


def cinder(status, message):
    # Cinder shares Nova's fault vocabulary.
    return nova(status, message)


def keystone(status, message):
    return ApiError(status, {'error': {
        'code': status, 'title': _TITLES.get(status, 'Error'), 'message': message}})


def glance(status, message):
    # Glance raises webob.exc errors; for a JSON client webob's json_formatter
    # renders {"message": <body template>, "code": "404 Not Found", "title"}.
    title = _TITLES.get(status, 'Error')
    return ApiError(status, {'message': f'{message}<br /><br />\n\n\n',
                             'code': f'{status} {title}', 'title': title})


def octavia(status, message):
    # Octavia answers through wsme: faultcode Client (4xx) or Server (5xx).
    return ApiError(status, {'faultcode': 'Client' if status < 500 else 'Server',
                             'faultstring': message, 'debuginfo': None})


def for_service(service, status, message):
    """The service's own error body, for injected faults and generic errors."""
    return {
        'network': lambda: neutron(status, None, message),
        'compute': lambda: nova(status, message),
        'volume': lambda: cinder(status, message),
        'identity': lambda: keystone(status, message),
        'image': lambda: glance(status, message),
        'load-balancer': lambda: octavia(status, message),
    }.get(service, lambda: keystone(status, message))()
