r"""TF1 programs under graphnet and, side by side, under real TensorFlow 1.15.

Each program of PROGRAMS (tests/tf1_programs/<file>) runs twice with the
same arguments and step budget, one after the other: as is under graphnet's
venv, and with its import lines swapped back (TO_TF1) under TF 1.15's venv.
The script prints a table of the metric each run printed last and its wall
time from process start:

    python scripts/tf1_programs_accuracy.py \
        [--programs layers_cnn,conv_autoencoder] [--runs 1] \
        [--tf1_python ../tf1venv/bin/python] [--record]

`--record` writes the TF 1.15 metrics to tests/goldens/tf1_programs.json,
which the slow tests compare graphnet's runs with (no TF 1.15 needed).

To add a program: one entry in PROGRAMS, and any new import line in TO_TF1.
This module stays importable by Python 3.7 (the TF 1.15 venv's) so the
goldens scripts can use `to_tf1`.
"""

import argparse
import collections
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM_DIR = os.path.join(_REPO, 'tests', 'tf1_programs')
RECORD = os.path.join(_REPO, 'tests', 'goldens', 'tf1_programs.json')
MNIST_DIR = '../shared/datasets/mnist'
GRAPHNET_PYTHON = sys.executable
TF1_PYTHON = '../tf1venv/bin/python'
TIMEOUT = 1800

# graphnet's import line -> the TF 1.x line it replaces.
TO_TF1 = {
  'import graphnet.compat.v1 as tf': 'import tensorflow as tf',
  'from graphnet import input_data': (
    'from tensorflow.examples.tutorials.mnist import input_data'
  ),
  'from graphnet.compat.v1.contrib import rnn': (
    'from tensorflow.contrib import rnn'
  ),
  'import graphnet.compat.v1.contrib.slim as slim': (
    'import tensorflow.contrib.slim as slim'
  ),
}

# file: in tests/tf1_programs; args: both runs get them (plus --data_dir);
# metric: regex whose group 1 is the number the program prints last;
# higher_is_better: for the comparison ("within half a point");
# then: None, or (file, args) of a second process run after the first in
# the same directory (an evaluator), whose output the metric is read from.
Program = collections.namedtuple(
  'Program',
  ['file', 'args', 'metric', 'higher_is_better', 'then'],
  defaults=(None,),
)
PROGRAMS = {
  'layers_cnn': Program(
    'layers_cnn.py',
    ['--steps', '2000', '--seed', '1'],
    r'test accuracy ([0-9.]+)',
    True,
  ),
  'conv_autoencoder': Program(
    'conv_autoencoder.py',
    ['--steps', '1500', '--seed', '1'],
    r'test mse ([0-9.]+)',
    False,
  ),
  'lstm_mnist': Program(
    'lstm_mnist.py',
    ['--steps', '1000', '--seed', '1'],
    r'test accuracy ([0-9.]+)',
    True,
  ),
  'contrib_mlp': Program(
    'contrib_mlp.py',
    ['--steps', '3000', '--seed', '1'],
    r'^test accuracy ([0-9.]+)',
    True,
  ),
  'slim_cnn': Program(
    'slim_cnn.py',
    ['--steps', '1000', '--seed', '1'],
    r'test accuracy ([0-9.]+)',
    True,
  ),
  'book5': Program(
    'book5_train.py',
    ['--training_steps', '3000', '--model_dir', 'model', '--seed', '1'],
    r'test accuracy = ([0-9.]+)',
    True,
    then=(
      'book5_eval.py',
      ['--training_steps', '3000', '--model_dir', 'model'],
    ),
  ),
}


def to_tf1(source):
  """`source` with each graphnet import line (TO_TF1) swapped for TF1's."""
  lines = []
  for line in source.splitlines(True):
    stripped = line.strip()
    if stripped in TO_TF1:
      indent = line[: len(line) - len(line.lstrip())]
      line = indent + TO_TF1[stripped] + '\n'
    lines.append(line)
  return ''.join(lines)


