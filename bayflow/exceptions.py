"""Errors a user can act on. The CLI prints ``str(error)`` and exits non-zero."""


class BayflowError(Exception):
    """Base of every error bayflow reports to a user (never a traceback)."""

    exit_code = 1


class InvalidParameter(BayflowError):
    """Bad input: names the field, the value given and what is allowed."""

    exit_code = 2

    def __init__(self, field, value, allowed):
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"invalid {field} {value!r}: {allowed}")


class OperationNotAllowed(BayflowError):
    """The bay's status does not allow the operation asked for."""


class Conflict(BayflowError):
    """Someone else changed the record first, or it is in use."""


class DatabaseUnavailable(BayflowError):
    """The database is unreachable, missing, or not at bayflow's schema."""


class DuplicateEvent(BayflowError):
    """The event was handled before: its effect is recorded, nothing changed now."""

    def __init__(self, event_id):
        self.event_id = event_id
        super().__init__(f"event {event_id!r} was already processed; nothing was "
                         f"changed again")
