"""``python -m bayflow.cloudsim``: the same as ``bayflow cloud-sim``."""

import sys

from bayflow.cloudsim.cli import main

if __name__ == '__main__':
    sys.exit(main())
