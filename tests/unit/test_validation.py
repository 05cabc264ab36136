"""bayflow.validation: baymodel, label and bay rules (pure: no cloud, no database)."""

import copy
import json

import pytest
from oslo_config import cfg

from bayflow import config, validation
from bayflow.exceptions import InvalidParameter
from bayflow.validation import labels as labels_mod
from bayflow.validation._common import shown

ALL_DRIVERS = ('flannel', 'calico', 'docker')
KUBERNETES_DEFAULTS = {
    'service_cluster_ip_range': '10.254.0.0/16',
    'dns_service_ip': '10.254.0.10',
    'dns_cluster_domain': 'cluster.local',
}
FLANNEL_DEFAULTS = {
    'flannel_network_cidr': '10.100.0.0/16',
    'flannel_network_subnetlen': '24',
    'flannel_backend': 'udp',
}
CALICO_DEFAULTS = {'calico_ipv4pool': '10.100.0.0/16', 'calico_ipv4pool_ipip': 'Off'}


@pytest.fixture
def conf():
    opts = cfg.ConfigOpts()
    config.register_opts(opts)
    yield opts
    opts.reset()


def baymodel(coe='kubernetes', **values):
    base = {'coe': coe, 'image_id': 'fedora-atomic', 'keypair_id': 'mykey',
            'external_network_id': 'public'}
    base.update(values)
    return {k: v for k, v in base.items() if v is not None}


def check_error(excinfo, field, value=None, allowed=(), hidden=False):
    """The error names the field, shows the value (unless secret) and what is allowed."""
    exc = excinfo.value
    message = str(exc)
    assert isinstance(exc, InvalidParameter)
    assert '\n' not in message
    assert exc.field == field
    assert message.startswith(f'invalid {field} ')
    if hidden:
        assert '<hidden>' in message
    elif value is not None:
        assert repr(shown(field, value)) in message, message
    for text in ([allowed] if isinstance(allowed, str) else allowed):
        assert text in message, message
    return message


def labels_of(coe, driver, labels):
    """The labels a bay runs with, and validate_labels' warnings."""
    _, warnings = validation.validate_labels(coe, driver, labels)
    return validation.effective_labels(labels, coe, driver), warnings


# -- public constants ---------------------------------------------------------------

def test_matrix_constants():
    assert validation.COES == ('kubernetes', 'swarm', 'mesos')
    assert validation.NETWORK_DRIVERS == {'kubernetes': ('flannel', 'calico'),
                                          'swarm': ('docker', 'flannel'),
                                          'mesos': ('docker',)}
    assert validation.DEFAULT_NETWORK_DRIVER == {'kubernetes': 'flannel', 'swarm': 'docker',
                                                 'mesos': 'docker'}


# -- network driver matrix ---------------------------------------------------------

@pytest.mark.parametrize('coe', validation.COES)
@pytest.mark.parametrize('driver', ALL_DRIVERS + ('cilium', 'Flannel', 'DOCKER', 'none'))
def test_network_driver_matrix(conf, coe, driver):
    values = baymodel(coe, network_driver=driver)
    if driver in validation.NETWORK_DRIVERS[coe]:
        record, _ = validation.validate_baymodel(values, conf=conf)
        assert record['network_driver'] == driver
    else:
        with pytest.raises(InvalidParameter) as excinfo:
            validation.validate_baymodel(values, conf=conf)
        check_error(excinfo, 'network_driver', driver,
                    [f'{coe} supports'] + list(validation.NETWORK_DRIVERS[coe]))


@pytest.mark.parametrize('coe', validation.COES)
@pytest.mark.parametrize('given', [None, ''])
def test_network_driver_default_filled(conf, coe, given):
    values = baymodel(coe)
    if given is not None:
        values['network_driver'] = given
    record, _ = validation.validate_baymodel(values, conf=conf)
    assert record['network_driver'] == validation.DEFAULT_NETWORK_DRIVER[coe]


@pytest.mark.parametrize('coe, allowed, driver, ok', [
    ('kubernetes', ['all'], 'calico', True),
    ('kubernetes', ['calico'], 'calico', True),
    ('kubernetes', ['calico'], 'flannel', False),
    ('kubernetes', ['calico'], None, False),          # the default is not allowed either
    ('kubernetes', ['flannel', 'all'], 'calico', True),
    ('kubernetes', ['cilium'], 'cilium', False),      # allowed but not supported
    ('swarm', ['flannel'], 'docker', False),
    ('swarm', ['flannel'], 'flannel', True),
    ('swarm', ['docker'], None, True),
    ('mesos', ['docker'], 'docker', True),
    ('mesos', ['flannel'], None, False),
    ('kubernetes', ['Flannel'], 'flannel', False),    # case-sensitive
])
def test_network_driver_allowed_option(conf, coe, allowed, driver, ok):
    conf.set_override(f'{coe}_allowed_network_drivers', allowed, group='baymodel')
    values = baymodel(coe, network_driver=driver)
    if ok:
        record, _ = validation.validate_baymodel(values, conf=conf)
        assert record['network_driver'] == (driver or validation.DEFAULT_NETWORK_DRIVER[coe])
        return
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(values, conf=conf)
    shown = driver or validation.DEFAULT_NETWORK_DRIVER[coe]
    message = check_error(excinfo, 'network_driver', shown)
    if driver in validation.NETWORK_DRIVERS[coe] or driver is None:
        assert f'{coe}_allowed_network_drivers' in message
    if driver is None:
        assert f'the {coe} default' in message


def test_network_driver_not_allowed_lists_the_allowed_ones(conf):
    conf.set_override('kubernetes_allowed_network_drivers', ['calico', 'weave'],
                      group='baymodel')
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(network_driver='flannel'), conf=conf)
    check_error(excinfo, 'network_driver', 'flannel', 'allowed: calico')


def test_default_config_object_is_used_when_conf_not_given():
    record, _ = validation.validate_baymodel(baymodel('swarm'))
    assert record['network_driver'] == 'docker'


# -- volume drivers -----------------------------------------------------------------

@pytest.mark.parametrize('coe, driver, ok', [
    ('kubernetes', 'cinder', True), ('kubernetes', 'rexray', False),
    ('swarm', 'rexray', True), ('swarm', 'cinder', False),
    ('mesos', 'rexray', True), ('mesos', 'cinder', False),
    ('kubernetes', 'Cinder', False), ('swarm', None, True),
])
def test_volume_driver_matrix(conf, coe, driver, ok):
    values = baymodel(coe, volume_driver=driver)
    if ok:
        assert validation.validate_baymodel(values, conf=conf)[0]['volume_driver'] == driver
    else:
        with pytest.raises(InvalidParameter) as excinfo:
            validation.validate_baymodel(values, conf=conf)
        check_error(excinfo, 'volume_driver', driver,
                    f'{coe} supports {validation.VOLUME_DRIVERS[coe][0]}')


# -- baymodel attributes --------------------------------------------------------------

@pytest.mark.parametrize('coe', validation.COES)
def test_minimal_baymodel_gets_every_default(conf, coe):
    record, warnings = validation.validate_baymodel(baymodel(coe), conf=conf)
    assert warnings == []
    expected = {
        'name': None, 'coe': coe, 'image_id': 'fedora-atomic', 'keypair_id': 'mykey',
        'external_network_id': 'public', 'fixed_network': None, 'fixed_subnet': None,
        'dns_nameserver': '8.8.8.8', 'flavor_id': 'm1.medium', 'master_flavor_id': None,
        'docker_volume_size': None, 'docker_storage_driver': 'devicemapper',
        'network_driver': validation.DEFAULT_NETWORK_DRIVER[coe], 'volume_driver': None,
        'apiserver_port': None, 'http_proxy': None, 'https_proxy': None, 'no_proxy': None,
        'tls_disabled': False, 'public': False, 'registry_enabled': False,
        'master_lb_enabled': False, 'floating_ip_enabled': True, 'server_type': 'vm',
    }
    labels = record.pop('labels')
    assert record == expected
    assert labels == {}                    # as given: the defaults are derived
    assert validation.effective_labels(dict(record, labels=labels)) == {
        'kubernetes': {**FLANNEL_DEFAULTS, **KUBERNETES_DEFAULTS},
        'swarm': {'swarm_strategy': 'spread', 'rexray_preempt': 'false'},
        'mesos': {'rexray_preempt': 'false'},
    }[coe]


