"""An OpenStack API simulator (Keystone v3, Neutron, Nova, Glance, Cinder).

It stands apart from the engine: it imports nothing of bayflow's engine and
the engine imports nothing of it. Only the CLI (``cloud-sim``, ``demo``) and
the tests start it.
"""

from bayflow.cloudsim.simulator import Simulator  # noqa: F401
