"""``bayflow cloud-sim`` (also ``python -m bayflow.cloudsim``): run the
OpenStack API simulator until SIGTERM or SIGINT.

It prints one line saying where it listens, flushed, so a parent process can
read it instead of sleeping::

    cloud-sim listening on http://127.0.0.1:PORT (auth_url http://127.0.0.1:PORT/identity)

Bad arguments give one ``cloud-sim: error: ...`` line on stderr and exit 2.
"""

import argparse
import os
import signal
import sys
import threading

PROG = 'cloud-sim'


class UsageError(Exception):
    """A bad argument: reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def _non_negative(kind):
    def convert(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'not a number: {text!r}')
        if value != value or value < 0:     # NaN or negative
            raise argparse.ArgumentTypeError(f'must be >= 0: {text!r}')
        return value
    return convert


def _port(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'not a port number: {text!r}')
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f'port out of range (0-65535): {text!r}')
    return value


def build_parser():
    parser = _Parser(prog=PROG, description='An OpenStack API simulator (Keystone v3, '
                     'Neutron, Nova, Glance, Cinder, Octavia) for demos and tests.')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1)')
    parser.add_argument('--port', type=_port, default=0,
                        help='port to listen on (default 0: pick a free one)')
    parser.add_argument('--latency-ms', type=_non_negative(float), default=0.0,
                        metavar='N', help='added to every API call, after its effect '
                                          'and before its response (default 0)')
    parser.add_argument('--boot-seconds', type=_non_negative(float), default=1.0,
                        metavar='S', help='server BUILD -> ACTIVE, volume creating -> '
                                          'available and load balancer PENDING_CREATE -> '
                                          'ACTIVE take this long; attach, detach and '
                                          'load balancer changes a quarter (default 1)')
    parser.add_argument('--clouds-yaml', metavar='PATH',
                        help='write a clouds.yaml with clouds "sim" (demo project) and '
                             '"sim-admin" here')
    parser.add_argument('--state', metavar='FILE',
                        help='keep the simulated world in FILE across restarts (an '
                             'empty FILE starts from the seed data)')
    return parser


def _check_paths(args):
    for flag, path in (('--clouds-yaml', args.clouds_yaml), ('--state', args.state)):
        if path is None:
            continue
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise UsageError(f'argument {flag}: no such directory: {folder}')
        if os.path.isdir(path):
            raise UsageError(f'argument {flag}: is a directory: {path}')


def write_clouds_yaml(path, data):
    import yaml
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        yaml.safe_dump(data, f, default_flow_style=False, sort_keys=False)
    os.replace(tmp, path)


def _error(message):
    print(f'{PROG}: error: {message}', file=sys.stderr, flush=True)


def main(argv=None):
    """Run the simulator; returns the exit status (0 after SIGTERM/SIGINT)."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        _check_paths(args)
    except UsageError as exc:
        _error(str(exc))
        return 2
    except SystemExit as exc:       # --help
        return exc.code or 0

    # SIGTERM/SIGINT are blocked before any thread starts (threads inherit
    # the mask) and taken with sigwait: no handler races, no polling.
    main_thread = threading.current_thread() is threading.main_thread()
    signals = {signal.SIGTERM, signal.SIGINT}
    old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, signals) if main_thread else None
    try:
        return _serve(args, signals if main_thread else None)
    finally:
        if old_mask is not None:
            while signals & signal.sigpending():     # a second signal: drop it
                signal.sigwait(signals)
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)


def _serve(args, signals):
    from bayflow.cloudsim.simulator import Simulator
    try:
        sim = Simulator(host=args.host, port=args.port, latency_ms=args.latency_ms,
                        boot_seconds=args.boot_seconds, state_file=args.state)
    except ValueError as exc:       # a state file that is not ours (bad JSON)
        _error(f'argument --state: cannot load {args.state}: {exc}')
        return 2
    except OSError as exc:          # cannot bind, cannot read the state file
        if exc.filename is not None:
            _error(f'{exc.filename}: {exc.strerror or exc}')
        else:
            _error(f'cannot listen on {args.host}:{args.port}: {exc.strerror or exc}')
        return 1
    try:
        if args.clouds_yaml:
            write_clouds_yaml(args.clouds_yaml, sim.clouds_yaml())
    except OSError as exc:
        _error(f'argument --clouds-yaml: {exc}')
        sim.httpd.server_close()
        return 2
    sim.start()
    print(f'{PROG} listening on {sim.url} (auth_url {sim.auth_url})', flush=True)
    if signals:
        signal.sigwait(signals)
    else:                           # not the main thread: run until the process ends
        threading.Event().wait()
    sim.stop()
    return 0

if __name__ == '__main__':
    sys.exit(main())
