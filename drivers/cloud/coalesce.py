"""One cloud call for many callers who want the same kind of answer at once.

A daemon building 50 bays has 50 wait steps looking at their servers every
interval: 50 list calls where one, naming all the bays, would do. Callers
asking while a call is out join the next one; a caller's own call always
starts after it asked, so no answer is older than the question.
"""

import concurrent.futures
import threading


class Coalescer:
    """``get(key)`` -> ``fetch(keys)[key]``, with the keys of callers waiting
    at the same time fetched together (at most ``most`` a call)."""

    def __init__(self, fetch, most=40):
        self._fetch, self._most = fetch, most
        self._lock = threading.Lock()
        self._waiting = {}   # key -> [Future]
        self._busy = False   # a caller is fetching for the others

    def get(self, key):
        future = concurrent.futures.Future()
        with self._lock:
            self._waiting.setdefault(key, []).append(future)
            lead, self._busy = not self._busy, True
        if lead:
            self._serve()
        return future.result()

    def _serve(self):
        """Fetch for whoever waits, round after round, until nobody does."""
        try:
            self._rounds()
        except BaseException as exc:  # interrupted: nobody may wait for a leader forever
            with self._lock:
                waiting, self._waiting, self._busy = self._waiting, {}, False
            for futures in waiting.values():
                for future in futures:
                    future.set_exception(exc)
            raise

    def _rounds(self):
        while True:
            with self._lock:
                if not self._waiting:
                    self._busy = False
                    return
                keys = list(self._waiting)[:self._most]
                batch = {key: self._waiting.pop(key) for key in keys}
            try:
                found = self._fetch(set(batch))
            except Exception as exc:  # noqa: BLE001 - every caller of the round gets it
                for futures in batch.values():
                    for future in futures:
                        future.set_exception(exc)
                continue
            for key, futures in batch.items():
                for future in futures:
                    future.set_result(found.get(key))
