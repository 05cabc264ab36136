"""Flows are rebuilt for every run: a step's argument mapping is worked out
once per class and arguments (flows.tasks.base.BayTask), the same as TaskFlow's."""

import pytest

from bayflow.flows import bay_create, bay_delete, bay_update
from bayflow.flows.tasks import base

FACTORIES = {'create': bay_create.create_bay_flow, 'delete': bay_delete.delete_bay_flow,
             'scale up': lambda: bay_update.update_bay_flow(2, 5),
             'scale down': lambda: bay_update.update_bay_flow(5, 2)}


def _mappings(flow):
    out = {}
    for atom, _meta in flow.iter_nodes():
        if hasattr(atom, 'iter_nodes'):
            out.update(_mappings(atom))
        else:
            out[atom.name] = (dict(atom.rebind), set(atom.requires), set(atom.optional),
                              dict(atom.revert_rebind), set(atom.revert_optional))
    return out


@pytest.mark.parametrize('operation', FACTORIES)
def test_a_rebuilt_flow_maps_its_steps_arguments_as_taskflow_did(operation, monkeypatch):
    monkeypatch.setattr(base.BayTask, '_arg_mappings', {})
    worked_out = _mappings(FACTORIES[operation]())       # by TaskFlow itself
    assert base.BayTask._arg_mappings                     # and kept
    again = FACTORIES[operation]()
    assert _mappings(again) == worked_out
    step = next(a for a, _ in again.iter_nodes() if isinstance(a, base.BayTask))
    step.rebind['extra'] = 'changed'                      # one step's copy is its own
    assert 'extra' not in _mappings(FACTORIES[operation]())[step.name][0]
