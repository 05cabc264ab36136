"""Pure validation of bay and baymodel requests: no cloud call, no database.

Magnum's rules (Mitaka API plus the Newton additions bayflow adopts), with real
checks of the network labels Magnum leaves to the nodes. Every refusal is an
``InvalidParameter(field, value, allowed)``; warnings are plain strings the
caller shows (the CLI logs them).

Modules: ``labels`` (parsing and the label matrix), ``baymodel``, ``bay``,
``patch`` (JSON-PATCH style operations).
"""

from bayflow.validation._common import (
    COES, DEFAULT_NETWORK_DRIVER, NETWORK_DRIVERS, VOLUME_DRIVERS)
from bayflow.validation.bay import validate_bay, validate_bay_update
from bayflow.validation.baymodel import validate_baymodel, validate_baymodel_patch
from bayflow.validation.labels import (
    LABEL_DEFAULTS, effective_labels, parse_labels, validate_labels)
from bayflow.validation.patch import parse_patch

__all__ = (
    'COES', 'DEFAULT_NETWORK_DRIVER', 'LABEL_DEFAULTS', 'NETWORK_DRIVERS', 'VOLUME_DRIVERS',
    'effective_labels', 'parse_labels', 'parse_patch', 'validate_bay', 'validate_bay_update',
    'validate_baymodel', 'validate_baymodel_patch', 'validate_labels',
)
