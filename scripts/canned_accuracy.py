r"""Premade-estimator programs: graphnet vs real TensorFlow 1.15, accuracy.

Runs tests/tf1_programs/iris_dnn.py (DNNClassifier, Iris) and wide_deep.py
(DNNLinearCombinedClassifier, census-like table) with the same flags and
seeds twice: as written (`import graphnet.compat.v1 as tf`, under this
Python) and with that line changed back to `import tensorflow as tf` under
TF 1.15's Python. Prints each run's test accuracy and wall time, the mean
per program and framework, and the difference in points.

Usage:
  python scripts/canned_accuracy.py \
      [--tf1_python ../tf1venv/bin/python] [--seeds 1,2,3] [--json out]
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_PROGRAMS = os.path.join(_REPO, 'tests', 'tf1_programs')
_GOLDENS = os.path.join(_REPO, 'tests', 'goldens', 'tf1_canned')
_IMPORT = 'import graphnet.compat.v1 as tf\n'
_TIMEOUT = 900

# program: (flags, data file, regex of the final accuracy line)
PROGRAMS = {
  'iris_dnn': (
    ['--train_steps', '1000'],
    'iris.npz',
    r'Test set accuracy: ([0-9.]+)',
  ),
  'wide_deep': (
    ['--train_epochs', '40', '--epochs_between_evals', '40'],
    'tabular.npz',
    r'^accuracy: ([0-9.]+)',
  ),
}


def _tf1_copy(name, directory):
  """The program with its TF 1.x import line, written into `directory`."""
  with open(os.path.join(_PROGRAMS, f'{name}.py'), encoding='utf-8') as f:
    source = f.read()
  if _IMPORT not in source:
    raise SystemExit(f'{name}.py: no line {_IMPORT.strip()!r} to change')
  path = os.path.join(directory, f'{name}_tf1.py')
  with open(path, 'w', encoding='utf-8') as f:
    f.write(source.replace(_IMPORT, 'import tensorflow as tf\n'))
  return path


def run(python, program, name, seed, work):
  """(accuracy, wall seconds) of one run."""
  flags, data, pattern = PROGRAMS[name]
  model_dir = tempfile.mkdtemp(dir=work)
  env = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')
  start = time.monotonic()
  done = subprocess.run(
    [
      python,
      program,
      *flags,
      '--seed',
      str(seed),
      '--model_dir',
      model_dir,
      '--data',
      os.path.join(_GOLDENS, data),
    ],
    capture_output=True,
    text=True,
    timeout=_TIMEOUT,
    env=env,
    check=False,
  )
  wall = time.monotonic() - start
  found = re.findall(pattern, done.stdout, re.MULTILINE)
  if done.returncode or not found:
    raise SystemExit(
      f'{program} (seed {seed}) failed: exit {done.returncode}\n'
      f'{done.stderr[-3000:]}'
    )
  return float(found[-1]), wall


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--tf1_python', default='../tf1venv/bin/python')
  parser.add_argument('--seeds', default='1,2,3')
  parser.add_argument('--programs', default=','.join(PROGRAMS))
  parser.add_argument('--json', default=None, help='write results here')
  args = parser.parse_args()
  seeds = [int(s) for s in args.seeds.split(',')]
  results = {}
  with tempfile.TemporaryDirectory() as work:
    for name in args.programs.split(','):
      contenders = {
        'graphnet': (sys.executable, os.path.join(_PROGRAMS, f'{name}.py')),
        'tf1.15': (args.tf1_python, _tf1_copy(name, work)),
      }
      for who, (python, program) in contenders.items():
        runs = [run(python, program, name, seed, work) for seed in seeds]
        for seed, (accuracy, wall) in zip(seeds, runs, strict=True):
          print(
            f'{name:10s} {who:9s} seed {seed}: accuracy {accuracy:.4f} '
            f'({wall:.1f} s)',
            flush=True,
          )
        results.setdefault(name, {})[who] = {
          'accuracies': [r[0] for r in runs],
          'mean': sum(r[0] for r in runs) / len(runs),
          'wall_s': [round(r[1], 1) for r in runs],
        }
  print()
  for name, by in results.items():
    diff = 100 * (by['graphnet']['mean'] - by['tf1.15']['mean'])
    by['difference_points'] = diff
    print(
      f'{name:10s} mean accuracy graphnet {by["graphnet"]["mean"]:.4f} '
      f'tf1.15 {by["tf1.15"]["mean"]:.4f} ({diff:+.2f} points)'
    )
  if args.json:
    with open(args.json, 'w', encoding='utf-8') as f:
      json.dump(results, f, indent=1)


if __name__ == '__main__':
  main()
