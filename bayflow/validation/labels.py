"""Labels: parsed as the Magnum CLI does, then checked for real.

Magnum checks no flannel label at all (a bad CIDR surfaces on the nodes, at
run time); bayflow checks every label it knows for the baymodel's COE and
network driver, and keeps unknown or inapplicable keys unchanged, reporting
them as warnings. A baymodel stores the labels as the user gave them (as
Magnum did); ``effective_labels`` derives, where labels are used, what a
bay runs with: the given values normalised plus the defaults that apply. So
a later default reaches every baymodel that never set that label, and a
user can always tell what they chose from what bayflow filled in.
"""

import ipaddress
import json
import re

from bayflow.validation._common import (
    COES, DEFAULT_NETWORK_DRIVER, NETWORK_DRIVERS, invalid, one_of, to_ipv4_address,
    to_ipv4_network)

FLANNEL_BACKENDS = ('udp', 'vxlan', 'host-gw')
MAX_FLANNEL_SUBNETLEN = 29
CALICO_IPIP_MODES = ('Always', 'CrossSubnet', 'Never', 'Off')
SWARM_STRATEGIES = ('spread', 'binpack', 'random')
MESOS_ISOLATIONS = (
    'filesystem/posix', 'filesystem/linux', 'filesystem/shared', 'posix/cpu',
    'posix/mem', 'posix/disk', 'cgroups/cpu', 'cgroups/mem', 'docker/runtime',
    'namespaces/pid')
MESOS_IMAGE_PROVIDERS = ('docker', 'appc')
# kube-apiserver refuses an IPv4 service range larger than /12.
SERVICE_RANGE_PREFIX = (12, 28)

FLANNEL_LABELS = ('flannel_network_cidr', 'flannel_network_subnetlen',
                  'flannel_backend', 'flannel_use_vxlan')
CALICO_LABELS = ('calico_ipv4pool', 'calico_ipv4pool_ipip', 'calico_tag')
KUBERNETES_LABELS = ('service_cluster_ip_range', 'dns_service_ip', 'dns_cluster_domain')
SWARM_LABELS = ('swarm_strategy',)
REXRAY_LABELS = ('rexray_preempt',)
MESOS_LABELS = ('mesos_slave_isolation', 'mesos_slave_image_providers',
                'mesos_slave_executor_env_variables', 'mesos_slave_work_dir')

# Filled in when the label applies and is not given. dns_service_ip is derived:
# the 10th address of service_cluster_ip_range (10.254.0.10 for the default).
LABEL_DEFAULTS = {
    'flannel_network_cidr': '10.100.0.0/16',
    'flannel_network_subnetlen': '24',
    'flannel_backend': 'udp',
    # Magnum's value from Ussuri on (192.168.0.0/16 in Rocky..Train): it is
    # flannel's default pod network too, and 192.168/16 collides with the
    # tenant and office networks users most often already have.
    'calico_ipv4pool': '10.100.0.0/16',
    'calico_ipv4pool_ipip': 'Off',
    'service_cluster_ip_range': '10.254.0.0/16',
    'dns_cluster_domain': 'cluster.local',
    'swarm_strategy': 'spread',
    'rexray_preempt': 'false',
}

# (labels, applies(coe, driver), where they apply: for the "ignored" warning)
_GROUPS = (
    (FLANNEL_LABELS, lambda coe, driver: driver == 'flannel',
     'only with network_driver flannel (kubernetes, swarm)'),
    (CALICO_LABELS, lambda coe, driver: coe == 'kubernetes' and driver == 'calico',
     'only to kubernetes with network_driver calico'),
    (KUBERNETES_LABELS, lambda coe, driver: coe == 'kubernetes', 'only to kubernetes'),
    (SWARM_LABELS, lambda coe, driver: coe == 'swarm', 'only to swarm'),
    (REXRAY_LABELS, lambda coe, driver: coe in ('swarm', 'mesos'), 'only to swarm and mesos'),
    (MESOS_LABELS, lambda coe, driver: coe == 'mesos', 'only to mesos'),
)
KNOWN_LABELS = tuple(key for keys, _, _ in _GROUPS for key in keys)
_WHERE = {key: where for keys, _, where in _GROUPS for key in keys}


