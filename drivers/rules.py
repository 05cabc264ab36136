"""Security-group rules as plain dicts, shared by COE and network drivers.

A rule is ``{'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': 'tcp' | 'udp' |
'icmp' | None, 'port_range_min': int | None, 'port_range_max': int | None,
'remote_ip_prefix': str | None, 'remote_role': str | None}``. ``remote_role``
names another role's group of the same bay (the cloud driver maps it to that
group's id); a rule with neither remote is open to any source, as Neutron reads it.

Network drivers may use ``ANY_ROLE`` ('*') as the role a rule goes to and as its
remote_role: ``expand`` turns it into one rule per role of the bay.
"""

ANY_ROLE = '*'


def rule(protocol=None, port_min=None, port_max=None, remote_ip_prefix=None,
         remote_role=None):
    """One ingress IPv4 rule; ``port_max`` defaults to ``port_min``."""
    if port_min is not None and port_max is None:
        port_max = port_min
    return {'direction': 'ingress', 'ethertype': 'IPv4', 'protocol': protocol,
            'port_range_min': port_min, 'port_range_max': port_max,
            'remote_ip_prefix': remote_ip_prefix, 'remote_role': remote_role}


def expand(rules_by_role, roles):
    """``{role or '*': [rules]}`` -> ``{role: [rules]}`` for each of ``roles``."""
    out = {role: [] for role in roles}
    for target, rules in rules_by_role.items():
        for role in (roles if target == ANY_ROLE else (target,)):
            if role not in out:
                raise ValueError(f'security-group rules for role {role!r}: the bay has '
                                 f'only {", ".join(roles)}')
            for item in rules:
                remotes = roles if item.get('remote_role') == ANY_ROLE else \
                    (item.get('remote_role'),)
                out[role].extend(dict(item, remote_role=remote) for remote in remotes)
    return out


def merge(*groups):
    """Merge ``{role: [rules]}`` dicts in order, dropping exact repeats (Neutron
    refuses a duplicate rule with 409)."""
    out = {}
    for group in groups:
        for role, rules in group.items():
            bucket = out.setdefault(role, [])
            for item in rules:
                if item not in bucket:
                    bucket.append(item)
    return out