def test_record_keys_match_the_database_columns(conf):
    from bayflow.persistence import models
    record, _ = validation.validate_baymodel(baymodel(), conf=conf)
    columns = {c.key for c in models.BayModel.__table__.columns}
    assert set(record) <= columns


@pytest.mark.parametrize('field', ['coe', 'image_id', 'keypair_id', 'external_network_id'])
def test_mandatory_attributes(conf, field):
    values = baymodel()
    del values[field]
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(values, conf=conf)
    check_error(excinfo, field, None, 'required')


STRING_FIELDS = ('name', 'image_id', 'keypair_id', 'external_network_id', 'fixed_network',
                 'flavor_id', 'master_flavor_id', 'http_proxy', 'https_proxy', 'no_proxy',
                 'volume_driver')


@pytest.mark.parametrize('field', STRING_FIELDS)
@pytest.mark.parametrize('value', ['', 'x' * 256, 42, ['a']])
def test_string_attributes_refused(conf, field, value):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(**{field: value}), conf=conf)
    check_error(excinfo, field, allowed='1 to 255 characters')


@pytest.mark.parametrize('field', [f for f in STRING_FIELDS if f != 'volume_driver'])
def test_string_attributes_255_characters_accepted(conf, field):
    record, _ = validation.validate_baymodel(baymodel(**{field: 'x' * 255}), conf=conf)
    assert record[field] == 'x' * 255


def test_proxies_and_flavors_stored(conf):
    values = baymodel(http_proxy='http://proxy:3128', https_proxy='http://proxy:3128',
                      no_proxy='localhost,127.0.0.1', flavor_id='m1.large',
                      master_flavor_id='m1.xlarge', name='k8s-model')
    record, _ = validation.validate_baymodel(values, conf=conf)
    for key in ('http_proxy', 'https_proxy', 'no_proxy', 'flavor_id', 'master_flavor_id',
                'name'):
        assert record[key] == values[key]


@pytest.mark.parametrize('value, ok', [
    ('8.8.4.4', True), ('192.168.1.1', True), ('8.8.8', False), ('8.8.8.256', False),
    ('dns.google', False), ('2001:4860:4860::8888', False), ('127.0.0.1', False),
    ('0.0.0.0', False), ('224.0.0.1', False), ('8.8.8.8/32', False), (8, False),
])
def test_dns_nameserver(conf, value, ok):
    values = baymodel(dns_nameserver=value)
    if ok:
        assert validation.validate_baymodel(values, conf=conf)[0]['dns_nameserver'] == value
    else:
        with pytest.raises(InvalidParameter) as excinfo:
            validation.validate_baymodel(values, conf=conf)
        check_error(excinfo, 'dns_nameserver', value, 'IPv4 address')


@pytest.mark.parametrize('storage, size, expected', [
    (None, None, None),
    (None, 3, 3),
    (None, '25', 25),
    ('devicemapper', 3, 3),
    (None, 2, 'an integer >= 3'),
    ('devicemapper', 1, 'an integer >= 3'),
    ('overlay', 1, 1),
    ('overlay', '1', 1),
    ('overlay', 0, 'an integer >= 1'),
    ('overlay', None, None),
    (None, -5, 'an integer >= 3'),
    (None, 'ten', 'an integer >= 3'),
    (None, 2.5, 'an integer >= 3'),
    (None, True, 'an integer >= 3'),
])
def test_docker_volume_size(conf, storage, size, expected):
    values = baymodel(docker_storage_driver=storage, docker_volume_size=size)
    if isinstance(expected, str):
        with pytest.raises(InvalidParameter) as excinfo:
            validation.validate_baymodel(values, conf=conf)
        check_error(excinfo, 'docker_volume_size', size,
                    [expected, f"docker_storage_driver {storage or 'devicemapper'}"])
    else:
        record, _ = validation.validate_baymodel(values, conf=conf)
        assert record['docker_volume_size'] == expected
        assert record['docker_storage_driver'] == storage or 'devicemapper'


@pytest.mark.parametrize('value', ['btrfs', 'Overlay', 'overlay2', ''])
def test_docker_storage_driver_refused(conf, value):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(docker_storage_driver=value), conf=conf)
    check_error(excinfo, 'docker_storage_driver', value, 'devicemapper, overlay')


@pytest.mark.parametrize('value', ['bm', 'BM', 'baremetal', ''])
def test_server_type_bare_metal_not_supported(conf, value):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(server_type=value), conf=conf)
    check_error(excinfo, 'server_type', value, ['vm', 'bare metal', 'not supported by bayflow'])


def test_server_type_vm(conf):
    assert validation.validate_baymodel(baymodel(server_type='vm'), conf=conf)[0][
        'server_type'] == 'vm'


@pytest.mark.parametrize('value, expected', [
    (1024, 1024), (65535, 65535), ('6443', 6443), (8080, 8080),
    (1023, None), (65536, None), (0, None), ('https', None), (True, None), (443.0, None),
])
def test_apiserver_port(conf, value, expected):
    values = baymodel(apiserver_port=value)
    if expected is None:
        with pytest.raises(InvalidParameter) as excinfo:
            validation.validate_baymodel(values, conf=conf)
        check_error(excinfo, 'apiserver_port', value, 'from 1024 to 65535')
    else:
        assert validation.validate_baymodel(values, conf=conf)[0]['apiserver_port'] == expected


BOOLEAN_FIELDS = ('tls_disabled', 'public', 'registry_enabled', 'master_lb_enabled',
                  'floating_ip_enabled')


@pytest.mark.parametrize('field', BOOLEAN_FIELDS)
@pytest.mark.parametrize('value, expected', [
    (True, True), (False, False), ('true', True), ('False', False), ('yes', True),
    ('0', False), ('1', True), ('off', False),
])
def test_boolean_attributes(conf, field, value, expected):
    record, _ = validation.validate_baymodel(baymodel(**{field: value}), conf=conf)
    assert record[field] is expected


@pytest.mark.parametrize('field', BOOLEAN_FIELDS)
@pytest.mark.parametrize('value', ['maybe', 2, '', []])
def test_boolean_attributes_refused(conf, field, value):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(**{field: value}), conf=conf)
    check_error(excinfo, field, value, 'true or false')


def test_unknown_attributes_are_named(conf):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(flavour='m1', insecure_registry='r:5000'),
                                     conf=conf)
    check_error(excinfo, 'attribute', 'flavour, insecure_registry',
                ['not a baymodel attribute', 'flavor_id'])


@pytest.mark.parametrize('field', ['uuid', 'cluster_distro', 'project_id', 'created_at'])
def test_read_only_attributes_refused(conf, field):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(**{field: 'x'}), conf=conf)
    check_error(excinfo, 'attribute', field, 'read-only')


def test_values_must_be_a_dict(conf):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel([('coe', 'swarm')], conf=conf)
    check_error(excinfo, 'baymodel', 'list', 'dict')


def test_fixed_subnet_needs_fixed_network(conf):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(fixed_subnet='private-subnet'), conf=conf)
    check_error(excinfo, 'fixed_subnet', 'private-subnet', 'fixed_network')
    record, _ = validation.validate_baymodel(
        baymodel(fixed_network='private', fixed_subnet='private-subnet'), conf=conf)
    assert (record['fixed_network'], record['fixed_subnet']) == ('private', 'private-subnet')


@pytest.mark.parametrize('coe', ['Kubernetes', 'k8s', 'swarm-mode', 'docker', ''])
def test_unsupported_coe(conf, coe):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(coe), conf=conf)
    check_error(excinfo, 'coe', coe, 'kubernetes, swarm, mesos')


