"""Running bay flows: who owns a flow, how it is loaded, run, watched and resumed.

The service layer builds flows with ``bayflow.flows`` factories and hands
them here; nothing in this package knows the CLI or the daemon.
"""
