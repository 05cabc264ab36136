"""Database failures as one line a user can act on, password hidden.

A raw driver error (``relation "bays" does not exist`` and its SQL, or a
libpq connection dump) tells an operator little; these name the database,
what is wrong with it and the command or setting that fixes it.
"""

import re

import sqlalchemy as sa

from bayflow.persistence import exceptions as exc

UPGRADE = 'run `bayflow db upgrade`'
SETTING = '[database] connection'

_NO_SCHEMA = re.compile(r'no such table|relation "[^"]+" does not exist|'
                        r"table '[^']+' doesn't exist", re.I)
_OLD_SCHEMA = re.compile(r'no such column|column "?[\w.]+"? (of relation "\w+" )?'
                         r'does not exist|has no column named|unknown column', re.I)
_NO_DATABASE = re.compile(r'database "([^"]+)" does not exist|unknown database', re.I)
_CANNOT_OPEN = re.compile(r'unable to open database file', re.I)
_AUTH = re.compile(r'password authentication failed|authentication failed|'
                   r'no password supplied|access denied', re.I)
_DOWN = (
    (re.compile(r'connection refused', re.I), 'connection refused'),
    (re.compile(r'could not translate host name|name or service not known|'
                r'nodename nor servname', re.I), 'unknown host'),
    (re.compile(r'timeout expired|timed out', re.I), 'connection timed out'),
    (re.compile(r'server closed the connection|terminating connection|'
                r'connection .* failed|could not connect', re.I), 'connection failed'),
)


def shown(url):
    """The URL as it may be printed: its password hidden."""
    return sa.engine.make_url(str(url) if not isinstance(url, sa.engine.URL)
                              else url).render_as_string(hide_password=True)


def explain(url, error):
    """A DatabaseNotReady for a driver error we can explain, else None."""
    text = str(getattr(error, 'orig', None) or error)
    where = shown(url)
    if _NO_SCHEMA.search(text):
        return exc.DatabaseNotReady(
            where, f"database {where} has no bayflow schema: {UPGRADE}")
    if _OLD_SCHEMA.search(text):
        return exc.DatabaseNotReady(
            where, f"database {where} has an outdated bayflow schema: {UPGRADE}")
    missing = _NO_DATABASE.search(text)
    if missing:
        name = missing.group(1) or sa.engine.make_url(where).database
        return exc.DatabaseNotReady(
            where, f"database {where} does not exist: create it (e.g. createdb "
                   f"{name}) or fix {SETTING}, then {UPGRADE}")
    if _CANNOT_OPEN.search(text):
        return exc.DatabaseNotReady(
            where, f"cannot open database {where}: its directory is missing or "
                   f"not writable; create it or fix {SETTING}, then {UPGRADE}")
    if _AUTH.search(text):
        return exc.DatabaseNotReady(
            where, f"database {where} refused the login: fix the user or "
                   f"password in {SETTING}")
    for pattern, reason in _DOWN:
        if pattern.search(text):
            return exc.DatabaseNotReady(
                where, f"cannot connect to database {where} ({reason}): start "
                       f"the database server or fix {SETTING}")
    return None


def not_migrated(url, current, head, known):
    """The schema revision is not ``head``: say how to get there."""
    where = shown(url)
    if current is None:
        message = f"database {where} has no bayflow schema: {UPGRADE}"
    elif current in known:
        message = (f"database {where} has bayflow schema {current}, this "
                   f"bayflow needs {head}: {UPGRADE}")
    else:
        message = (f"database {where} has bayflow schema {current}, newer than "
                   f"this bayflow knows (up to {head}): upgrade bayflow")
    return exc.DatabaseNotReady(where, message)