def applicable_labels(coe, network_driver):
    """The label keys bayflow reads for this COE and network driver."""
    return {key for keys, applies, _ in _GROUPS if applies(coe, network_driver)
            for key in keys}


# -- parsing ----------------------------------------------------------------

# A token starts a new KEY=VALUE pair only if it begins with a plausible key.
_PAIR = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=')
_SEPARATORS = re.compile(r'[,;]')
_JSON = json.JSONDecoder()
_FORMAT = ('KEY=VALUE pairs separated by "," or ";" (KEY: letters, digits, _ . -; '
           'a part without KEY= continues the previous value)')


def parse_labels(items):
    """``--labels`` values (repeatable) -> ``{key: value}``, as python-magnumclient.

    - ``,`` and ``;`` both separate pairs (Newton); ``--labels`` may repeat.
    - A repeated key is comma-joined (Newton), so labels stay str -> str.
    - A part without ``KEY=`` continues the previous value with its separator:
      ``mesos_slave_isolation=docker/runtime,filesystem/linux`` is one label.
    - A value starting with ``{`` or ``[`` that parses as JSON is taken whole,
      commas, semicolons and ``=`` included.
    - A part without ``KEY=`` at the start of an item is an error naming it.
    Keys and values are stripped of surrounding blanks.
    """
    if isinstance(items, str):
        items = [items]
    labels = {}
    for item in items or ():
        if not isinstance(item, str):
            raise invalid('labels', item, _FORMAT)
        _parse_item(item, labels)
    return labels


def _parse_item(item, labels):
    pos, end, previous = 0, len(item), None
    while pos < end:
        pair = _PAIR.match(item, pos)
        if pair:
            key, start = pair.group(1), pair.end()
            value, pos = _json_value(item, start)
            if value is None:
                stop = _next_separator(item, start)
                value, pos = item[start:stop].strip(), stop + 1
            labels[key] = f'{labels[key]},{value}' if key in labels else value
            previous = key
            continue
        stop = _next_separator(item, pos)
        token = item[pos:stop].strip()
        if token:
            if previous is None:
                raise invalid('labels', token, _FORMAT)
            labels[previous] += item[pos - 1] + token
        pos = stop + 1


def _next_separator(item, pos):
    found = _SEPARATORS.search(item, pos)
    return found.start() if found else len(item)


def _json_value(item, start):
    """(json text, position after its separator), or (None, None) if not JSON."""
    begin = len(item) - len(item[start:].lstrip())
    if begin >= len(item) or item[begin] not in '{[':
        return None, None
    try:
        _, stop = _JSON.raw_decode(item, begin)
    except ValueError:
        return None, None
    rest = len(item) - len(item[stop:].lstrip())
    if rest < len(item) and item[rest] not in ',;':
        return None, None
    return item[begin:stop], rest + 1


# -- checking ----------------------------------------------------------------

def as_label_dict(labels):
    """Labels as str -> str, from a dict, ``KEY=VALUE`` text or a list of it."""
    if labels is None:
        return {}
    if isinstance(labels, (str, list, tuple)):
        return parse_labels(labels)
    if not isinstance(labels, dict):
        raise invalid('labels', type(labels).__name__,
                      'a dict of KEY: VALUE strings, or KEY=VALUE text')
    result = {}
    for key, value in labels.items():
        if not isinstance(key, str) or not key.strip():
            raise invalid('label key', key, 'a non-empty string')
        if isinstance(value, bool):
            value = 'true' if value else 'false'
        elif isinstance(value, int):
            value = str(value)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, (str, int)) for v in value):
            value = ','.join(map(str, value))   # a Mitaka client's repeated key
        elif not isinstance(value, str):
            raise invalid(f'label {key}', value, 'a string')
        result[key] = value
    return result


