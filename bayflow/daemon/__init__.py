"""``bayflow daemon``: bay events and OpenStack RPC casts in, flows run here.

Taking an event in (``ingest``) is kept apart from running its flow
(``flows``): the effect of an event is the bay row, its saved flow and the
recorded event id, all durable before the message is acknowledged; who runs
the flow afterwards (this process's pool today, a jobboard conductor later)
does not change how events are taken in. Only the CLI imports this package.
"""
