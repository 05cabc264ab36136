"""An OpenStack API simulator (Keystone v3, Neutron, Nova, Glance, Cinder, Octavia).

It stands apart from the engine: it imports nothing of bayflow's engine and
the engine imports nothing of it. Only the CLI (``cloud-sim``, ``demo``) and
the tests start it.

``Simulator`` runs it in this process (``.start()``/``.stop()``);
``SimProcess`` runs ``python -m bayflow.cloudsim`` as a child process.
"""

from bayflow.cloudsim.process import SimProcess, SimProcessError  # noqa: F401
from bayflow.cloudsim.simulator import Simulator, clouds_config  # noqa: F401