def test_input_is_not_modified(conf):
    values = baymodel(labels={'flannel_use_vxlan': 'true'}, docker_volume_size='5')
    before = copy.deepcopy(values)
    validation.validate_baymodel(values, conf=conf)
    assert values == before


def test_master_lb_enabled_warns_no_load_balancer_yet(conf):
    record, warnings = validation.validate_baymodel(baymodel(master_lb_enabled=True),
                                                    conf=conf)
    assert record['master_lb_enabled'] is True
    assert any('load balancer' in w and 'master_lb_enabled' in w for w in warnings)


def test_host_gw_with_fixed_network_warns_about_l2(conf):
    values = baymodel(fixed_network='shared-net', labels={'flannel_backend': 'host-gw'})
    _, warnings = validation.validate_baymodel(values, conf=conf)
    assert any('host-gw' in w and 'L2' in w and 'shared-net' in w for w in warnings)
    _, warnings = validation.validate_baymodel(baymodel(labels={'flannel_backend': 'host-gw'}),
                                               conf=conf)
    assert warnings == []


@pytest.mark.parametrize('coe, driver, labels, field', [
    ('kubernetes', 'flannel', {'flannel_network_cidr': '10.0.0.0/16'}, 'flannel_network_cidr'),
    ('kubernetes', 'calico', {'calico_ipv4pool': '10.0.0.128/25'}, 'calico_ipv4pool'),
    ('kubernetes', 'flannel', {'service_cluster_ip_range': '10.0.0.0/20'},
     'service_cluster_ip_range'),
    ('swarm', 'flannel', {'flannel_network_cidr': '10.0.0.0/20'}, 'flannel_network_cidr'),
])
def test_networks_must_not_overlap_the_private_subnet(conf, coe, driver, labels, field):
    values = baymodel(coe, network_driver=driver, labels=labels)
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(values, conf=conf)
    check_error(excinfo, f'label {field}', labels[field], ['10.0.0.0/24', 'fixed_network'])
    # With an existing fixed_network bayflow cannot know its CIDR: no check.
    values['fixed_network'] = 'mine'
    record, _ = validation.validate_baymodel(values, conf=conf)
    assert record['labels'][field] == labels[field]


# -- label matrix --------------------------------------------------------------------

# (coe, driver) -> the label defaults filled in
FILLED = {
    ('kubernetes', 'flannel'): {**FLANNEL_DEFAULTS, **KUBERNETES_DEFAULTS},
    ('kubernetes', 'calico'): {**CALICO_DEFAULTS, **KUBERNETES_DEFAULTS},
    ('swarm', 'docker'): {'swarm_strategy': 'spread', 'rexray_preempt': 'false'},
    ('swarm', 'flannel'): {**FLANNEL_DEFAULTS, 'swarm_strategy': 'spread',
                           'rexray_preempt': 'false'},
    ('mesos', 'docker'): {'rexray_preempt': 'false'},
}


@pytest.mark.parametrize('coe, driver', FILLED)
def test_label_defaults_per_coe_and_driver(coe, driver):
    labels, warnings = labels_of(coe, driver, {})
    assert labels == FILLED[coe, driver]
    assert warnings == []
    assert labels_mod.label_defaults(coe, driver) == FILLED[coe, driver]


# A non-default, valid value for every known label (under the combination it applies to).
LABEL_SAMPLES = {
    'flannel_network_cidr': '10.200.0.0/16',
    'flannel_network_subnetlen': '26',
    'flannel_backend': 'vxlan',
    'calico_ipv4pool': '10.200.0.0/16',
    'calico_ipv4pool_ipip': 'Always',
    'calico_tag': 'v3.13.1',
    'service_cluster_ip_range': '172.30.0.0/16',
    'dns_service_ip': '10.254.0.53',
    'dns_cluster_domain': 'k8s.example',
    'swarm_strategy': 'binpack',
    'rexray_preempt': 'true',
    'mesos_slave_isolation': 'docker/runtime,filesystem/linux',
    'mesos_slave_image_providers': 'appc',
    'mesos_slave_executor_env_variables': '{"PATH": "/usr/bin"}',
    'mesos_slave_work_dir': '/var/lib/mesos',
}


@pytest.mark.parametrize('coe, driver', FILLED)
@pytest.mark.parametrize('key', sorted(LABEL_SAMPLES))
def test_every_label_in_every_cell(coe, driver, key):
    """A label is used where it applies, and kept with a warning everywhere else."""
    value = LABEL_SAMPLES[key]
    labels, warnings = labels_of(coe, driver, {key: value})
    assert labels[key] == value
    if key in labels_mod.applicable_labels(coe, driver):
        assert warnings == []
    else:
        assert len(warnings) == 1
        assert key in warnings[0] and 'ignored' in warnings[0] and 'kept' in warnings[0]


def test_flannel_labels_with_calico_warn_and_calico_with_flannel_warn():
    labels, warnings = labels_of('kubernetes', 'calico', {'flannel_backend': 'vxlan'})
    assert labels['flannel_backend'] == 'vxlan'
    assert 'flannel_network_cidr' not in labels
    assert warnings == ['label flannel_backend is ignored: it applies only with network_driver '
                        'flannel (kubernetes, swarm), and this baymodel is kubernetes with '
                        'network_driver calico (kept unchanged)']
    labels, warnings = labels_of('kubernetes', 'flannel', {'calico_ipv4pool': 'garbage'})
    assert labels['calico_ipv4pool'] == 'garbage'      # ignored labels are not checked
    assert 'calico_ipv4pool' in warnings[0] and 'calico' in warnings[0]


def test_unknown_labels_kept_and_warned():
    labels, warnings = labels_of('kubernetes', None, {'kube_tag': 'v1.2.0', 'zzz': ''})
    assert labels['kube_tag'] == 'v1.2.0' and labels['zzz'] == ''
    assert len(warnings) == 2
    assert all('kept unchanged' in w for w in warnings)
    assert 'kube_tag' in warnings[0] and 'zzz' in warnings[1]


def test_validate_labels_fills_default_driver_and_checks_coe():
    labels, _ = labels_of('swarm', '', {})
    assert 'flannel_backend' not in labels           # swarm default driver is docker
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('nomad', None, {})
    check_error(excinfo, 'coe', 'nomad', 'kubernetes')
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('mesos', 'flannel', {})
    check_error(excinfo, 'network_driver', 'flannel', 'mesos supports docker')


def test_validate_labels_does_not_modify_its_input():
    given = {'flannel_use_vxlan': 'true', 'flannel_network_cidr': '10.100.0.0/255.255.0.0'}
    before = dict(given)
    labels_of('kubernetes', 'flannel', given)
    assert given == before


@pytest.mark.parametrize('labels, expected', [
    ('a=1,b=2', {'a': '1', 'b': '2'}),
    (['a=1', 'b=2'], {'a': '1', 'b': '2'}),
    ({'n': 7, 'b': True, 'f': False}, {'n': '7', 'b': 'true', 'f': 'false'}),
    ({'l': ['x', 'y']}, {'l': 'x,y'}),     # a Mitaka client's repeated key
    (None, {}),
])
def test_label_input_forms(labels, expected):
    got, _ = labels_of('mesos', None, labels)
    got.pop('rexray_preempt')
    assert got == expected


@pytest.mark.parametrize('labels, field', [
    ({'a': {'nested': 1}}, 'label a'),
    ({'a': None}, 'label a'),
    ({'': 'x'}, 'label key'),
    ({3: 'x'}, 'label key'),
    (42, 'labels'),
])
def test_label_input_refused(labels, field):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('mesos', None, labels)
    check_error(excinfo, field)


# -- flannel labels ------------------------------------------------------------------

@pytest.mark.parametrize('coe', ['kubernetes', 'swarm'])
@pytest.mark.parametrize('value, expected', [
    ('10.100.0.0/16', '10.100.0.0/16'),
    ('172.16.0.0/12', '172.16.0.0/12'),
    ('10.128.0.0/10', '10.128.0.0/10'),
    ('192.168.0.0/255.255.0.0', '192.168.0.0/16'),   # netmask form, normalised
    ('10.100.0.0/28', '10.100.0.0/28'),
])
def test_flannel_network_cidr_accepted(coe, value, expected):
    labels, _ = labels_of(coe, 'flannel', {'flannel_network_cidr': value,
                                           'flannel_network_subnetlen': '29'})
    assert labels['flannel_network_cidr'] == expected


