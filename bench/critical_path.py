"""How close a bayflow create comes to the cloud's own critical path.

    python bench/critical_path.py [--latency-ms 50] [--boot-seconds 1] [--sizes 1,10,50]

For node_count 1, 10 and 50 on a simulator with ``--latency-ms`` per call, it
prints bayflow's create time divided by the critical-path lower bound: the
longest chain of calls that depend on each other's answers, times the
latency, plus the time the cloud itself takes (a server's boot, then an
attach, a quarter of it):

    token -> network -> subnet -> router interface -> floating IP (needs the
    port's subnet routed) -> server (its user_data names the master's floating
    IP) -> [boot] -> server ACTIVE seen -> attach -> [attach] -> volume in-use seen

Beside it, the same resources made by a plain sequential openstacksdk script
(what a user would write), in the same process and on the same simulator.
Each size's bayflow time is the median of ``--repeat`` creates.
Target: ratio <= 1.25 at every size.
"""

import argparse
import statistics

import bays

CHAIN_CALLS = 9      # the calls of the chain above


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--latency-ms', type=int, default=50)
    parser.add_argument('--boot-seconds', type=float, default=1.0)
    parser.add_argument('--sizes', default='1,10,50')
    parser.add_argument('--repeat', type=int, default=3,
                        help='creates per size; the median is printed (the machine '
                             'may be busy with other work)')
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(',')]
    latency = args.latency_ms / 1000.0
    bound = CHAIN_CALLS * latency + args.boot_seconds * 1.25
    print(f'latency {args.latency_ms} ms, boot {args.boot_seconds} s: critical-path lower '
          f'bound {bound:.2f} s ({CHAIN_CALLS} dependent calls + boot + attach)')
    print(f"{'nodes':>6} {'bayflow s':>10} {'ratio':>6} {'script s':>9} {'script/bayflow':>15}")
    with bays.simulator(args.latency_ms, args.boot_seconds) as sim:
        with bays.bayflow_service(sim) as svc:
            for n in sizes:
                times = []
                for i in range(args.repeat):
                    times.append(bays.bayflow_create(svc, f'cp{n}-{i}', n)[0])
                    bays.bayflow_delete(svc, f'cp{n}-{i}')
                took = statistics.median(times)
                conn = bays.connect(sim)
                script, built = bays.script_create(conn, f'script{n}', n)
                print(f'{n:>6} {took:>10.2f} {took / bound:>6.2f} {script:>9.2f} '
                      f'{script / took:>15.2f}   (runs: '
                      f'{", ".join(f"{t:.2f}" for t in times)})', flush=True)
                bays.script_delete(conn, built)
                conn.close()


if __name__ == '__main__':
    main()
