"""Kubernetes on Fedora Atomic: Magnum's (vm, fedora-atomic, kubernetes) bay type."""
