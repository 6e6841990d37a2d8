r"""Runs tests/tf1_programs/estimator_dataset.py as a TF_CONFIG cluster.

Four processes on 127.0.0.1 (chief, worker, ps, evaluator), each with its
own TF_CONFIG, run `train_and_evaluate` on the small MNIST goldens' data
to --steps global steps; the script waits for all of them (each bounded
by --timeout), prints each task's exit code, time and last line, and
exits 1 unless every task ended with 0.

    python scripts/estimator_cluster.py --model_dir /tmp/cluster_model
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM = os.path.join(_REPO, 'tests', 'tf1_programs', 'estimator_dataset.py')
DATA = os.path.join(_REPO, 'tests', 'goldens', 'tf1_estimator', 'digits.npz')
TASKS = (('ps', 0), ('chief', 0), ('worker', 0), ('evaluator', 0))


def _free_ports(count):
  sockets = [socket.socket() for _ in range(count)]
  try:
    for s in sockets:
      s.bind(('127.0.0.1', 0))
    return [s.getsockname()[1] for s in sockets]
  finally:
    for s in sockets:
      s.close()


def run_cluster(model_dir, steps=300, timeout=600, python=sys.executable):
  """Runs the cluster; returns {task: (returncode, secs, stdout, stderr)}."""
  chief, worker, ps = (f'127.0.0.1:{p}' for p in _free_ports(3))
  cluster = {'chief': [chief], 'worker': [worker], 'ps': [ps]}
  started = {}
  for task_type, index in TASKS:
    env = dict(
      os.environ,
      PYTHONPATH=_REPO,
      TF_CPP_MIN_LOG_LEVEL='2',
      TF_CONFIG=json.dumps(
        {'cluster': cluster, 'task': {'type': task_type, 'index': index}}
      ),
    )
    started[task_type] = (
      subprocess.Popen(
        [
          python,
          PROGRAM,
          '--data',
          DATA,
          '--model_dir',
          model_dir,
          '--train_steps',
          str(steps),
          '--train_and_evaluate',
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
      ),
      time.time(),
    )
  results = {}
  deadline = time.time() + timeout
  for task, (process, began) in started.items():
    try:
      out, err = process.communicate(timeout=max(1, deadline - time.time()))
    except subprocess.TimeoutExpired:
      process.kill()
      out, err = process.communicate()
    results[task] = (process.returncode, time.time() - began, out, err)
  return results


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--model_dir', required=True)
  parser.add_argument('--steps', type=int, default=300)
  parser.add_argument('--timeout', type=float, default=600)
  args = parser.parse_args()
  results = run_cluster(args.model_dir, args.steps, args.timeout)
  for task, (code, secs, out, _) in results.items():
    last = (out.strip().splitlines() or [''])[-1]
    print(f'{task:9s} exit {code} after {secs:.1f} s  {last}')
  sys.exit(0 if all(r[0] == 0 for r in results.values()) else 1)


if __name__ == '__main__':
  main()
