"""Errors of the persistence layer, each a sentence a user can act on.

They do not derive from ``bayflow.exceptions`` because persistence imports
nothing above it; the service layer maps them (``StaleObject`` -> Conflict).
"""


class PersistenceError(Exception):
    """Base of every error the repository raises on purpose."""


class NotFound(PersistenceError):
    """No record has the identifier asked for."""

    def __init__(self, kind, ident):
        self.kind, self.ident = kind, ident
        super().__init__(f"{kind} {ident!r} not found: no {kind} has that "
                         f"uuid or name")


class Ambiguous(PersistenceError):
    """A name matches several records, so only a uuid can pick one."""

    def __init__(self, kind, name, uuids):
        self.kind, self.name, self.uuids = kind, name, list(uuids)
        super().__init__(
            f"{len(self.uuids)} {kind}s are named {name!r} "
            f"({', '.join(self.uuids)}); use a uuid to pick one")


class InUse(PersistenceError):
    """A record is referenced, so changing or deleting it would break others."""

    def __init__(self, kind, ident, action, users):
        self.kind, self.ident, self.users = kind, ident, list(users)
        if not self.users:
            super().__init__(
                f"cannot {action} {kind} {ident}: a bay was being created "
                f"from it at the same moment; retry")
            return
        super().__init__(
            f"cannot {action} {kind} {ident}: it is used by "
            f"{len(self.users)} bay(s) ({', '.join(self.users)}); delete "
            f"those bays first")


class StaleObject(PersistenceError):
    """Someone else wrote the record after the caller read it."""

    def __init__(self, kind, ident, expected, found):
        self.kind, self.ident = kind, ident
        self.expected, self.found = expected, found
        super().__init__(
            f"{kind} {ident!r} was changed by someone else (expected "
            f"version {expected}, found {found}); reload and retry")


class Duplicate(PersistenceError):
    """A record with the same unique key already exists."""

    def __init__(self, kind, field, value):
        self.kind, self.field, self.value = kind, field, value
        super().__init__(f"a {kind} with {field} {value!r} already exists")


class InvalidQuery(PersistenceError, ValueError):
    """A listing asked for a sort key, direction or filter we do not have."""

    def __init__(self, field, value, allowed):
        self.field, self.value, self.allowed = field, value, list(allowed)
        super().__init__(
            f"invalid {field} {value!r}: allowed values are "
            f"{', '.join(map(str, self.allowed))}")


class InvalidValues(PersistenceError, ValueError):
    """Values name fields that do not exist or may not be written here."""

    def __init__(self, fields, message):
        self.fields = sorted(fields)
        super().__init__(message)


def _when(moment):
    return moment.isoformat(timespec='seconds') if moment else 'unknown'


class LeaseHeld(PersistenceError):
    """Another live process holds the bay's lease: only it may move the bay."""

    def __init__(self, uuid, holder, holder_operation, expires_at, status,
                 operation):
        self.uuid, self.holder = uuid, holder
        self.holder_operation, self.expires_at = holder_operation, expires_at
        self.status, self.operation = status, operation
        stopping = ''
        if holder_operation and operation != holder_operation:
            stopping = f', stopping for the requested {operation}'
        #: "'host/1/2' is running its create flow (...)", for callers' wording
        self.holding = (f"{holder!r} is running its {holder_operation or operation} "
                        f"flow{stopping} (lease until {_when(expires_at)})")
        super().__init__(f"bay {uuid} is {status}: {self.holding}")


class LeaseLost(PersistenceError):
    """The caller no longer holds the bay's lease; its flow must stop.

    ``cancelled`` is True when the bay's operation changed under the flow
    (a delete was requested): stop without recording anything more.
    """

    def __init__(self, uuid, owner, reason, cancelled=False):
        self.uuid, self.owner = uuid, owner
        self.reason, self.cancelled = reason, cancelled
        super().__init__(f"{owner!r} lost the lease of bay {uuid}: {reason}")


class DatabaseNotReady(PersistenceError):
    """The database is unreachable, missing, or lacks bayflow's schema.

    ``url`` has its password hidden; the message names the fix.
    """

    def __init__(self, url, message):
        self.url = url
        super().__init__(message)


class DuplicateEvent(PersistenceError):
    """An event id was already recorded: its effect happened once already."""

    def __init__(self, event_id):
        self.event_id = event_id
        super().__init__(f"event {event_id!r} was already processed: its effect "
                         f"is recorded, nothing was changed again")
