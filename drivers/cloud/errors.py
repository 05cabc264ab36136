"""Cloud errors: which ones are worth retrying, and how a user reads the rest.

openstacksdk raises ``HttpException`` subclasses (status code, the cloud's own
message in ``details``, ``request_id``) and lets keystoneauth's connection
errors through. Transient ones (5xx, 429, dropped connections, 409 "in use"
while Nova unbinds a port) are retried by the caller; everything else is
permanent and becomes one :class:`CloudError` line naming the resource, the
cloud's text and the request id.
"""

import re

from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from bayflow.exceptions import BayflowError, InvalidParameter

# 409 messages that mean "wait, something is still being let go of" (the SDK
# does not expose Neutron's error type, only its message): a port Nova is
# still unbinding (Nova "Port P is still in use.", Neutron PortInUse "...
# already has an attached device", IpAddressInUse), a subnet, network, router
# or security group still holding ports for a moment (SubnetInUse "One or
# more ports have an IP allocation ...", NetworkInUse, RouterInUse,
# SecurityGroupInUse).
_IN_USE = re.compile(r'in use|still has ports|ports still attached|already has an '
                     r'attached device|ports have an IP allocation', re.I)
_TAGS = re.compile(r'<[^>]+>')
_MAX_DETAIL = 400


class CloudError(BayflowError):
    """A cloud call failed for good: names the resource, the cloud's text
    and the request id (never request bodies: user_data may hold keys)."""

    def __init__(self, action, kind, name, detail, status=None, request_id=None):
        self.action, self.kind, self.name = action, kind, name
        self.detail, self.status, self.request_id = detail, status, request_id
        where = []
        if status is not None:
            where.append(f'HTTP {status}')
        where.append(f'request {request_id}' if request_id else 'no request id')
        super().__init__(f'cannot {action} {kind} {name}: {detail} ({", ".join(where)})')


class CloudCheckError(InvalidParameter):
    """A baymodel/bay attribute names a cloud resource that is missing or
    unusable (exit code 2): field, value and what is allowed."""


class CloudTeardownError(CloudError):
    """A teardown could not finish; ``leftovers`` lists what the bay still owns
    (None when the cloud could not even be asked)."""

    def __init__(self, bay_uuid, leftovers, cause):
        self.bay_uuid, self.leftovers, self.cause = bay_uuid, leftovers, cause
        BayflowError.__init__(self, f'cannot tear down bay {bay_uuid}: {cause}; '
                                    f'left behind: {describe_leftovers(leftovers)}')
        self.action, self.kind, self.name = 'tear down', 'bay', bay_uuid
        self.detail = str(cause)
        self.status = getattr(cause, 'status', None)
        self.request_id = getattr(cause, 'request_id', None)


def describe_leftovers(leftovers):
    """'servers: a, b; ports: c' of a bay_inventory() (None: it could not be listed)."""
    if leftovers is None:
        return 'unknown (listing them failed too)'
    return '; '.join(f"{kind}: {', '.join(r.get('name') or r['id'] for r in items)}"
                     for kind, items in leftovers.items() if items) or 'nothing found'


def is_cloud_error(exc):
    """An error raised by talking to the cloud (as opposed to a bug here)."""
    return isinstance(exc, (sdk_exc.SDKException, ksa_exc.ClientException))


def is_transient(exc):
    """True for errors worth retrying: 5xx, 429, connection failures and
    409 "in use" (a port still being unbound, a subnet still holding ports)."""
    if isinstance(exc, CloudError):
        return False
    if isinstance(exc, (ksa_exc.ConnectionError, ksa_exc.RetriableConnectionFailure)):
        return True
    status = status_of(exc)
    if status is None:
        return False
    if status >= 500 or status == 429:
        return True
    return status == 409 and bool(_IN_USE.search(cloud_text(exc)))


def status_of(exc):
    status = getattr(exc, 'status_code', None)
    if status is None:
        status = getattr(exc, 'http_status', None)
    return status if isinstance(status, int) else None


def cloud_text(exc, secrets=()):
    """The cloud's own message for ``exc``, one line, with ``secrets`` masked."""
    if isinstance(exc, sdk_exc.HttpException):
        text = exc.details or exc.message
    elif isinstance(exc, ksa_exc.ConnectionError):
        text = f'connection failed ({type(exc).__name__})'
    else:
        text = getattr(exc, 'message', None) or str(exc)
    text = ' '.join(_TAGS.sub(' ', str(text)).split())
    secrets = [s for s in secrets if s]
    for secret in secrets:
        text = text.replace(secret, '***')
    # A cloud may quote a secret cut short: mask every long word taken from one.
    text = ' '.join('***' if len(word) >= 12 and any(word.strip('.,;:\'"') in secret
                                                     for secret in secrets) else word
                    for word in text.split(' '))
    if len(text) > _MAX_DETAIL:
        text = text[:_MAX_DETAIL] + '...'
    return text or type(exc).__name__


def from_exception(action, kind, name, exc, tries=1, secrets=()):
    """The CloudError for a permanent error (or transient ones that kept failing)."""
    detail = cloud_text(exc, secrets)
    if tries > 1 and is_transient(exc):
        detail = f'{detail} (still failing after {tries} tries)'
    return CloudError(action, kind, name, detail, status_of(exc),
                      getattr(exc, 'request_id', None))
