"""The update flow's shape: which nodes a scale touches, from JSON arguments alone."""

import json

from bayflow.flows import bay_update, specs
from bayflow.flows.tasks import base

BAY = {'uuid': '123e4567-e89b-12d3-a456-426614174000', 'name': 'b', 'node_count': 2,
       'master_count': 1, 'ca_cert': 'CERT', 'ca_key': 'ENCRYPTED'}
BAYMODEL = {'coe': 'kubernetes', 'cluster_distro': 'fedora-atomic', 'network_driver': 'flannel',
            'labels': {}, 'image_id': 'img', 'flavor_id': 'm1.small'}


def _steps(flow):
    names = []
    for node, _ in flow.iter_nodes():
        names += _steps(node) if hasattr(node, 'iter_nodes') else [node.name]
    return names


def test_scale_up_builds_only_the_added_nodes_with_the_bays_ca():
    spec = specs.update_spec(BAY, BAYMODEL, 5)
    json.dumps(spec['factory_kwargs']), json.dumps(spec['store'])  # rebuildable anywhere
    bay = spec['store']['bay']
    assert base.members(bay, 'node') == [2, 3, 4] and base.members(bay, 'master') == [0]
    assert spec['store']['ca'] == {'cert': 'CERT', 'key': 'ENCRYPTED'}
    steps = _steps(spec['factory'](**spec['factory_kwargs']))
    assert {'find-network', 'find-coe-config', 'create-ports-node', 'create-servers-node',
            'wait-servers-node', 'attach-volumes-node', 'finish-update'} <= set(steps)
    assert not any('master' in s for s in steps)  # nothing of the masters is made again


def test_scale_down_removes_the_highest_nodes_in_teardown_order():
    spec = specs.update_spec(dict(BAY, node_count=4), BAYMODEL, 1)
    flow = spec['factory'](**spec['factory_kwargs'])
    steps = _steps(flow)
    assert steps == ['remove-servers-node', 'remove-floating-ips-node', 'remove-volumes-node',
                     'remove-ports-node', 'finish-update']
    removals = [n for n, _ in flow.iter_nodes()][0]
    assert removals.indexes == [1, 2, 3]
    assert spec['store']['bay']['node_count'] == 1 and 'first_index' not in spec['store']['bay']


def test_same_count_only_records():
    flow = bay_update.update_bay_flow(old_count=2, new_count=2)
    assert _steps(flow) == ['finish-update']
