r"""An LSTM training step under graphnet and under TF 1.15, side by side.

Runs tests/tf1_programs/lstm_mnist.py (BasicLSTMCell, 128 units, 28 steps
of 28 pixels, batch 128, Adam) for --steps steps, static_rnn and
dynamic_rnn, alternately under graphnet's venv and (imports swapped back,
as scripts/tf1_programs_accuracy.py does) under TF 1.15's, --runs times
each, and prints the median training step time each run printed (its
first 20 steps left out; wall, and CPU of all the process's threads, the
steadier figure on a shared machine) and the medians over runs:

    python scripts/bench_lstm_step.py [--runs 3] \
        [--steps 220] [--tf1_python ../tf1venv/bin/python]

Both sides run the same graph on the same machine; the figure is the
`sess.run(train_op)` call alone, batches made outside it.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tf1_programs_accuracy  # noqa: E402

_PROGRAM = os.path.join(tf1_programs_accuracy.PROGRAM_DIR, 'lstm_mnist.py')
_STEP_MS = re.compile(r'median train step ms ([0-9.]+)')
_STEP_CPU_MS = re.compile(r'median train step cpu ms ([0-9.]+)')


def run(python, work_dir, rnn, steps, tf1):
  """One run of lstm_mnist.py; returns its median step (wall, CPU) ms."""
  data_dir = os.path.join(work_dir, 'data')
  path = _PROGRAM
  if tf1:
    os.makedirs(data_dir, exist_ok=True)
    for gz in os.listdir(tf1_programs_accuracy.MNIST_DIR):
      shutil.copy(os.path.join(tf1_programs_accuracy.MNIST_DIR, gz), data_dir)
    with open(_PROGRAM) as f:
      source = tf1_programs_accuracy.to_tf1(f.read())
    path = os.path.join(work_dir, 'lstm_mnist_tf1.py')
    with open(path, 'w') as f:
      f.write(source)
  done = subprocess.run(
    [python, path, '--data_dir', data_dir, '--steps', str(steps)]
    + ['--rnn', rnn],
    cwd=work_dir,
    env=dict(
      os.environ,
      PYTHONPATH=tf1_programs_accuracy._REPO,
      TF_CPP_MIN_LOG_LEVEL='2',
    ),
    capture_output=True,
    text=True,
    timeout=tf1_programs_accuracy.TIMEOUT,
  )
  wall = _STEP_MS.findall(done.stdout)
  cpu = _STEP_CPU_MS.findall(done.stdout)
  if done.returncode != 0 or not wall or not cpu:
    raise RuntimeError(f'lstm_mnist ({python}) failed:\n{done.stderr[-3000:]}')
  return float(wall[-1]), float(cpu[-1])


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--runs', type=int, default=3)
  parser.add_argument('--steps', type=int, default=220)
  parser.add_argument('--rnn', default='static,dynamic')
  parser.add_argument('--tf1_python', default=tf1_programs_accuracy.TF1_PYTHON)
  args = parser.parse_args()
  sides = (
    ('graphnet', sys.executable, False),
    ('TF 1.15', args.tf1_python, True),
  )
  print(
    '| rnn | graphnet step ms | TF 1.15 step ms | graphnet CPU ms | '
    'TF 1.15 CPU ms | runs (wall graphnet/TF 1.15) |'
  )
  print('|---|---|---|---|---|---|')
  for rnn in args.rnn.split(','):
    times = {side: [] for side, _, _ in sides}
    for _ in range(args.runs):
      for side, python, tf1 in sides:
        with tempfile.TemporaryDirectory() as work_dir:
          wall, cpu = run(python, work_dir, rnn, args.steps, tf1)
        times[side].append((wall, cpu))
        print(
          f'  {rnn} {side}: {wall:.2f} ms, CPU {cpu:.2f} ms', file=sys.stderr
        )
    graphnet, tf1 = (times[side] for side, _, _ in sides)
    medians = [
      statistics.median(t[k] for t in side)
      for side in (graphnet, tf1)
      for k in (0, 1)
    ]
    runs = ', '.join(
      f'{a[0]:.1f}/{b[0]:.1f}' for a, b in zip(graphnet, tf1, strict=True)
    )
    print(
      f'| {rnn} | {medians[0]:.2f} | {medians[2]:.2f} | {medians[1]:.2f} | '
      f'{medians[3]:.2f} | {runs} |'
    )


if __name__ == '__main__':
  main()
