"""How fast ``bayflow daemon`` takes events in, through RabbitMQ into PostgreSQL.

    python bench/ingest.py [--valid 1000] [--refused 1000] [--flows 1]

1,000 valid bay.create events, then 1,000 refused ones (a third bad JSON, a
third schema violations, a third naming no baymodel), published as fast as
kombu can into one daemon. Events/s acknowledged: a valid one once its bay
row, its saved flow and its event id are in PostgreSQL (its flow perhaps still
queued: --flows flows run meanwhile), a refused one once dead-lettered. Beside
it the CPU the daemon used, and the simulator's (the cloud checks). Target:
>= 300 events/s.
"""

import argparse
import time
import uuid

import daemon_rig as rig
import bays

from bayflow.messaging import events, topology  # noqa: E402

import kombu  # noqa: E402


def refused(i):
    kind = i % 3
    if kind == 0:
        return b'{"version": "1.0", "id": '           # bad JSON
    if kind == 1:
        return {'version': '1.0', 'id': str(uuid.uuid4()), 'type': 'bay.create',
                'context': {}, 'payload': {'name': f'r{i}'}}   # no baymodel
    return events.make('bay.create', {'name': f'r{i}', 'baymodel': 'no-such-baymodel'})


def publish(conn, bodies):
    producer = conn.Producer()
    exchange, queue = topology.events_exchange(), topology.events_queue()
    producer.declare = [exchange, queue]
    for body in bodies:
        producer.publish(body, exchange=exchange, routing_key='bay.create',
                         serializer='json' if isinstance(body, dict) else None,
                         content_type=None if isinstance(body, dict) else 'application/json',
                         content_encoding=None if isinstance(body, dict) else 'utf-8',
                         delivery_mode=2, declare=[exchange, queue])


def phase(daemon, conn, bodies, counter, what):
    before = daemon.metric(counter)
    cpu0, sim0, t0 = daemon.cpu(), daemon.sim_ps.cpu_times(), time.perf_counter()
    publish(conn, bodies)
    published = time.perf_counter() - t0
    rig.until(lambda: daemon.metric(counter) - before >= len(bodies), what, interval=0.1)
    took = time.perf_counter() - t0
    cpu = daemon.cpu() - cpu0
    sim1 = daemon.sim_ps.cpu_times()
    sim_cpu = (sim1.user + sim1.system) - (sim0.user + sim0.system)
    rate = len(bodies) / took
    print(f'{what:>8} {len(bodies):>6} {took:>8.2f} {rate:>9.0f} {cpu:>10.2f} '
          f'{100 * cpu / took:>6.0f}% {sim_cpu:>8.2f} {published:>10.2f}', flush=True)
    return rate


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--valid', type=int, default=1000)
    parser.add_argument('--refused', type=int, default=1000)
    parser.add_argument('--flows', type=int, default=1,
                        help='[daemon] max_concurrent_flows while events come in')
    args = parser.parse_args()
    import psutil
    with bays.simulator(0, 30) as sim, rig.database() as db_url, rig.vhost() as url:
        # Flows look at booting servers at the default pace ([cloud] wait_interval).
        daemon = rig.DaemonProcess(sim, db_url, url, args.flows, wait_interval=2.0).start()
        daemon.sim_ps = psutil.Process(sim.proc.pid)
        try:
            print(f"{'events':>8} {'count':>6} {'wall s':>8} {'events/s':>9} "
                  f"{'daemon CPU':>10} {'CPU':>7} {'sim CPU':>8} {'publish s':>10}")
            with kombu.Connection(url) as conn:
                valid = [events.make('bay.create', {'name': f'b{i}', 'baymodel': 'k8s',
                                                    'node_count': 1})
                         for i in range(args.valid)]
                ok = phase(daemon, conn, valid, 'bayflow_events_accepted_total', 'valid')
                bad = [refused(i) for i in range(args.refused)]
                no = phase(daemon, conn, bad, 'bayflow_events_rejected_total', 'refused')
            both = (args.valid + args.refused) / (args.valid / ok + args.refused / no)
            print(f'all {args.valid + args.refused} events: {both:.0f} events/s '
                  f'(target >= 300)')
        finally:
            daemon.stop()


if __name__ == '__main__':
    main()
