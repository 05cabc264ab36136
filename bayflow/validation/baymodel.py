"""Baymodel attributes (Magnum's Mitaka API plus the Newton additions), create and patch."""

import ipaddress

from bayflow.config import CONF
from bayflow.validation import labels as labels_mod
from bayflow.validation._common import (
    NETWORK_DRIVERS, VOLUME_DRIVERS, check_names, invalid, one_of, to_bool, to_choice, to_int,
    to_ipv4_address, to_str)
from bayflow.validation.patch import normalise_ops

ATTRIBUTES = (
    'name', 'coe', 'image_id', 'keypair_id', 'external_network_id', 'fixed_network',
    'fixed_subnet', 'dns_nameserver', 'flavor_id', 'master_flavor_id',
    'docker_volume_size', 'docker_storage_driver', 'network_driver', 'volume_driver',
    'apiserver_port', 'http_proxy', 'https_proxy', 'no_proxy', 'labels', 'tls_disabled',
    'public', 'registry_enabled', 'master_lb_enabled', 'floating_ip_enabled', 'server_type',
)
# Set by bayflow (cluster_distro from the image's os_distro), never by a request.
READ_ONLY = ('id', 'uuid', 'project_id', 'user_id', 'cluster_distro', 'created_at',
             'updated_at')
# JSON-PATCH cannot remove these (Magnum's BayModelPatchType.mandatory_attrs).
NON_REMOVABLE = ('image_id', 'keypair_id', 'external_network_id', 'coe', 'tls_disabled',
                 'public', 'registry_enabled', 'server_type', 'cluster_distro',
                 'network_driver')
MANDATORY = ('image_id', 'keypair_id', 'external_network_id')
OPTIONAL_STRINGS = ('fixed_network', 'fixed_subnet', 'master_flavor_id', 'http_proxy',
                    'https_proxy', 'no_proxy')
BOOLEANS = {'tls_disabled': False, 'public': False, 'registry_enabled': False,
            'master_lb_enabled': False, 'floating_ip_enabled': True}
DEFAULT_FLAVOR = 'm1.medium'
DEFAULT_DNS_NAMESERVER = '8.8.8.8'
DOCKER_STORAGE_DRIVERS = ('devicemapper', 'overlay')
MIN_DOCKER_VOLUME_SIZE = {'devicemapper': 3, 'overlay': 1}
SERVER_TYPES = ('vm',)
APISERVER_PORTS = (1024, 65535)
# The private subnet bayflow creates when no fixed_network is given (Magnum's
# fixed_network_cidr); pod and service networks must stay clear of it.
DEFAULT_FIXED_SUBNET_CIDR = '10.0.0.0/24'


def validate_baymodel(values, conf=CONF):
    """-> (record, warnings): a baymodel request checked and normalised.

    The record has every attribute of ATTRIBUTES (None where unset and without
    default), an explicit network_driver and the labels as given (checked;
    ``labels.effective_labels`` adds the defaults where they are used).
    Nothing is looked up in the cloud.
    """
    check_names('baymodel', values, ATTRIBUTES, READ_ONLY)
    coe, driver = labels_mod.check_coe_and_driver(values.get('coe'),
                                                  values.get('network_driver'))
    out = {'name': to_str('name', values.get('name')), 'coe': coe}
    for key in MANDATORY:
        out[key] = to_str(key, values.get(key), required=True)
    for key in OPTIONAL_STRINGS:
        out[key] = to_str(key, values.get(key))
    if out['fixed_subnet'] and not out['fixed_network']:
        raise invalid('fixed_subnet', out['fixed_subnet'],
                      'only together with fixed_network (the subnet must belong to it)')
    out['flavor_id'] = to_str('flavor_id', values.get('flavor_id'), default=DEFAULT_FLAVOR)
    out['dns_nameserver'] = str(to_ipv4_address(
        'dns_nameserver', values.get('dns_nameserver'), default=DEFAULT_DNS_NAMESERVER))
    storage = to_choice('docker_storage_driver', values.get('docker_storage_driver'),
                        DOCKER_STORAGE_DRIVERS, default=DOCKER_STORAGE_DRIVERS[0])
    out['docker_storage_driver'] = storage
    out['docker_volume_size'] = to_int(
        'docker_volume_size', values.get('docker_volume_size'),
        minimum=MIN_DOCKER_VOLUME_SIZE[storage],
        why=f' (GB; the minimum with docker_storage_driver {storage})')
    out['server_type'] = to_choice(
        'server_type', values.get('server_type'), SERVER_TYPES, default=SERVER_TYPES[0],
        why=' (bare metal, bm, is not supported by bayflow)')
    out['apiserver_port'] = to_int('apiserver_port', values.get('apiserver_port'),
                                   *APISERVER_PORTS)
    for key, default in BOOLEANS.items():
        out[key] = to_bool(key, values.get(key), default)
    out['network_driver'] = _allowed_driver(coe, driver, conf, values.get('network_driver'))
    volume = to_str('volume_driver', values.get('volume_driver'))
    if volume is not None and volume not in VOLUME_DRIVERS[coe]:
        raise invalid('volume_driver', volume, f'{coe} supports {one_of(VOLUME_DRIVERS[coe])} '
                                               f'(case-sensitive), or none')
    out['volume_driver'] = volume
    out['labels'], warnings = labels_mod.validate_labels(coe, driver, values.get('labels'))
    _cross_checks(out, labels_mod.effective_labels(out['labels'], coe, driver), warnings)
    return {key: out[key] for key in ATTRIBUTES}, warnings


