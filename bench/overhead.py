"""What bayflow's engine costs over the plain script, and its memory at node_count 50.

    python bench/overhead.py [--nodes 1] [--rss-nodes 50]

1. At ``--latency-ms 0`` (the cloud answers at once), bayflow's create+delete
   time over a plain sequential openstacksdk script's create+delete of the same
   resources, in this process, on the same simulator (medians of ``--repeat``
   interleaved rounds). Target: <= 2.0.
2. The peak RSS of a ``bayflow bay-create --node-count 50 --wait`` process (the
   whole command, as a user runs it). Target: < 250 MB.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

import bays


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--nodes', type=int, default=1)
    parser.add_argument('--rss-nodes', type=int, default=50)
    parser.add_argument('--boot-seconds', type=float, default=0.2)
    parser.add_argument('--repeat', type=int, default=5,
                        help='rounds of each; the medians are compared')
    args = parser.parse_args()
    with bays.simulator(0, args.boot_seconds) as sim:
        rounds = {'created': [], 'deleted': [], 'script_create': [], 'script_delete': []}
        with bays.bayflow_service(sim) as svc:
            conn = bays.connect(sim)
            for i in range(args.repeat):   # interleaved, so both see the same machine
                rounds['created'].append(bays.bayflow_create(svc, f'ov{i}', args.nodes)[0])
                rounds['deleted'].append(bays.bayflow_delete(svc, f'ov{i}'))
                took, built = bays.script_create(conn, f'script{i}', args.nodes)
                rounds['script_create'].append(took)
                rounds['script_delete'].append(bays.script_delete(conn, built))
            conn.close()
        created, deleted, script_create, script_delete = (
            statistics.median(rounds[k]) for k in ('created', 'deleted', 'script_create',
                                                    'script_delete'))
        ours, theirs = created + deleted, script_create + script_delete
        print(f'latency 0, boot {args.boot_seconds} s, node_count {args.nodes}:')
        print(f'  bayflow create {created:.2f} s + delete {deleted:.2f} s = {ours:.2f} s')
        print(f'  script  create {script_create:.2f} s + delete {script_delete:.2f} s '
              f'= {theirs:.2f} s')
        print(f'  ratio bayflow/script: {ours / theirs:.2f} (target <= 2.0)', flush=True)
        print(f'peak RSS of bay-create --node-count {args.rss_nodes} --wait: '
              f'{_peak_rss_mb(sim, args.rss_nodes):.0f} MB (target < 250 MB)')


def _peak_rss_mb(sim, nodes):
    home = tempfile.mkdtemp(prefix='rss-', dir=sim.home)
    conf = os.path.join(home, 'bayflow.conf')
    with open(conf, 'w') as out:
        out.write(f'[cloud]\nwait_interval = {bays.POLL}\n')
    env = dict(os.environ, BAYFLOW_HOME=home)
    base = [sys.executable, '-m', 'bayflow.cli.main', '--config-file', conf]
    subprocess.run(base + ['baymodel-create', '--name', 'k8s', '--coe', 'kubernetes',
                           '--image-id', 'fedora-21-atomic-5', '--keypair-id', 'testkey',
                           '--external-network-id', 'public', '--flavor-id', 'm1.small',
                           '--docker-volume-size', '5'],
                   env=env, check=True, capture_output=True, cwd=bays.ROOT)
    proc = subprocess.Popen(base + ['bay-create', '--name', 'big', '--baymodel', 'k8s',
                                    '--node-count', str(nodes), '--wait'],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            cwd=bays.ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f'bay-create failed: {proc.stderr.read().decode()[-2000:]}')
    subprocess.run(base + ['bay-delete', 'big', '--wait'], env=env, check=True,
                   capture_output=True, cwd=bays.ROOT)
    return usage.ru_maxrss / 1024.0   # kB on Linux


if __name__ == '__main__':
    main()
