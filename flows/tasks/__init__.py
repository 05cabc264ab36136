"""Tasks: thin, one kind of cloud side effect each, with its revert.

Every execute and every revert may run twice (TaskFlow re-runs RUNNING and
REVERTING atoms after a crash), so each one finds before it creates and
deletes only what is present. Results are small plain dicts.
"""