@pytest.mark.parametrize('value, allowed', [
    ('10.100.0.1/16', 'the network would be 10.100.0.0/16'),
    ('10.100.5.0/16', 'the network would be 10.100.0.0/16'),
    ('10.100.0.0', 'CIDR form'),
    ('10.100.0.0/33', 'CIDR form'),
    ('10.100/16', 'CIDR form'),
    ('fd00::/64', 'CIDR form'),
    ('flannel', 'CIDR form'),
    ('', 'CIDR form'),
    ('127.0.0.0/16', 'loopback'),
    ('169.254.0.0/16', 'link-local'),
    ('224.0.0.0/8', 'multicast'),
    ('0.0.0.0/0', 'usable'),
    ('10.100.0.0/29', '/28 or larger'),
    ('10.100.0.0/32', '/28 or larger'),
])
def test_flannel_network_cidr_refused(value, allowed):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', 'flannel', {'flannel_network_cidr': value})
    check_error(excinfo, 'label flannel_network_cidr', value, allowed)


@pytest.mark.parametrize('cidr, subnetlen, ok', [
    (None, '24', True), (None, '17', True), (None, '29', True), (None, ' 25 ', True),
    (None, '16', False), (None, '15', False), (None, '30', False), (None, '32', False),
    (None, 'x', False), (None, '', False), (None, '24.0', False), (None, '-24', False),
    ('10.100.0.0/24', '25', True), ('10.100.0.0/24', '24', False),
    ('10.0.0.0/8', '9', True), ('10.0.0.0/8', '8', False),
])
def test_flannel_network_subnetlen(cidr, subnetlen, ok):
    given = {'flannel_network_subnetlen': subnetlen}
    if cidr:
        given['flannel_network_cidr'] = cidr
    if ok:
        labels, _ = labels_of('swarm', 'flannel', given)
        assert labels['flannel_network_subnetlen'] == subnetlen.strip()
        return
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('swarm', 'flannel', given)
    prefix = (cidr or '10.100.0.0/16').split('/')[1]
    check_error(excinfo, 'label flannel_network_subnetlen', subnetlen,
                [f'greater than {prefix}', 'at most 29', 'flannel_network_cidr'])


def test_default_subnetlen_that_does_not_fit_says_so():
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', 'flannel', {'flannel_network_cidr': '10.100.0.0/24'})
    check_error(excinfo, 'label flannel_network_subnetlen', '24',
                ['greater than 24', 'the default', 'give flannel_network_subnetlen'])


@pytest.mark.parametrize('backend, ok', [
    ('udp', True), ('vxlan', True), ('host-gw', True),
    ('UDP', False), ('host_gw', False), ('ipip', False), ('', False),
])
def test_flannel_backend(backend, ok):
    if ok:
        labels, _ = labels_of('kubernetes', 'flannel', {'flannel_backend': backend})
        assert labels['flannel_backend'] == backend
        return
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', 'flannel', {'flannel_backend': backend})
    check_error(excinfo, 'label flannel_backend', backend, 'udp, vxlan, host-gw')


@pytest.mark.parametrize('coe', ['kubernetes', 'swarm'])
@pytest.mark.parametrize('use_vxlan, backend, expected', [
    ('true', None, 'vxlan'),
    ('false', None, 'udp'),
    ('True', None, 'vxlan'),
    ('FALSE', None, 'udp'),
    ('true', 'vxlan', 'vxlan'),    # both given and agreeing
    ('false', 'udp', 'udp'),
])
def test_flannel_use_vxlan_translated(coe, use_vxlan, backend, expected):
    given = {'flannel_use_vxlan': use_vxlan}
    if backend:
        given['flannel_backend'] = backend
    labels, warnings = labels_of(coe, 'flannel', given)
    assert labels['flannel_backend'] == expected
    assert 'flannel_use_vxlan' not in labels
    assert warnings == [f'label flannel_use_vxlan is the Mitaka spelling: stored as '
                        f'flannel_backend={expected}']


@pytest.mark.parametrize('use_vxlan, backend', [
    ('true', 'udp'), ('true', 'host-gw'), ('false', 'vxlan'), ('false', 'host-gw'),
])
def test_flannel_use_vxlan_conflicting_with_backend(use_vxlan, backend):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', 'flannel', {'flannel_use_vxlan': use_vxlan,
                                            'flannel_backend': backend})
    check_error(excinfo, 'label flannel_use_vxlan', use_vxlan,
                [f'flannel_backend {backend}', 'give only flannel_backend'])


@pytest.mark.parametrize('value', ['yes', '1', 'vxlan', '', 'on'])
def test_flannel_use_vxlan_only_true_or_false(value):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', 'flannel', {'flannel_use_vxlan': value})
    check_error(excinfo, 'label flannel_use_vxlan', value, 'true or false')


def test_flannel_use_vxlan_without_flannel_is_kept_as_ignored():
    labels, warnings = labels_of('swarm', 'docker', {'flannel_use_vxlan': 'maybe'})
    assert labels['flannel_use_vxlan'] == 'maybe'
    assert 'ignored' in warnings[0]


# -- calico labels -------------------------------------------------------------------

@pytest.mark.parametrize('key, value, ok, allowed', [
    ('calico_ipv4pool', '192.168.0.0/16', True, None),
    ('calico_ipv4pool', '172.20.0.0/14', True, None),
    ('calico_ipv4pool', '192.168.0.1/16', False, 'the network would be 192.168.0.0/16'),
    ('calico_ipv4pool', '192.168.0.0', False, 'CIDR form'),
    ('calico_ipv4pool', 'fd00::/48', False, 'CIDR form'),
    ('calico_ipv4pool_ipip', 'Always', True, None),
    ('calico_ipv4pool_ipip', 'CrossSubnet', True, None),
    ('calico_ipv4pool_ipip', 'Never', True, None),
    ('calico_ipv4pool_ipip', 'Off', True, None),
    ('calico_ipv4pool_ipip', 'always', False, 'Always, CrossSubnet, Never, Off'),
    ('calico_ipv4pool_ipip', 'On', False, 'Always, CrossSubnet, Never, Off'),
    ('calico_ipv4pool_ipip', '', False, 'Always, CrossSubnet, Never, Off'),
    ('calico_tag', 'v3.13.1', True, None),
    ('calico_tag', 'v2.6.7', True, None),
    ('calico_tag', 'latest', True, None),
    ('calico_tag', '', False, 'non-empty image tag'),
    ('calico_tag', 'v3 13', False, 'non-empty image tag'),
    ('calico_tag', '-v3', False, 'non-empty image tag'),
    ('calico_tag', 'v' * 129, False, 'non-empty image tag'),
])
def test_calico_labels(key, value, ok, allowed):
    if ok:
        labels, warnings = labels_of('kubernetes', 'calico', {key: value})
        assert labels[key] == value and warnings == []
        return
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', 'calico', {key: value})
    check_error(excinfo, f'label {key}', allowed=allowed)


def test_calico_tag_not_filled():
    labels, _ = labels_of('kubernetes', 'calico', {})
    assert 'calico_tag' not in labels


# -- kubernetes labels ----------------------------------------------------------------

@pytest.mark.parametrize('given, expected', [
    ({'service_cluster_ip_range': '172.16.0.0/12'},
     {'service_cluster_ip_range': '172.16.0.0/12', 'dns_service_ip': '172.16.0.10'}),
    ({'service_cluster_ip_range': '172.30.0.0/16', 'dns_service_ip': '172.30.0.53'},
     {'service_cluster_ip_range': '172.30.0.0/16', 'dns_service_ip': '172.30.0.53'}),
    ({'service_cluster_ip_range': '10.254.0.0/28'},
     {'service_cluster_ip_range': '10.254.0.0/28', 'dns_service_ip': '10.254.0.10'}),
    ({'dns_service_ip': '10.254.100.100'}, {'dns_service_ip': '10.254.100.100'}),
    ({'dns_cluster_domain': 'cluster.example.org'},
     {'dns_cluster_domain': 'cluster.example.org'}),
])
def test_kubernetes_labels_accepted(given, expected):
    labels, warnings = labels_of('kubernetes', 'flannel', given)
    assert warnings == []
    for key, value in expected.items():
        assert labels[key] == value


