"""Many bays at once through one daemon, against one bay alone.

    python bench/many_bays.py [--bays 50] [--latency-ms 20] [--boot-seconds 1] [--repeat 3]

One bay.create event (node_count 1) into a ``bayflow daemon`` on RabbitMQ and
PostgreSQL, timed until CREATE_COMPLETE; then ``--bays`` events at once into
the same daemon (``[daemon] max_concurrent_flows`` = --bays), timed until all
are CREATE_COMPLETE. Prints the ratio of the two, each round's and their
median (this machine's speed wanders by a third from minute to minute).
Target: <= 3x. The daemon runs as configured by default: its flows in one
worker process per CPU (``[daemon] flow_processes``).
"""

import statistics

import argparse
import time

import kombu

import bays
import daemon_rig as rig

from bayflow.messaging import events, topology  # noqa: E402
from bayflow.persistence import api  # noqa: E402


def create(url, names):
    with kombu.Connection(url) as conn:
        for name in names:
            topology.publish_event(conn, events.make(
                'bay.create', {'name': name, 'baymodel': 'k8s', 'node_count': 1}))


def delete(db, url, names):
    """The round's bays deleted (the simulator's external network has room for
    one round's floating IPs and gateways)."""
    with kombu.Connection(url) as conn:
        for name in names:
            topology.publish_event(conn, events.make('bay.delete', {'bay': name}))
    rig.until(lambda: not any(b['name'] in names for b in db.list_bays()),
              f'{len(names)} bay(s) deleted', interval=0.1)


def complete(db, names):
    done = 0
    for bay in db.list_bays():
        if bay['name'] in names:
            if bay['status'] not in ('CREATE_IN_PROGRESS', 'CREATE_COMPLETE'):
                raise RuntimeError(f"bay {bay['name']} is {bay['status']}: "
                                   f"{bay['status_reason']}")
            done += bay['status'] == 'CREATE_COMPLETE'
    return done == len(names)


def timed(db, url, names):
    t0 = time.perf_counter()
    create(url, names)
    rig.until(lambda: complete(db, set(names)), f'{len(names)} bay(s) CREATE_COMPLETE',
              interval=0.1)
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--bays', type=int, default=50)
    parser.add_argument('--latency-ms', type=int, default=20)
    parser.add_argument('--boot-seconds', type=float, default=1.0)
    parser.add_argument('--repeat', type=int, default=3)
    parser.add_argument('--flow-processes', type=int, default=0,
                        help='[daemon] flow_processes (default 0: one per CPU)')
    args = parser.parse_args()
    with bays.simulator(args.latency_ms, args.boot_seconds) as sim, \
            rig.database() as db_url, rig.vhost() as url:
        daemon = rig.DaemonProcess(sim, db_url, url, args.bays,
                                   flow_processes=args.flow_processes).start()
        db = api.Database(db_url)
        print(f'latency {args.latency_ms} ms, boot {args.boot_seconds} s, node_count 1, '
              f'max_concurrent_flows {args.bays}, flow worker processes '
              f'{len(daemon.ps.children())}')
        try:
            ratios = []
            for round_ in range(args.repeat):
                if round_:
                    delete(db, url, names)
                names = [f'alone{round_}']
                one = timed(db, url, names)
                cpu0, sim0 = daemon.cpu(), rig.cpu_of(sim.proc.pid)
                names += [f'many{round_}-{i}' for i in range(args.bays)]
                many = timed(db, url, names[1:])
                ratios.append(many / one)
                print(f'  round {round_ + 1}: one bay alone {one:5.2f} s, {args.bays} at once '
                      f'{many:5.2f} s (CPU: daemon {daemon.cpu() - cpu0:.1f} s, simulator '
                      f'{rig.cpu_of(sim.proc.pid) - sim0:.1f} s): '
                      f'{many / one:.2f}x', flush=True)
            print(f'  ratio, median of {len(ratios)}: {statistics.median(ratios):.2f}x '
                  f'(target <= 3x)', flush=True)
        finally:
            db.dispose()
            daemon.stop()


if __name__ == '__main__':
    main()
