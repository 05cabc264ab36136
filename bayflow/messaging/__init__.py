"""bayflow's messaging contract: bay events, oslo.messaging RPC in, notifications out.

kombu only: bayflow speaks oslo.messaging's wire format itself, so nothing here
imports oslo.messaging (or eventlet). The daemon consumes with these pieces;
this package never imports the daemon, the CLI, flows or persistence.
"""