@pytest.mark.parametrize('given, field, allowed', [
    ({'service_cluster_ip_range': '10.254.0.1/16'}, 'service_cluster_ip_range',
     'the network would be 10.254.0.0/16'),
    ({'service_cluster_ip_range': '10.0.0.0/8'}, 'service_cluster_ip_range', 'from /12'),
    ({'service_cluster_ip_range': '10.254.0.0/29'}, 'service_cluster_ip_range', 'to /28'),
    ({'service_cluster_ip_range': '172.16.0.0/12', 'dns_service_ip': '10.254.0.10'},
     'dns_service_ip', 'inside service_cluster_ip_range 172.16.0.0/12'),
    ({'dns_service_ip': '10.254.0.1'}, 'dns_service_ip', 'kubernetes API service'),
    ({'dns_service_ip': '10.254.0.0'}, 'dns_service_ip', 'other than 10.254.0.0'),
    ({'dns_service_ip': '10.254.255.255'}, 'dns_service_ip', '10.254.255.255'),
    ({'dns_service_ip': 'kube-dns'}, 'dns_service_ip', 'IPv4 address'),
    ({'dns_cluster_domain': 'Cluster.Local'}, 'dns_cluster_domain', 'lower-case DNS domain'),
    ({'dns_cluster_domain': 'cluster..local'}, 'dns_cluster_domain', 'lower-case DNS domain'),
    ({'dns_cluster_domain': '-cluster.local'}, 'dns_cluster_domain', 'lower-case DNS domain'),
    ({'dns_cluster_domain': ''}, 'dns_cluster_domain', 'lower-case DNS domain'),
    ({'dns_cluster_domain': 'a' * 64}, 'dns_cluster_domain', 'lower-case DNS domain'),
])
def test_kubernetes_labels_refused(given, field, allowed):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', 'flannel', given)
    check_error(excinfo, f'label {field}', given[field], allowed)


@pytest.mark.parametrize('driver, given, blamed', [
    ('flannel', {'flannel_network_cidr': '10.254.0.0/20', 'flannel_network_subnetlen': '26'},
     'flannel_network_cidr'),
    ('flannel', {'service_cluster_ip_range': '10.100.128.0/17'}, 'service_cluster_ip_range'),
    # kubernetes' own default service range contains Magnum's flannel default
    ('flannel', {'service_cluster_ip_range': '10.96.0.0/12'}, 'service_cluster_ip_range'),
    ('calico', {'calico_ipv4pool': '10.0.0.0/8'}, 'calico_ipv4pool'),
    ('calico', {'calico_ipv4pool': '10.254.0.0/24',
                'service_cluster_ip_range': '10.254.0.0/16'}, 'service_cluster_ip_range'),
])
def test_pod_and_service_networks_must_not_overlap(driver, given, blamed):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', driver, given)
    check_error(excinfo, f'label {blamed}', given[blamed], 'not overlapping')


# -- swarm, rexray and mesos labels ---------------------------------------------------

@pytest.mark.parametrize('driver', ['docker', 'flannel'])
@pytest.mark.parametrize('value, ok', [
    ('spread', True), ('binpack', True), ('random', True),
    ('Spread', False), ('round-robin', False), ('', False),
])
def test_swarm_strategy(driver, value, ok):
    if ok:
        assert labels_of('swarm', driver, {'swarm_strategy': value})[0][
            'swarm_strategy'] == value
        return
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('swarm', driver, {'swarm_strategy': value})
    check_error(excinfo, 'label swarm_strategy', value, 'spread, binpack, random')


@pytest.mark.parametrize('coe', ['swarm', 'mesos'])
@pytest.mark.parametrize('value, expected', [
    ('true', 'true'), ('false', 'false'), ('True', 'true'), ('FALSE', 'false'),
    ('yes', None), ('1', None), ('', None),
])
def test_rexray_preempt(coe, value, expected):
    if expected:
        assert labels_of(coe, 'docker', {'rexray_preempt': value})[0][
            'rexray_preempt'] == expected
        return
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of(coe, 'docker', {'rexray_preempt': value})
    check_error(excinfo, 'label rexray_preempt', value, 'true or false')


@pytest.mark.parametrize('value, expected', [
    ('docker/runtime', 'docker/runtime'),
    ('filesystem/linux, docker/runtime', 'filesystem/linux,docker/runtime'),
    (','.join(labels_mod.MESOS_ISOLATIONS), ','.join(labels_mod.MESOS_ISOLATIONS)),
    ('', ''),
])
def test_mesos_slave_isolation_accepted(value, expected):
    assert labels_of('mesos', None, {'mesos_slave_isolation': value})[0][
        'mesos_slave_isolation'] == expected


@pytest.mark.parametrize('value, bad', [
    ('docker/runtime,gpu/nvidia', 'gpu/nvidia'),
    ('Docker/Runtime', 'Docker/Runtime'),
    ('posix/cpu,,posix/mem', ''),
    ('cgroups/cpu;cgroups/mem', 'cgroups/cpu;cgroups/mem'),
])
def test_mesos_slave_isolation_refused(value, bad):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('mesos', None, {'mesos_slave_isolation': value})
    check_error(excinfo, 'label mesos_slave_isolation', value,
                ['comma-separated list', 'docker/runtime', f'{bad!r} is not one'])


@pytest.mark.parametrize('providers, isolation, ok', [
    ('docker', 'docker/runtime', True),
    ('DOCKER', 'filesystem/linux,docker/runtime', True),
    ('appc', None, True),
    ('APPC,docker', 'docker/runtime', True),
    ('docker', None, False),
    ('docker', 'filesystem/linux', False),
    ('Docker,appc', '', False),
])
def test_mesos_image_providers_docker_needs_docker_runtime(providers, isolation, ok):
    given = {'mesos_slave_image_providers': providers}
    if isolation is not None:
        given['mesos_slave_isolation'] = isolation
    if ok:
        labels, _ = labels_of('mesos', 'docker', given)
        assert labels['mesos_slave_image_providers'] == providers
        return
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('mesos', 'docker', given)
    check_error(excinfo, 'label mesos_slave_isolation', isolation,
                ['docker/runtime', 'mesos_slave_image_providers includes docker'])


@pytest.mark.parametrize('value', ['rkt', 'docker,oci', 'docker appc'])
def test_mesos_image_providers_refused(value):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('mesos', None, {'mesos_slave_image_providers': value,
                                  'mesos_slave_isolation': 'docker/runtime'})
    check_error(excinfo, 'label mesos_slave_image_providers', value, 'docker, appc (any case)')


@pytest.mark.parametrize('value, ok', [
    ('{}', True),
    ('{"PATH": "/usr/bin", "LD_LIBRARY_PATH": "/lib,/usr/lib"}', True),
    ('{"PATH": /usr/bin}', False),
    ('["PATH=/usr/bin"]', False),
    ('"PATH"', False),
    ('{"N": 1}', False),
    ('', False),
])
def test_mesos_executor_env_variables(value, ok):
    key = 'mesos_slave_executor_env_variables'
    if ok:
        assert labels_of('mesos', None, {key: value})[0][key] == value
        return
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('mesos', None, {key: value})
    check_error(excinfo, f'label {key}', value, 'a JSON object')


@pytest.mark.parametrize('value, ok', [
    ('/tmp/mesos', True), ('/var/lib/mesos', True),
    ('tmp/mesos', False), ('', False), (' /tmp', False),
])
def test_mesos_work_dir(value, ok):
    key = 'mesos_slave_work_dir'
    if ok:
        assert labels_of('mesos', None, {key: value})[0][key] == value
        return
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('mesos', None, {key: value})
    check_error(excinfo, f'label {key}', value, 'absolute path')


