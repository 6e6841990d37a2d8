r"""Wall seconds from process start to 0.97 test precision, per contender.

Every contender is a fresh process training the same network (784-128-32-10
ReLU MLP) with the same recipe: SGD lr 0.1, batches of 100 from the bundled
MNIST, the test set (and only it) evaluated every 500 steps. The clock
starts just before the process is spawned and stops when the process
prints the first test precision >= 0.97 (the process is then killed), so
Python's start, imports, data loading, graph building, checkpoints and the
evaluations all count:

  baseline  the plain TF1 loop of scripts/benchmark.py (`--worker baseline
            --target`: tf.Session, feed_dict, one sess.run per step);
  feed      python -m graphnet.fully_connected_feed --steps_per_run 1;
  loop      python -m graphnet.fully_connected_feed (default: 100 batches
            of next_batch fed per session.run);
  fast      the same with --input_pipeline resident;
  keras     tf.keras model.fit (scripts/benchmark.py --worker keras);
  torch     a plain PyTorch loop (scripts/benchmark.py --worker torch),
            when torch is installed.

graphnet runs its command-line defaults otherwise (checkpoints every 1000
steps, summaries every 100). Rounds alternate the contenders' order; the
table gives each contender's median over `--repeats` rounds.

Usage:
  python scripts/time_to_accuracy.py [--repeats 3] [--only fast,torch]
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import benchmark

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_BENCHMARK = os.path.join(_REPO, 'scripts', 'benchmark.py')
TARGET = 0.97
EVAL_EVERY = 500
LEARNING_RATE = 0.1
CONTENDERS = benchmark.CONTENDERS
# The command-line flags of each graphnet contender.
_GRAPHNET_FLAGS = {
  'feed': ['--steps_per_run', '1'],
  'loop': [],
  'fast': ['--input_pipeline', 'resident'],
}
# graphnet prints `Num examples: 10000  Num correct: 9712  Precision @ 1:
# 0.9712` after `Test Data Eval:`; the workers print `CHECK 3500 0.9712`.
_GRAPHNET_EVAL = re.compile(
  r'^Num examples: \d+  Num correct: \d+  '
  r'Precision @ 1: (\d\.\d+)$'
)
_WORKER_CHECK = re.compile(r'^CHECK (\d+) (\d\.\d+)$')


def _command(name, data_dir, log_dir, cap):
  if name in _GRAPHNET_FLAGS:
    return [
      sys.executable,
      '-m',
      'graphnet.fully_connected_feed',
      f'--learning_rate={LEARNING_RATE}',
      f'--eval_every={EVAL_EVERY}',
      '--eval_sets=test',
      '--max_steps=1000000',
      '--seed=0',
      f'--log_dir={log_dir}',
      f'--input_data_dir={data_dir}',
      *_GRAPHNET_FLAGS[name],
    ]
  return [
    sys.executable,
    _BENCHMARK,
    '--worker',
    name,
    '--target',
    '--data_dir',
    data_dir,
    '--cap',
    str(cap),
  ]


def _precisions(lines):
  """(steps, precision) of each check the contender's output reports."""
  checks = 0
  for line in lines:
    line = line.strip()
    match = _WORKER_CHECK.match(line)
    if match:
      yield int(match.group(1)), float(match.group(2))
      continue
    match = _GRAPHNET_EVAL.match(line)
    if match:
      checks += 1
      yield checks * EVAL_EVERY, float(match.group(1))


def time_one(name, data_dir, cap):
  """Runs contender `name` once; returns seconds and steps to the target.

  Returns:
    dict: 'seconds' (None if not reached within `cap`), 'steps' and
    'precision' of the last check seen.
  """
  log_dir = tempfile.mkdtemp(prefix='tta-logs-')
  env = dict(
    os.environ,
    TF_CPP_MIN_LOG_LEVEL='2',
    PYTHONPATH=_REPO + os.pathsep + os.environ.get('PYTHONPATH', ''),
  )
  result = {'seconds': None, 'steps': None, 'precision': None}
  start = time.perf_counter()
  proc = subprocess.Popen(
    _command(name, data_dir, log_dir, cap),
    stdout=subprocess.PIPE,
    stderr=subprocess.DEVNULL,
    text=True,
    env=env,
  )
  try:
    for steps, precision in _precisions(proc.stdout):
      result.update(steps=steps, precision=precision)
      if precision >= TARGET:
        result['seconds'] = time.perf_counter() - start
        break
      if time.perf_counter() - start > cap:
        break
  finally:
    proc.kill()
    proc.wait()
    shutil.rmtree(log_dir, ignore_errors=True)
  return result


def _load():
  with open('/proc/loadavg') as f:
    return ' '.join(f.read().split()[:3])


def _table(runs, repeats, cap, loads):
  lines = [
    f'## Time to {TARGET} test precision ({datetime.date.today()})',
    '',
    f'- {os.cpu_count()} cores, Python {platform.python_version()}; '
    f'{repeats} rounds, order rotated each round; load (1/5/15 min) before '
    f'/ after: {loads[0]} / {loads[-1]}.',
    f'- SGD lr {LEARNING_RATE}, batch 100, test set every {EVAL_EVERY} '
    f'steps; from spawn to the first precision >= {TARGET}; cap {cap:.0f} s.',
    '',
    '| contender | seconds, each round | median | steps (median) |',
    '|---|---|---:|---:|',
  ]
  for name, results in runs.items():
    seconds = [r['seconds'] for r in results]
    shown = ', '.join('-' if s is None else f'{s:.2f}' for s in seconds)
    reached = [s for s in seconds if s is not None]
    median = f'{statistics.median(reached):.2f}' if reached else 'not reached'
    steps = [r['steps'] for r in results if r['seconds'] is not None]
    lines.append(
      f'| {benchmark.TITLES[name]} | {shown} | {median} | '
      f'{statistics.median(steps) if steps else "-"} |'
    )
  return '\n'.join(lines)


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--repeats', type=int, default=3)
  parser.add_argument('--only', default=','.join(CONTENDERS))
  parser.add_argument('--cap', type=float, default=120.0)
  parser.add_argument('--out', help='Also write the markdown table here.')
  args = parser.parse_args()
  names = [
    n for n in args.only.split(',') if n != 'torch' or benchmark.has_torch()
  ]
  data_dir = tempfile.mkdtemp(prefix='tta-mnist-')
  sys.path.insert(0, _REPO)
  from graphnet.data import mnist_reader as input_data

  input_data.read_data_sets(data_dir)  # Copies the bundled files once.
  runs = {name: [] for name in names}
  loads = [_load()]
  for round_index in range(args.repeats):
    shift = round_index % len(names)
    for name in names[shift:] + names[:shift]:
      print(f'[time_to_accuracy] {name} round {round_index + 1}', flush=True)
      runs[name].append(time_one(name, data_dir, args.cap))
  loads.append(_load())
  shutil.rmtree(data_dir, ignore_errors=True)
  table = _table(runs, args.repeats, args.cap, loads)
  print(table)
  if args.out:
    with open(args.out, 'w') as f:
      f.write(table + '\n')


if __name__ == '__main__':
  main()