def check_coe_and_driver(coe, network_driver):
    """The COE and its network driver (default filled in), "supported" check only."""
    if coe is None:
        raise invalid('coe', None, f'required: one of {", ".join(COES)}')
    if coe not in COES:
        raise invalid('coe', coe, f'one of {", ".join(COES)}')
    if network_driver is None or network_driver == '':
        return coe, DEFAULT_NETWORK_DRIVER[coe]
    drivers = NETWORK_DRIVERS[coe]
    if network_driver not in drivers:
        raise invalid('network_driver', network_driver,
                      f'{coe} supports {one_of(drivers)} (case-sensitive; leave it '
                      f'unset for the default, {DEFAULT_NETWORK_DRIVER[coe]})')
    return coe, network_driver


def validate_labels(coe, network_driver, labels):
    """-> (labels, warnings): the labels as given, every value checked.

    Nothing is filled in or normalised; only the Mitaka ``flannel_use_vxlan``
    becomes ``flannel_backend`` when flannel is the driver. An empty or None
    network_driver means the COE default. Unknown keys and keys that do not
    apply to this COE/driver are kept unchanged, with a warning. The input
    is not modified.
    """
    given, _, warnings = _checked(coe, network_driver, labels)
    return given, warnings


def effective_labels(baymodel_or_labels, coe=None, network_driver=None):
    """The labels a bay runs with: the given ones normalised, plus the
    defaults that apply to the COE and network driver.

    Takes a baymodel record (its labels, coe and network_driver; ``coe`` and
    ``network_driver`` override them) or a labels dict with ``coe``.
    Raises InvalidParameter if the labels are not valid for them.
    """
    labels = baymodel_or_labels
    if _is_baymodel(labels):
        coe = coe or labels.get('coe')
        network_driver = network_driver or labels.get('network_driver')
        labels = labels.get('labels')
    return _checked(coe, network_driver, labels)[1]


def _is_baymodel(value):
    return (isinstance(value, dict) and 'coe' in value and 'labels' in value
            and isinstance(value['labels'], (dict, type(None))))


def _checked(coe, network_driver, labels):
    """-> (given after translation, effective, warnings)."""
    coe, driver = check_coe_and_driver(coe, network_driver)
    given = as_label_dict(labels)
    labels = dict(given)
    warnings = []
    applies = applicable_labels(coe, driver)
    for key in labels:
        if key in applies:
            continue
        if key in _WHERE:
            warnings.append(f'label {key} is ignored: it applies {_WHERE[key]}, and this '
                            f'baymodel is {coe} with network_driver {driver} (kept unchanged)')
        else:
            warnings.append(f'label {key} is not one bayflow uses for {coe} with '
                            f'network_driver {driver} (kept unchanged, unused)')
    pod_key = None
    if driver == 'flannel':
        _check_flannel(labels, set(given), warnings)
        pod_key = 'flannel_network_cidr'
        if 'flannel_use_vxlan' in given:   # stored under today's name, in its place
            given = dict(('flannel_backend', labels['flannel_backend'])
                         if k == 'flannel_use_vxlan' else (k, v) for k, v in given.items())
    if 'calico_ipv4pool' in applies:
        _check_calico(labels)
        pod_key = 'calico_ipv4pool'
    if coe == 'kubernetes':
        _check_kubernetes(labels, set(given), pod_key)
    if coe == 'swarm':
        _choice(labels, 'swarm_strategy', SWARM_STRATEGIES)
    if coe in ('swarm', 'mesos'):
        labels['rexray_preempt'] = _bool_label(
            'rexray_preempt', labels.get('rexray_preempt', LABEL_DEFAULTS['rexray_preempt']))
    if coe == 'mesos':
        _check_mesos(labels)
    return given, labels, warnings