# -- labels as the user gave them -------------------------------------------------------

def test_labels_are_stored_as_given_and_the_effective_ones_derived(conf):
    given = {'flannel_network_subnetlen': ' 26 ', 'custom': '1'}
    record, _ = validation.validate_baymodel(baymodel(labels=given), conf=conf)
    assert record['labels'] == given
    effective = validation.effective_labels(record)
    assert effective == {**FLANNEL_DEFAULTS, **KUBERNETES_DEFAULTS, 'custom': '1',
                         'flannel_network_subnetlen': '26'}


def test_a_later_default_reaches_baymodels_that_never_set_the_label(conf, monkeypatch):
    unset, _ = validation.validate_baymodel(baymodel(), conf=conf)
    chosen, _ = validation.validate_baymodel(baymodel(labels={'flannel_backend': 'udp'}),
                                             conf=conf)
    monkeypatch.setitem(labels_mod.LABEL_DEFAULTS, 'flannel_backend', 'vxlan')
    assert validation.effective_labels(unset)['flannel_backend'] == 'vxlan'
    assert validation.effective_labels(chosen)['flannel_backend'] == 'udp'


def test_mitaka_flannel_use_vxlan_is_stored_as_flannel_backend_in_its_place():
    given, warnings = validation.validate_labels(
        'kubernetes', 'flannel', {'a': '1', 'flannel_use_vxlan': 'true', 'z': '2'})
    assert list(given.items()) == [('a', '1'), ('flannel_backend', 'vxlan'), ('z', '2')]
    assert any('Mitaka spelling' in w for w in warnings)


def test_given_values_are_still_checked():
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_labels('kubernetes', 'flannel',
                                   {'flannel_network_cidr': '10.0.0.0/33'})
    check_error(excinfo, 'label flannel_network_cidr', '10.0.0.0/33')


def test_effective_labels_of_a_baymodel_or_of_labels():
    model = {'coe': 'swarm', 'network_driver': None, 'labels': {'rexray_preempt': 'TRUE'}}
    assert validation.effective_labels(model) == {
        'rexray_preempt': 'true', 'swarm_strategy': 'spread'}
    assert validation.effective_labels(model, network_driver='flannel') == {
        **FLANNEL_DEFAULTS, 'rexray_preempt': 'true', 'swarm_strategy': 'spread'}
    # A label may be called "coe": given labels and a coe, it stays a label.
    assert validation.effective_labels({'coe': 'x'}, 'mesos', None) == {
        'coe': 'x', 'rexray_preempt': 'false'}
    with pytest.raises(InvalidParameter):
        validation.effective_labels({'rexray_preempt': 'maybe'}, 'swarm', None)


# -- parse_labels ------------------------------------------------------------------

@pytest.mark.parametrize('items, expected', [
    (['a=1,b=2', 'c=3', 'a=4'], {'a': '1,4', 'b': '2', 'c': '3'}),
    (['a=1;b=2'], {'a': '1', 'b': '2'}),
    (['a=1;b=2,c=3'], {'a': '1', 'b': '2', 'c': '3'}),
    ('a=1', {'a': '1'}),
    ([], {}),
    (None, {}),
    (['a='], {'a': ''}),
    (['a=x=y'], {'a': 'x=y'}),
    ([' a = 1 , b=2 '], {'a': '1', 'b': '2'}),
    (['a=1,'], {'a': '1'}),
    (['a=1,,b=2'], {'a': '1', 'b': '2'}),
    (['a=1', 'a=1'], {'a': '1,1'}),
    # a bare part continues the previous value, with the separator it had
    (['mesos_slave_isolation=docker/runtime,filesystem/linux'],
     {'mesos_slave_isolation': 'docker/runtime,filesystem/linux'}),
    (['no_proxy=a;b,c=1'], {'no_proxy': 'a;b', 'c': '1'}),
    (['args=--a=1,--b=2'], {'args': '--a=1,--b=2'}),
    # JSON values, commas / semicolons / '=' inside
    (['key={"json": "with,commas"}'], {'key': '{"json": "with,commas"}'}),
    (['mesos_slave_executor_env_variables={"A": "1", "B": "x=y;z"},rexray_preempt=true'],
     {'mesos_slave_executor_env_variables': '{"A": "1", "B": "x=y;z"}',
      'rexray_preempt': 'true'}),
    (['a=[1, 2];b=2'], {'a': '[1, 2]', 'b': '2'}),
    # not JSON after all: plain splitting, the value checker reports it
    (['key={"broken": 1,x=2'], {'key': '{"broken": 1', 'x': '2'}),
    (['key={"a": 1} tail,b=2'], {'key': '{"a": 1} tail', 'b': '2'}),
])
def test_parse_labels(items, expected):
    assert validation.parse_labels(items) == expected


@pytest.mark.parametrize('items, token', [
    (['novalue'], 'novalue'),
    (['a=1', 'novalue'], 'novalue'),      # continuation does not cross --labels values
    (['=1'], '=1'),
    (['1a=1'], '1a=1'),
    ([',x,a=1'], 'x'),
    ([3], 3),
])
def test_parse_labels_refused(items, token):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.parse_labels(items)
    check_error(excinfo, 'labels', token, 'KEY=VALUE')


def test_parsed_json_label_validates():
    labels = validation.parse_labels(
        ['mesos_slave_executor_env_variables={"PATH": "/bin,/usr/bin"}'])
    checked, _ = labels_of('mesos', None, labels)
    assert json.loads(checked['mesos_slave_executor_env_variables']) == {
        'PATH': '/bin,/usr/bin'}


# -- parse_patch -------------------------------------------------------------------

@pytest.mark.parametrize('op, attributes, expected', [
    ('replace', ['name=new', 'docker_volume_size=5'],
     [('replace', '/name', 'new'), ('replace', '/docker_volume_size', '5')]),
    ('add', ['labels=a=1,b=2'], [('add', '/labels', {'a': '1', 'b': '2'})]),
    ('replace', ['labels='], [('replace', '/labels', {})]),
    ('add', ['labels/flannel_backend=vxlan'], [('add', '/labels/flannel_backend', 'vxlan')]),
    ('remove', ['name', '/http_proxy'], [('remove', '/name', None),
                                        ('remove', '/http_proxy', None)]),
    ('replace', 'node_count=3', [('replace', '/node_count', '3')]),
    ('replace', ['no_proxy=a=b'], [('replace', '/no_proxy', 'a=b')]),
])
def test_parse_patch(op, attributes, expected):
    assert validation.parse_patch(op, attributes) == expected


@pytest.mark.parametrize('op, attributes, field, value', [
    ('move', ['name=x'], 'op', 'move'),
    ('replace', ['name'], 'attribute', 'name'),
    ('replace', ['=x'], 'attribute', '=x'),
    ('remove', ['name=x'], 'attribute', 'name=x'),
])
def test_parse_patch_refused(op, attributes, field, value):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.parse_patch(op, attributes)
    check_error(excinfo, field, value)


# -- baymodel patch ----------------------------------------------------------------

@pytest.fixture
def stored(conf):
    record, _ = validation.validate_baymodel(baymodel(name='k8s'), conf=conf)
    record.update(id=7, uuid='0b5d6ad6-0000-4000-8000-000000000001', project_id='p',
                  user_id='u', cluster_distro='fedora-atomic', created_at='t0',
                  updated_at=None)
    return record


def patch(stored, conf, *ops):
    return validation.validate_baymodel_patch(stored, list(ops), conf=conf)


def test_patch_replace_keeps_system_fields(stored, conf):
    record, warnings = patch(stored, conf, ('replace', '/name', 'renamed'),
                             {'op': 'replace', 'path': '/docker_volume_size', 'value': '10'})
    assert warnings == []
    assert record['name'] == 'renamed' and record['docker_volume_size'] == 10
    for key in ('id', 'uuid', 'project_id', 'user_id', 'cluster_distro', 'created_at'):
        assert record[key] == stored[key]
    changed = {k for k in record if record[k] != stored.get(k)}
    assert changed == {'name', 'docker_volume_size'}


