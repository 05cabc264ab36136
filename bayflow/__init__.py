"""bayflow: container clusters on OpenStack, built by persisted TaskFlow graphs."""

__version__ = "0.1.0"
