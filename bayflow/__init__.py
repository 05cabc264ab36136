"""bayflow: container clusters on OpenStack, built by persisted TaskFlow graphs."""

import os as _os

__version__ = "0.1.0"


def quiet_imports():
    """For a process's entry point (the CLI, a daemon's flow worker), before
    its imports: where eventlet is installed (it comes with oslo.messaging on
    OpenStack hosts), taskflow's oslo.utils imports it and eventlet warns on
    import, nothing a bayflow user can act on, so the console never shows it."""
    import warnings
    warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')

# Installed, flows/ drivers/ persistence/ live inside this package (setup.cfg's
# package_dir). Run from a source checkout (the tests, `python -m`, a
# subprocess whose cwd is the checkout), Python finds this folder first and
# would miss them: so the checkout's root joins the package path, where the
# three folders sit.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if (_os.path.isfile(_os.path.join(_root, 'setup.cfg'))
        and _os.path.isdir(_os.path.join(_root, 'persistence'))):
    __path__.append(_root)