def run_program(name, python, work_dir, tf1=False):
  """Runs PROGRAMS[name]; returns (metric, seconds, stdout)."""
  program = PROGRAMS[name]
  data_dir = os.path.join(work_dir, 'data')
  if tf1:
    # TF 1.15's input_data would download without the .gz files.
    os.makedirs(data_dir, exist_ok=True)
    for gz in os.listdir(MNIST_DIR):
      shutil.copy(os.path.join(MNIST_DIR, gz), data_dir)
    # Every program, so that one importing another (book5) finds it.
    for file in os.listdir(PROGRAM_DIR):
      if file.endswith('.py'):
        with open(os.path.join(PROGRAM_DIR, file)) as f:
          source = to_tf1(f.read())
        with open(os.path.join(work_dir, file), 'w') as f:
          f.write(source)
  program_dir = work_dir if tf1 else PROGRAM_DIR
  env = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')
  runs = [(program.file, program.args)]
  if program.then:
    runs.append(program.then)
  start = time.time()
  for file, args in runs:
    done = subprocess.run(
      [python, os.path.join(program_dir, file), '--data_dir', data_dir, *args],
      cwd=work_dir,
      env=env,
      capture_output=True,
      text=True,
      timeout=TIMEOUT,
    )
    if done.returncode != 0:
      raise RuntimeError(
        f'{name} {file} ({"TF 1.15" if tf1 else "graphnet"}) failed:\n'
        f'{done.stderr[-3000:]}'
      )
  seconds = time.time() - start
  found = re.findall(program.metric, done.stdout, re.MULTILINE)
  if not found:
    raise RuntimeError(
      f'{name}: no line matching {program.metric!r} in:\n{done.stdout}'
    )
  return float(found[-1]), seconds, done.stdout


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--programs', default=','.join(PROGRAMS))
  parser.add_argument('--runs', type=int, default=1)
  parser.add_argument('--tf1_python', default=TF1_PYTHON)
  parser.add_argument(
    '--graphnet_only', action='store_true', help='Skip the TF 1.15 runs.'
  )
  parser.add_argument(
    '--record', action='store_true', help=f'Write TF 1.15 metrics to {RECORD}.'
  )
  args = parser.parse_args()
  names = [n for n in args.programs.split(',') if n]
  rows, recorded = [], {}
  for name in names:
    for run in range(args.runs):
      sides = [('graphnet', GRAPHNET_PYTHON, False)]
      if not args.graphnet_only:
        sides.append(('TF 1.15', args.tf1_python, True))
      results = {}
      for side, python, tf1 in sides:
        with tempfile.TemporaryDirectory() as work_dir:
          metric, seconds, _ = run_program(name, python, work_dir, tf1)
        results[side] = (metric, seconds)
        print(f'{name} run {run + 1} {side}: {metric} in {seconds:.1f} s')
      rows.append((name, results))
      if 'TF 1.15' in results:
        recorded.setdefault(name, []).append(results['TF 1.15'][0])
  print()
  print(
    '| program | graphnet metric | TF 1.15 metric | graphnet s | TF 1.15 s |'
  )
  print('|---|---|---|---|---|')
  for name, results in rows:
    g_metric, g_time = results['graphnet']
    t_metric, t_time = results.get('TF 1.15', (float('nan'), float('nan')))
    print(
      f'| {name} | {g_metric:.4f} | {t_metric:.4f} | {g_time:.1f} | '
      f'{t_time:.1f} |'
    )
  if args.record and recorded:
    old = {}
    if os.path.exists(RECORD):
      with open(RECORD) as f:
        old = json.load(f)
    for name, values in recorded.items():
      old[name] = {
        'metric': sum(values) / len(values),
        'runs': values,
        'args': PROGRAMS[name].args,
      }
    with open(RECORD, 'w') as f:
      json.dump(old, f, indent=1, sort_keys=True)
      f.write('\n')
    print(f'wrote {RECORD}')


if __name__ == '__main__':
  main()
