r"""The CNN Estimator tutorial under real TF 1.15 and under graphnet.

Runs tests/tf1_programs/estimator_cnn.py twice on the same budget: under
TF 1.15 (../tf1venv/bin/python, the program's two import lines changed
back to `import tensorflow as tf` and the tutorials' `input_data`) and
under graphnet; prints each one's test accuracy (full 10000-image MNIST
test set), its wall time, and the difference in points.

    python scripts/estimator_accuracy.py --steps 1500
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROGRAM = os.path.join(_REPO, 'tests', 'tf1_programs', 'estimator_cnn.py')
IMPORTS = {
  'import graphnet.compat.v1 as tf\n': 'import tensorflow as tf\n',
  'from graphnet import input_data\n': (
    'from tensorflow.examples.tutorials.mnist import input_data\n'
  ),
}


def _tf1_source():
  with open(PROGRAM, encoding='utf-8') as f:
    source = f.read()
  for ours, theirs in IMPORTS.items():
    assert ours in source, ours
    source = source.replace(ours, theirs)
  return source


def _run(python, program, work, args):
  env = dict(os.environ, PYTHONPATH=_REPO, TF_CPP_MIN_LOG_LEVEL='2')
  began = time.time()
  done = subprocess.run(
    [
      python,
      program,
      '--data_dir',
      os.path.join(work, 'data'),
      '--model_dir',
      os.path.join(work, 'model'),
      *args,
    ],
    capture_output=True,
    text=True,
    env=env,
    timeout=7200,
    check=False,
  )
  if done.returncode:
    sys.exit(f'{program} failed:\n{done.stderr[-3000:]}')
  result = json.loads(done.stdout.strip().splitlines()[-1])
  return result, time.time() - began


def main():
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument('--steps', type=int, default=1500)
  parser.add_argument('--learning_rate', type=float, default=0.05)
  parser.add_argument('--conv1', type=int, default=32)
  parser.add_argument('--conv2', type=int, default=64)
  parser.add_argument('--dense', type=int, default=1024)
  parser.add_argument('--mnist_dir', default='../shared/datasets/mnist')
  parser.add_argument('--tf1_python', default='../tf1venv/bin/python')
  args = parser.parse_args()
  common = [
    '--steps',
    str(args.steps),
    '--learning_rate',
    str(args.learning_rate),
    '--conv1',
    str(args.conv1),
    '--conv2',
    str(args.conv2),
    '--dense',
    str(args.dense),
  ]
  results = {}
  with tempfile.TemporaryDirectory() as root:
    for name, python in (
      ('tf1', args.tf1_python),
      ('graphnet', sys.executable),
    ):
      work = os.path.join(root, name)
      shutil.copytree(args.mnist_dir, os.path.join(work, 'data'))
      program = PROGRAM
      if name == 'tf1':
        program = os.path.join(work, 'estimator_cnn_tf1.py')
        with open(program, 'w', encoding='utf-8') as f:
          f.write(_tf1_source())
      results[name] = _run(python, program, work, common)
      metrics, secs = results[name]
      print(
        f'{name:9s} accuracy {metrics["accuracy"]:.4f} loss '
        f'{metrics["loss"]:.4f} step {metrics["global_step"]:.0f} '
        f'({secs:.0f} s)',
        flush=True,
      )
  diff = results['graphnet'][0]['accuracy'] - results['tf1'][0]['accuracy']
  print(f'difference: {100 * diff:+.2f} points')


if __name__ == '__main__':
  main()
