"""``--health-port``: /healthz for the orchestrator, /metrics for Prometheus.

/healthz answers 200 only while the daemon consumes, its database answers
and (with flow worker processes) one of its workers runs, so a supervisor
restarts (or stops routing to) a daemon that can take nothing in or run
nothing it takes.
"""

import http.server
import threading

from bayflow import log

LOG = log.get_logger(__name__)


class HealthServer:
    def __init__(self, host, port, is_consuming, db_ok, metrics, flow_workers=None):
        """``flow_workers()``: (running, wanted) worker processes, when flows run in them."""
        self._is_consuming, self._db_ok, self._metrics = is_consuming, db_ok, metrics
        self._flow_workers = flow_workers
        self.server = http.server.ThreadingHTTPServer((host, port), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        name='health', daemon=True)

    def start(self):
        self._thread.start()
        LOG.info('health and metrics on http://%s:%s/', *self.server.server_address[:2])
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def health(self):
        """(HTTP status, text)."""
        problems = []
        if not self._is_consuming():
            problems.append('not consuming: the message broker is not connected')
        if not self._db_ok():
            problems.append('the database does not answer')
        if self._flow_workers is not None:
            running, wanted = self._flow_workers()
            if not running:
                problems.append(f'no flow worker process is running (of {wanted}; '
                                f'they are being started again)')
        return (503, '; '.join(problems)) if problems else (200, 'ok')

    def _handler(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                path = self.path.split('?', 1)[0]
                if path == '/healthz':
                    status, text = outer.health()
                    body, ctype = (text + '\n').encode(), 'text/plain; charset=utf-8'
                elif path == '/metrics':
                    status = 200
                    body, ctype = outer._metrics.exposition()
                else:
                    status, body, ctype = 404, b'not found\n', 'text/plain'
                self.send_response(status)
                self.send_header('Content-Type', ctype)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        return Handler