def label_defaults(coe, network_driver, labels=None):
    """The defaults effective_labels fills for this COE/driver (and given labels)."""
    applies = applicable_labels(coe, network_driver)
    defaults = {k: v for k, v in LABEL_DEFAULTS.items() if k in applies}
    if 'dns_service_ip' in applies:
        svc = (labels or {}).get('service_cluster_ip_range',
                                 LABEL_DEFAULTS['service_cluster_ip_range'])
        try:
            defaults['dns_service_ip'] = _dns_default(ipaddress.IPv4Network(svc))
        except ValueError:
            pass
    return defaults


def pod_network(network_driver, labels):
    """(label key, IPv4Network) of the pod network in validated labels, or None."""
    key = {'flannel': 'flannel_network_cidr', 'calico': 'calico_ipv4pool'}.get(network_driver)
    if key and key in labels:
        return key, ipaddress.IPv4Network(labels[key])
    return None


def _bool_label(key, value):
    if isinstance(value, str) and value.strip().lower() in ('true', 'false'):
        return value.strip().lower()
    raise invalid(f'label {key}', value, 'true or false')


def _choice(labels, key, choices):
    value = labels.setdefault(key, LABEL_DEFAULTS[key])
    if value not in choices:
        raise invalid(f'label {key}', value, f'one of {", ".join(choices)} (case-sensitive)')


def _network(labels, key, example):
    net = to_ipv4_network(f'label {key}', labels.setdefault(key, LABEL_DEFAULTS[key]), example)
    labels[key] = str(net)
    return net


def _check_flannel(labels, given, warnings):
    backend = labels.get('flannel_backend')
    if backend is not None and backend not in FLANNEL_BACKENDS:
        raise invalid('label flannel_backend', backend,
                      f'one of {", ".join(FLANNEL_BACKENDS)} (case-sensitive)')
    if 'flannel_use_vxlan' in labels:
        raw = labels.pop('flannel_use_vxlan')
        translated = 'vxlan' if _bool_label('flannel_use_vxlan', raw) == 'true' else 'udp'
        if backend is not None and backend != translated:
            raise invalid('label flannel_use_vxlan', raw,
                          f'true (vxlan) or false (udp), agreeing with flannel_backend '
                          f'{backend}: give only flannel_backend')
        labels['flannel_backend'] = translated
        warnings.append(f'label flannel_use_vxlan is the Mitaka spelling: stored as '
                        f'flannel_backend={translated}')
    labels.setdefault('flannel_backend', LABEL_DEFAULTS['flannel_backend'])
    cidr = _network(labels, 'flannel_network_cidr', '10.100.0.0/16')
    if cidr.prefixlen >= MAX_FLANNEL_SUBNETLEN:
        raise invalid('label flannel_network_cidr', labels['flannel_network_cidr'],
                      f'a network of /{MAX_FLANNEL_SUBNETLEN - 1} or larger (each node '
                      f'leases a /flannel_network_subnetlen of it, at most '
                      f'/{MAX_FLANNEL_SUBNETLEN})')
    raw = labels.setdefault('flannel_network_subnetlen',
                            LABEL_DEFAULTS['flannel_network_subnetlen'])
    what = (f'an integer greater than {cidr.prefixlen} (the prefix length of '
            f'flannel_network_cidr {cidr}) and at most {MAX_FLANNEL_SUBNETLEN}')
    if 'flannel_network_subnetlen' not in given:
        what += ('; that is the default: give flannel_network_subnetlen for this '
                 'flannel_network_cidr')
    length = int(raw) if re.fullmatch(r'\s*\d{1,3}\s*', raw) else -1
    if not cidr.prefixlen < length <= MAX_FLANNEL_SUBNETLEN:
        raise invalid('label flannel_network_subnetlen', raw, what)
    labels['flannel_network_subnetlen'] = str(length)


def _check_calico(labels):
    _network(labels, 'calico_ipv4pool', '10.100.0.0/16')
    _choice(labels, 'calico_ipv4pool_ipip', CALICO_IPIP_MODES)
    tag = labels.get('calico_tag')
    if tag is not None and not re.fullmatch(r'[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}', tag):
        raise invalid('label calico_tag', tag,
                      'a non-empty image tag, e.g. v3.13.1 (letters, digits, _ . -; '
                      'at most 128 characters, not starting with . or -)')


