"""Who runs a flow: ``host/pid/start``, so a dead owner can be told from a live one.

A lease names its owner. On the owner's own host, a process that is gone (or
whose pid now belongs to a process started at another time) is known dead at
once, so its flows are taken over without waiting for the lease to expire;
an owner on another host is trusted until its lease expires.
"""

import os
import socket
import threading

import psutil

_lock = threading.Lock()
_me = None


def host():
    from bayflow import config
    return config.CONF.host or socket.gethostname()


def _start_time(pid):
    try:
        return f'{psutil.Process(pid).create_time():.2f}'
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None


def me():
    """This process's owner name (computed once; a fork gets its own)."""
    global _me
    with _lock:
        pid = os.getpid()
        if _me is None or _me[0] != pid:
            _me = (pid, f'{host()}/{pid}/{_start_time(pid)}')
        return _me[1]


def parse(owner):
    """-> (host, pid, start) or None for a name that is not ours to judge."""
    parts = (owner or '').rsplit('/', 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1]), parts[2]


def is_dead(owner):
    """True only when ``owner`` ran on this host and that process is gone."""
    parsed = parse(owner)
    if parsed is None:
        return False
    owner_host, pid, start = parsed
    if owner_host != host():
        return False
    return _start_time(pid) != start