def _allowed_driver(coe, driver, conf, given):
    option = f'{coe}_allowed_network_drivers'
    allowed = list(getattr(conf.baymodel, option))
    if 'all' in allowed or driver in allowed:
        return driver
    usable = [d for d in NETWORK_DRIVERS[coe] if d in allowed]
    default = '' if given else f' (the {coe} default)'
    raise invalid('network_driver', driver,
                  f'not allowed{default} by [baymodel] {option}; allowed: '
                  f'{", ".join(usable) or "none"}')


def _cross_checks(out, labels, warnings):
    """Checks across attributes, on the effective labels (defaults included)."""
    driver = out['network_driver']
    if out['master_lb_enabled']:
        warnings.append('master_lb_enabled is stored, but bayflow does not build a load '
                        'balancer yet: bays of this baymodel get one master')
    if driver == 'flannel' and labels.get('flannel_backend') == 'host-gw' \
            and out['fixed_network']:
        warnings.append(f"flannel_backend host-gw needs every node on one L2 segment: make "
                        f"sure fixed_network {out['fixed_network']} is one (bayflow's own "
                        f"private network is)")
    if out['fixed_network']:
        return  # its CIDR is only known to the cloud
    private = ipaddress.IPv4Network(DEFAULT_FIXED_SUBNET_CIDR)
    networks = [labels_mod.pod_network(driver, labels)]
    if out['coe'] == 'kubernetes':
        networks.append(('service_cluster_ip_range',
                         ipaddress.IPv4Network(labels['service_cluster_ip_range'])))
    for key, net in filter(None, networks):
        if net.overlaps(private):
            raise invalid(f'label {key}', labels[key],
                          f'a network not overlapping {private}, the private subnet bayflow '
                          f'creates for the nodes (or give fixed_network)')


def validate_baymodel_patch(stored, ops, conf=CONF):
    """-> (record, warnings): ``stored`` with JSON-PATCH ``ops`` applied, fully re-validated.

    ops: ``(op, path, value)`` tuples or ``{"op", "path", "value"}`` dicts; op is
    add, replace or remove; path ``/attribute`` or ``/labels/KEY``. Removing an
    attribute resets it to its default; removing a label lets its default (if
    any) apply again. The record keeps stored's other fields (uuid, version,
    project_id, ...).
    """
    if not isinstance(stored, dict):
        raise invalid('baymodel', type(stored).__name__, 'a stored baymodel record (dict)')
    attrs = {k: stored[k] for k in ATTRIBUTES if stored.get(k) is not None}
    labels = labels_mod.as_label_dict(stored.get('labels'))
    for op, name, sub, value in normalise_ops(ops):
        shown_op = f'{op} /{name}' + (f'/{sub}' if sub else '')
        if name in READ_ONLY:
            raise invalid('operation', shown_op, f'{name} is read-only: bayflow sets it')
        if name not in ATTRIBUTES:
            raise invalid('operation', shown_op,
                          f'not a baymodel attribute; known: {", ".join(ATTRIBUTES)}')
        if sub is not None:
            if name != 'labels':
                raise invalid('operation', shown_op, 'only labels has sub-paths (/labels/KEY)')
            if op != 'remove':
                labels[sub] = value
            elif sub in labels:
                del labels[sub]
            else:
                raise invalid('operation', shown_op,
                              f'label {sub} is not set; set: {", ".join(labels) or "none"}')
        elif op == 'remove' and name in NON_REMOVABLE:
            raise invalid('operation', shown_op,
                          f'{name} cannot be removed, only replaced; removable: '
                          f'{", ".join(a for a in ATTRIBUTES if a not in NON_REMOVABLE)}')
        elif name == 'labels':
            labels = labels_mod.as_label_dict(None if op == 'remove' else value)
        elif op == 'remove':
            attrs.pop(name, None)
        else:
            attrs[name] = value
    attrs['labels'] = labels
    record, warnings = validate_baymodel(attrs, conf=conf)
    result = {k: v for k, v in stored.items() if k not in ATTRIBUTES}
    result.update(record)
    return result, warnings
