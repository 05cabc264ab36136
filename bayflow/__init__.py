"""bayflow: container clusters on OpenStack, built by persisted TaskFlow graphs."""

import os as _os

__version__ = "0.1.0"

# Installed, flows/ drivers/ persistence/ live inside this package (setup.cfg's
# package_dir). Run from a source checkout (the tests, `python -m`, a
# subprocess whose cwd is the checkout), Python finds this folder first and
# would miss them: so the checkout's root joins the package path, where the
# three folders sit.
_root = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
if (_os.path.isfile(_os.path.join(_root, 'setup.cfg'))
        and _os.path.isdir(_os.path.join(_root, 'persistence'))):
    __path__.append(_root)