def _dns_default(svc):
    return str(svc.network_address + 10)


_DOMAIN = re.compile(r'(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?'
                     r'(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*')


def _check_kubernetes(labels, given, pod_key):
    low, high = SERVICE_RANGE_PREFIX
    svc = _network(labels, 'service_cluster_ip_range', '10.254.0.0/16')
    if not low <= svc.prefixlen <= high:
        raise invalid('label service_cluster_ip_range', labels['service_cluster_ip_range'],
                      f'an IPv4 network from /{low} (the largest kubernetes accepts) '
                      f'to /{high}')
    raw = labels.setdefault('dns_service_ip', _dns_default(svc))
    address = to_ipv4_address('label dns_service_ip', raw)
    reserved = (svc.network_address, svc.network_address + 1, svc.broadcast_address)
    if address not in svc or address in reserved:
        raise invalid('label dns_service_ip', raw,
                      f'an address inside service_cluster_ip_range {svc}, other than '
                      f'{svc.network_address}, {svc.network_address + 1} (the kubernetes '
                      f'API service) and {svc.broadcast_address}')
    labels['dns_service_ip'] = str(address)
    domain = labels.setdefault('dns_cluster_domain', LABEL_DEFAULTS['dns_cluster_domain'])
    if not _DOMAIN.fullmatch(domain):
        raise invalid('label dns_cluster_domain', domain,
                      'a lower-case DNS domain, e.g. cluster.local')
    if pod_key:
        pod = ipaddress.IPv4Network(labels[pod_key])
        if pod.overlaps(svc):
            # Blame the one the user gave (the service range if both or neither).
            if pod_key in given and 'service_cluster_ip_range' not in given:
                raise invalid(f'label {pod_key}', labels[pod_key],
                              f'a network not overlapping service_cluster_ip_range {svc}')
            raise invalid('label service_cluster_ip_range', labels['service_cluster_ip_range'],
                          f'a network not overlapping the pod network {pod_key} {pod}')


def _comma_list(key, raw, allowed, fold_case=False):
    if raw.strip() == '':
        return []
    items = [item.strip() for item in raw.split(',')]
    for item in items:
        if (item.lower() if fold_case else item) not in allowed:
            raise invalid(f'label {key}', raw,
                          f'a comma-separated list of {", ".join(allowed)}'
                          f'{" (any case)" if fold_case else ""}; {item!r} is not one')
    return items


def _check_mesos(labels):
    isolation = labels.get('mesos_slave_isolation')
    isolations = []
    if isolation is not None:
        isolations = _comma_list('mesos_slave_isolation', isolation, MESOS_ISOLATIONS)
        labels['mesos_slave_isolation'] = ','.join(isolations)
    providers = labels.get('mesos_slave_image_providers')
    if providers is not None:
        items = _comma_list('mesos_slave_image_providers', providers,
                            MESOS_IMAGE_PROVIDERS, fold_case=True)
        labels['mesos_slave_image_providers'] = ','.join(items)
        if 'docker' in (p.lower() for p in items) and 'docker/runtime' not in isolations:
            raise invalid('label mesos_slave_isolation', isolation,
                          'a list including docker/runtime: mesos_slave_image_providers '
                          'includes docker')
    env = labels.get('mesos_slave_executor_env_variables')
    if env is not None:
        what = 'a JSON object of environment variables, e.g. {"PATH": "/usr/bin"}'
        try:
            parsed = json.loads(env)
        except ValueError:
            raise invalid('label mesos_slave_executor_env_variables', env, what) from None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise invalid('label mesos_slave_executor_env_variables', env,
                          what + ', string values only')
    work_dir = labels.get('mesos_slave_work_dir')
    if work_dir is not None and not (work_dir.startswith('/') and work_dir.strip() == work_dir):
        raise invalid('label mesos_slave_work_dir', work_dir,
                      'an absolute path on the slaves, e.g. /tmp/mesos')
