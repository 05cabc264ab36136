"""heap.settle, in a fresh interpreter: it changes the whole process's collector."""

import json
import subprocess
import sys

from bayflow.daemon import heap

_PROBE = """
import gc, json
from bayflow.daemon import heap
heap.settle()
print(json.dumps({'frozen': gc.get_freeze_count(), 'threshold': gc.get_threshold(),
                  'tracked': len(gc.get_objects())}))
"""


def test_settle_freezes_the_start_up_heap_and_collects_young_objects_less_often():
    out = json.loads(subprocess.run([sys.executable, '-c', _PROBE], check=True,
                                    capture_output=True, text=True).stdout)
    assert out['frozen'] > 10_000  # the imports' objects, out of the collector's sight
    assert out['tracked'] < out['frozen'] / 10
    assert out['threshold'][0] == heap.YOUNG_THRESHOLD > 700
