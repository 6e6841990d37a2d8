r"""Import cost of graphnet.compat.v1 against tensorflow.compat.v1.

Each import runs in a fresh process (this interpreter), the two in turns
for `--rounds` rounds so that a busy machine slows both alike; each process
reports the seconds its import statement took (`time.perf_counter` around
it). Also shown: the wall time of the whole process. The target (issue 21)
is graphnet's at most 0.1 s more than TF's; graphnet imports TF without
Keras (graphnet.tf_loader), which TF's own import loads.

    python scripts/bench_compat_import.py [--rounds 7]
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STATEMENTS = {
  'tensorflow.compat.v1': 'import tensorflow.compat.v1 as tf',
  'graphnet.compat.v1': 'import graphnet.compat.v1 as tf',
}
_PROGRAM = (
  'import time\n'
  'start = time.perf_counter()\n'
  '{statement}\n'
  'print(time.perf_counter() - start)\n'
)


def measure(statement):
  """(import seconds, process wall seconds) of one fresh process."""
  env = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='3')
  start = time.perf_counter()
  done = subprocess.run(
    [sys.executable, '-c', _PROGRAM.format(statement=statement)],
    capture_output=True,
    text=True,
    env=env,
    check=True,
  )
  wall = time.perf_counter() - start
  return float(done.stdout.strip().splitlines()[-1]), wall


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--rounds', type=int, default=7)
  args = parser.parse_args()
  results = {name: [] for name in STATEMENTS}
  for _ in range(args.rounds):
    for name, statement in STATEMENTS.items():
      results[name].append(measure(statement))
  print('| import | import s (median) | min | process wall s (median) |')
  print('|---|---|---|---|')
  for name, values in results.items():
    imports = [v[0] for v in values]
    walls = [v[1] for v in values]
    print(
      f'| `{name}` | {statistics.median(imports):.2f} | {min(imports):.2f} '
      f'| {statistics.median(walls):.2f} |'
    )
  tf_median = statistics.median(v[0] for v in results['tensorflow.compat.v1'])
  g_median = statistics.median(v[0] for v in results['graphnet.compat.v1'])
  print(f'\ngraphnet - TF: {g_median - tf_median:+.2f} s (target <= +0.10 s)')


if __name__ == '__main__':
  main()
