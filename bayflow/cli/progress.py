"""The live view of a running flow: a rich table on a terminal, plain lines elsewhere."""

import sys
import threading
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table

_STYLES = {'RUNNING': 'yellow', 'SUCCESS': 'green', 'FAILURE': 'bold red',
           'REVERTING': 'magenta', 'REVERTED': 'magenta', 'REVERT_FAILURE': 'bold red',
           'RETRYING': 'cyan'}


class Progress:
    """A callable the engine reports step events to (from its threads)."""

    def __init__(self, title, stream=None, live=None):
        self.stream = stream or sys.stdout
        self.title = title
        self.live = self.stream.isatty() if live is None else live
        self._steps = {}
        self._order = []
        self._lock = threading.Lock()
        self._t0 = time.monotonic()
        self._view = None

    def __enter__(self):
        if self.live:
            self._view = Live(self._table(), console=Console(file=self.stream),
                              refresh_per_second=8, transient=False)
            self._view.__enter__()
        return self

    def __exit__(self, *exc):
        if self._view is not None:
            self._view.update(self._table())
            self._view.__exit__(*exc)
        return False

    def __call__(self, event):
        with self._lock:
            elapsed = time.monotonic() - self._t0
            if event['kind'] == 'flow':
                line = f"[{elapsed:6.1f}s] {self.title}: flow {event['state']}"
            else:
                step = event['step']
                if step not in self._steps:
                    self._order.append(step)
                self._steps[step] = (event['state'], event.get('error'))
                error = f": {event['error']}" if event.get('error') else ''
                line = f"[{elapsed:6.1f}s] {step} {event['state']}{error}"
            if self._view is not None:
                self._view.update(self._table())
            else:
                self.stream.write(line + '\n')
                self.stream.flush()

    def _table(self):
        table = Table(title=self.title, expand=False)
        table.add_column('step')
        table.add_column('state')
        for step in self._order:
            state, error = self._steps[step]
            style = _STYLES.get(state, '')
            text = f'[{style}]{state}[/]' if style else state
            table.add_row(step, text + (f' {error}' if error else ''))
        return table
