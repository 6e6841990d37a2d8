"""The tutorial CNN Estimator (tf.layers, numpy_input_fn) runs as written.

The default test trains a narrow copy 30 steps in-process; the slow one
runs scripts/estimator_accuracy.py, the same program under TF 1.15 and
graphnet on one budget, and wants the accuracies within half a point.
"""

import os
import runpy
import subprocess
import sys

import pytest

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
_PROGRAM = os.path.join(_REPO, 'tests', 'tf1_programs', 'estimator_cnn.py')


def test_cnn_tutorial_trains_and_evaluates(data_dir, tmp_path):
  program = runpy.run_path(_PROGRAM, run_name='estimator_cnn')
  model_dir = tmp_path / 'model'
  result = program['main'](
    [
      f'--data_dir={data_dir}',
      f'--model_dir={model_dir}',
      '--steps=30',
      '--conv1=8',
      '--conv2=16',
      '--dense=64',
      '--learning_rate=0.05',
      '--train_size=2000',
      '--eval_size=500',
    ]
  )
  assert result['global_step'] == 30
  assert result['accuracy'] > 0.3
  import graphnet.compat.v1 as tf

  names = dict(tf.train.list_variables(str(model_dir)))
  # TF1's tf.layers names, so TF 1.x checkpoints of the tutorial restore.
  assert names['conv2d/kernel'] == [5, 5, 1, 8]
  assert names['conv2d_1/kernel'] == [5, 5, 8, 16]
  assert names['dense/kernel'] == [7 * 7 * 16, 64]
  assert names['dense_1/bias'] == [10]


@pytest.mark.slow
def test_cnn_accuracy_matches_tf1():
  done = subprocess.run(
    [
      sys.executable,
      os.path.join(_REPO, 'scripts', 'estimator_accuracy.py'),
      '--steps=1000',
      '--conv1=16',
      '--conv2=32',
      '--dense=256',
    ],
    capture_output=True,
    text=True,
    timeout=3600,
  )
  assert done.returncode == 0, done.stderr[-3000:]
  last = done.stdout.strip().splitlines()[-1]
  points = float(last.split()[1])
  assert abs(points) <= 0.5, done.stdout
