"""Driver classes from stevedore entry points, loaded once per process.

An entry point that fails to import is skipped and remembered, so that a
broken plugin does not hide the others and the "not supported" errors can
name it (an operator otherwise sees only a missing driver).
"""

import functools

from stevedore import extension

from bayflow import log

LOG = log.get_logger(__name__)


@functools.lru_cache(maxsize=None)
def load(group):
    """-> (((entry point name, class), ...), ((entry point name, error text), ...))."""
    failures = []

    def failed(_manager, entrypoint, error):
        failures.append((entrypoint.name, f'{type(error).__name__}: {error}'))
        LOG.warning('driver entry point failed to load', group=group,
                    entry_point=entrypoint.name, error=str(error))

    manager = extension.ExtensionManager(group, invoke_on_load=False,
                                         on_load_failure_callback=failed)
    found = tuple(sorted((ext.name, ext.plugin) for ext in manager))
    return found, tuple(failures)


def failures_note(failures):
    """' (entry points that failed to load: a: ImportError: ...)' or ''."""
    if not failures:
        return ''
    return ' (entry points that failed to load: ' + '; '.join(
        f'{name}: {error}' for name, error in failures) + ')'