def test_patch_does_not_modify_stored(stored, conf):
    before = copy.deepcopy(stored)
    patch(stored, conf, ('replace', '/network_driver', 'calico'),
          ('add', '/labels/x', 'y'))
    assert stored == before


def test_patch_without_change_is_identity(stored, conf):
    record, _ = patch(stored, conf, ('replace', '/name', 'k8s'))
    assert record == stored


@pytest.mark.parametrize('attribute', ['image_id', 'keypair_id', 'external_network_id', 'coe',
                                       'tls_disabled', 'public', 'registry_enabled',
                                       'server_type', 'network_driver'])
def test_patch_cannot_remove(stored, conf, attribute):
    with pytest.raises(InvalidParameter) as excinfo:
        patch(stored, conf, ('remove', f'/{attribute}', None))
    check_error(excinfo, 'operation', f'remove /{attribute}',
                [f'{attribute} cannot be removed', 'only replaced', 'removable:'])


@pytest.mark.parametrize('attribute, value, default', [
    ('name', 'x', None), ('flavor_id', 'm1.large', 'm1.medium'),
    ('dns_nameserver', '1.1.1.1', '8.8.8.8'), ('docker_volume_size', 5, None),
    ('docker_storage_driver', 'overlay', 'devicemapper'), ('http_proxy', 'http://p', None),
    ('floating_ip_enabled', False, True), ('master_lb_enabled', True, False),
    ('apiserver_port', 6443, None), ('volume_driver', 'cinder', None),
])
def test_patch_remove_resets_to_default(stored, conf, attribute, value, default):
    start, _ = patch(stored, conf, ('replace', f'/{attribute}', value))
    assert start[attribute] == value
    record, _ = patch(start, conf, ('remove', f'/{attribute}', None))
    assert record[attribute] == default


@pytest.mark.parametrize('path', ['/uuid', '/id', '/cluster_distro', '/project_id',
                                  '/created_at'])
def test_patch_read_only(stored, conf, path):
    with pytest.raises(InvalidParameter) as excinfo:
        patch(stored, conf, ('replace', path, 'x'))
    check_error(excinfo, 'operation', f'replace {path}', 'read-only')


@pytest.mark.parametrize('op, message', [
    (('replace', '/flavour', 'x'), 'not a baymodel attribute'),
    (('replace', '/name/first', 'x'), 'only labels has sub-paths'),
    (('move', '/name', 'x'), 'op must be add, replace, remove'),
    (('replace', '/', 'x'), 'a path naming an attribute'),
    (('replace',), '(op, path, value)'),
    (('remove', '/labels/not_there', None), 'label not_there is not set'),
])
def test_patch_bad_operations(stored, conf, op, message):
    with pytest.raises(InvalidParameter) as excinfo:
        patch(stored, conf, op)
    check_error(excinfo, 'operation', allowed=message)


def test_patch_revalidates_the_result(stored, conf):
    with pytest.raises(InvalidParameter) as excinfo:
        patch(stored, conf, ('replace', '/coe', 'mesos'))      # flannel is not for mesos
    check_error(excinfo, 'network_driver', 'flannel', 'mesos supports docker')
    with pytest.raises(InvalidParameter) as excinfo:
        patch(stored, conf, ('replace', '/docker_volume_size', '2'))
    check_error(excinfo, 'docker_volume_size', '2', 'devicemapper')
    with pytest.raises(InvalidParameter) as excinfo:
        patch(stored, conf, ('replace', '/image_id', None))
    check_error(excinfo, 'image_id', None, 'required')
    conf.set_override('kubernetes_allowed_network_drivers', ['flannel'], group='baymodel')
    with pytest.raises(InvalidParameter) as excinfo:
        patch(stored, conf, ('replace', '/network_driver', 'calico'))
    check_error(excinfo, 'network_driver', 'calico', 'kubernetes_allowed_network_drivers')


def test_patch_single_labels(stored, conf):
    record, warnings = patch(stored, conf, ('add', '/labels/flannel_backend', 'vxlan'),
                             ('add', '/labels/kube_tag', 'v1.2'))
    assert record['labels']['flannel_backend'] == 'vxlan'
    assert record['labels']['kube_tag'] == 'v1.2'
    assert len(warnings) == 1 and 'kube_tag' in warnings[0]
    record, _ = patch(record, conf, ('remove', '/labels/flannel_backend', None))
    assert record['labels'] == {'kube_tag': 'v1.2'}
    assert validation.effective_labels(record)['flannel_backend'] == 'udp'  # the default
    with pytest.raises(InvalidParameter) as excinfo:
        patch(stored, conf, ('replace', '/labels/flannel_backend', 'gre'))
    check_error(excinfo, 'label flannel_backend', 'gre')


def test_patch_whole_labels(stored, conf):
    record, _ = patch(stored, conf, ('replace', '/labels', 'flannel_backend=host-gw'))
    assert record['labels'] == {'flannel_backend': 'host-gw'}
    assert validation.effective_labels(record) == {**FLANNEL_DEFAULTS, **KUBERNETES_DEFAULTS,
                                                   'flannel_backend': 'host-gw'}
    record, _ = patch(record, conf, ('remove', '/labels', None))
    assert record['labels'] == {}
    assert validation.effective_labels(record) == {**FLANNEL_DEFAULTS, **KUBERNETES_DEFAULTS}


def test_patch_driver_change_keeps_the_users_labels_and_derives_defaults(stored, conf):
    start, _ = patch(stored, conf, ('add', '/labels/flannel_network_cidr', '10.200.0.0/16'))
    record, warnings = patch(start, conf, ('replace', '/network_driver', 'calico'))
    assert record['network_driver'] == 'calico'
    assert record['labels'] == {'flannel_network_cidr': '10.200.0.0/16'}
    assert validation.effective_labels(record) == {
        **CALICO_DEFAULTS, **KUBERNETES_DEFAULTS, 'flannel_network_cidr': '10.200.0.0/16'}
    assert len(warnings) == 1 and 'flannel_network_cidr' in warnings[0]
    back, warnings = patch(record, conf, ('replace', '/network_driver', 'flannel'))
    assert back['labels'] == start['labels'] and warnings == []


def test_patch_coe_change_derives_the_new_coes_defaults(stored, conf):
    record, warnings = patch(stored, conf, ('replace', '/coe', 'swarm'))
    assert record['labels'] == {} and warnings == []
    assert validation.effective_labels(record) == FILLED['swarm', 'flannel']


def test_patch_service_range_rederives_dns_service_ip(stored, conf):
    record, _ = patch(stored, conf, ('replace', '/labels/service_cluster_ip_range',
                                     '172.30.0.0/16'))
    assert validation.effective_labels(record)['dns_service_ip'] == '172.30.0.10'
    chosen, _ = patch(stored, conf, ('replace', '/labels/dns_service_ip', '10.254.0.53'))
    with pytest.raises(InvalidParameter) as excinfo:
        patch(chosen, conf, ('replace', '/labels/service_cluster_ip_range', '172.30.0.0/16'))
    check_error(excinfo, 'label dns_service_ip', '10.254.0.53', '172.30.0.0/16')


def test_patch_refuses_non_dict_stored(conf):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel_patch(None, [], conf=conf)
    check_error(excinfo, 'baymodel', 'NoneType')


# -- bays ------------------------------------------------------------------------

def bay(**values):
    base = {'baymodel_id': 'k8s-model'}
    base.update(values)
    return {k: v for k, v in base.items() if v is not None}


def test_bay_defaults(conf):
    assert validation.validate_bay(bay(), conf=conf) == {
        'name': None, 'baymodel_id': 'k8s-model', 'node_count': 1, 'master_count': 1,
        'create_timeout': 60, 'discovery_url': None}


def test_bay_create_timeout_default_from_config(conf):
    conf.set_override('create_timeout', 15, group='bay')
    assert validation.validate_bay(bay(), conf=conf)['create_timeout'] == 15


