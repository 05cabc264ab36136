"""bayflow's options on a ConfigOpts of their own, for the messaging tests."""

import pytest
from oslo_config import cfg

from bayflow import config


@pytest.fixture
def conf(bayflow_home):
    """Never the global CONF (oslo.messaging's tests use that one); state under a
    throwaway $BAYFLOW_HOME."""
    opts = cfg.ConfigOpts()
    config.register_opts(opts)
    config.load([], conf=opts)
    yield opts
    opts.reset()