@pytest.mark.parametrize('name, ok', [
    ('a', True), ('k8s-bay_1.prod', True), ('A' + 'x' * 241, True),
    ('A' + 'x' * 242, False), ('', False), ('1bay', False), ('-bay', False),
    ('my bay', False), ('bay/1', False), ('bäy', False), (5, False),
])
def test_bay_name(conf, name, ok):
    if ok:
        assert validation.validate_bay(bay(name=name), conf=conf)['name'] == name
        return
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_bay(bay(name=name), conf=conf)
    check_error(excinfo, 'name', name, ['1 to 242 characters', 'a letter'])


@pytest.mark.parametrize('field, value, expected', [
    ('node_count', 3, 3), ('node_count', '10', 10), ('node_count', 1, 1),
    ('node_count', 0, 'an integer >= 1'), ('node_count', -1, 'an integer >= 1'),
    ('node_count', 'two', 'an integer >= 1'), ('node_count', 1.5, 'an integer >= 1'),
    ('master_count', 1, 1), ('master_count', '1', 1),
    ('master_count', 0, 'an integer >= 1'),
    ('master_count', 'x', 'an integer >= 1'),
    ('create_timeout', 0, 0), ('create_timeout', '120', 120),
    ('create_timeout', -1, 'an integer >= 0 (minutes; 0 = no timeout)'),
    ('create_timeout', 'soon', 'an integer >= 0'),
])
def test_bay_counts_and_timeout(conf, field, value, expected):
    if isinstance(expected, str):
        with pytest.raises(InvalidParameter) as excinfo:
            validation.validate_bay(bay(**{field: value}), conf=conf)
        check_error(excinfo, field, value, expected)
    else:
        assert validation.validate_bay(bay(**{field: value}), conf=conf)[field] == expected


@pytest.mark.parametrize('count', [2, 3, '5'])
def test_bay_more_than_one_master_needs_a_load_balancer(conf, count):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_bay(bay(master_count=count), conf=conf)
    check_error(excinfo, 'master_count', count,
                ['more than one master needs a load balancer', 'bayflow does not build yet'])


def test_bay_create_timeout_alias(conf):
    assert validation.validate_bay(bay(bay_create_timeout=5), conf=conf)['create_timeout'] == 5
    assert validation.validate_bay(bay(bay_create_timeout=5, create_timeout=5),
                                   conf=conf)['create_timeout'] == 5
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_bay(bay(bay_create_timeout=5, create_timeout=6), conf=conf)
    check_error(excinfo, 'bay_create_timeout', 5, 'create_timeout')


@pytest.mark.parametrize('url, ok', [
    ('https://discovery.etcd.io/abc', True), ('http://10.0.0.5:2379/v2/keys/x', True),
    ('HTTPS://discovery.etcd.io/abc', True),
    ('etcd://10.0.0.5:2379', False), ('discovery.etcd.io/abc', False), ('https://', False),
    ('https://host:99999/', False), ('https://a b/', False), ('', False), (5, False),
])
def test_bay_discovery_url(conf, url, ok):
    if ok:
        assert validation.validate_bay(bay(discovery_url=url), conf=conf)['discovery_url'] == url
        return
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_bay(bay(discovery_url=url), conf=conf)
    check_error(excinfo, 'discovery_url', url, 'http:// or https:// URL')


def test_bay_baymodel_required(conf):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_bay({}, conf=conf)
    check_error(excinfo, 'baymodel_id', None, 'required')


@pytest.mark.parametrize('values, field, message', [
    (bay(nodes=3), 'attribute', 'not a bay attribute'),
    (bay(status='CREATE_COMPLETE'), 'attribute', 'read-only'),
    (bay(api_address='https://x'), 'attribute', 'read-only'),
])
def test_bay_unknown_and_read_only(conf, values, field, message):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_bay(values, conf=conf)
    check_error(excinfo, field, allowed=message)


# -- bay update ---------------------------------------------------------------------

STORED_BAY = {'uuid': 'b-1', 'name': 'k8s', 'baymodel_id': 'm-1', 'node_count': 2,
              'master_count': 1, 'status': 'CREATE_COMPLETE', 'version': 3}


@pytest.mark.parametrize('ops, expected', [
    ([('replace', '/node_count', 5)], 5),
    ([('replace', '/node_count', '3')], 3),
    ([('add', 'node_count', 4)], 4),
    ([('remove', '/node_count', None)], 1),
    ([{'op': 'replace', 'path': '/node_count', 'value': 7}], 7),
    (validation.parse_patch('replace', ['node_count=6']), 6),
    ([('replace', '/node_count', 5), ('replace', '/node_count', 2)], 2),
    ((('replace', '/node_count', 8),), 8),                  # a tuple of ops
    (('replace', '/node_count', 9), 9),                     # one op on its own
    ({'op': 'remove', 'path': '/node_count'}, 1),
    ((op for op in [('replace', '/node_count', 4)]), 4),    # any iterable
])
def test_bay_update_node_count(ops, expected):
    before = dict(STORED_BAY)
    result = validation.validate_bay_update(STORED_BAY, ops)
    assert result == {**STORED_BAY, 'node_count': expected}
    assert STORED_BAY == before


@pytest.mark.parametrize('op, field, message', [
    (('replace', '/node_count', 0), 'node_count', 'an integer >= 1'),
    (('replace', '/node_count', None), 'node_count', 'an integer >= 1'),
    (('replace', '/node_count', 'many'), 'node_count', 'an integer >= 1'),
    (('replace', '/master_count', 3), 'operation',
     'cannot change bay property master_count: only node_count may change'),
    (('replace', '/name', 'x'), 'operation', 'cannot change bay property name'),
    (('replace', '/baymodel_id', 'm-2'), 'operation', 'cannot change bay property baymodel_id'),
    (('remove', '/baymodel_id', None), 'operation', 'baymodel_id cannot be removed'),
    (('replace', '/api_address', 'x'), 'operation', 'cannot change bay property api_address'),
    (('replace', '/stack_id', 'x'), 'operation', 'cannot change bay property stack_id'),
    (('replace', '/node_count/x', 3), 'operation', 'only node_count may change'),
    (('copy', '/node_count', 3), 'operation', 'op must be add, replace, remove'),
])
def test_bay_update_refused(op, field, message):
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_bay_update(STORED_BAY, [op])
    check_error(excinfo, field, allowed=message)


# -- secrets and message shape ----------------------------------------------------------

@pytest.mark.parametrize('labels, field', [
    ({'registry_password': {'x': 1}}, 'label registry_password'),
    ({'os_token': ['a', {}]}, 'label os_token'),
    ({'client_secret': None}, 'label client_secret'),
])
def test_secret_label_values_never_echoed(labels, field):
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', None, labels)
    message = check_error(excinfo, field, hidden=True)
    assert "'x'" not in message and 'a' not in message.split(':')[0].split()[-1]


def test_values_mentioning_secrets_are_not_echoed():
    value = '{"DB_PASSWORD": s3cr3t}'
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('mesos', None, {'mesos_slave_executor_env_variables': value})
    message = check_error(excinfo, 'label mesos_slave_executor_env_variables', hidden=True)
    assert 's3cr3t' not in message


def test_proxy_password_masked(conf):
    value = 'http://user:hunter2@proxy.example.com:3128/' + 'p' * 300
    with pytest.raises(InvalidParameter) as excinfo:
        validation.validate_baymodel(baymodel(http_proxy=value), conf=conf)
    message = check_error(excinfo, 'http_proxy', allowed='1 to 255 characters')
    assert 'hunter2' not in message and 'user:***@proxy' in message
    assert len(message) < 200 and '(339 characters)' in message   # 343, masked


def test_error_message_shape():
    with pytest.raises(InvalidParameter) as excinfo:
        labels_of('kubernetes', 'flannel', {'flannel_backend': 'gre'})
    assert str(excinfo.value) == ("invalid label flannel_backend 'gre': one of udp, vxlan, "
                                  "host-gw (case-sensitive)")
    assert (excinfo.value.field, excinfo.value.value) == ('label flannel_backend', 'gre')
