"""Fault injection: a learning rate that makes the loss NaN or infinite.

Training must stop with `DivergenceError` naming the step (exit 1 with
'graphnet: error:' from the CLI), and no diverged step may be saved: every
checkpoint left (in particular the latest) holds finite weights, restores
through its `.meta` graph and predicts classes 0..9 with finite
probabilities.
"""

import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.training import config as config_lib
from graphnet.training import schedules
from graphnet.training import trainer

import _helpers


def _record(ok):
  _helpers.record_stats('divergence', {'tried': 1, 'ok': ok})


def _check_every_checkpoint_finite_and_predicts(log_dir):
  state = tf.train.get_checkpoint_state(log_dir)
  assert state is not None and state.all_model_checkpoint_paths
  for prefix in state.all_model_checkpoint_paths:
    if not os.path.isabs(prefix):
      prefix = os.path.join(log_dir, prefix)
    reader = tf.train.load_checkpoint(prefix)
    for name in reader.get_variable_to_shape_map():
      value = reader.get_tensor(name)
      if np.issubdtype(np.asarray(value).dtype, np.floating):
        assert np.isfinite(value).all(), (prefix, name)
  latest = tf.train.latest_checkpoint(log_dir)
  images = np.random.default_rng(0).random((20, 784), dtype=np.float32)
  graph = tf.Graph()
  with graph.as_default(), tf.Session(graph=graph) as sess:
    saver = tf.train.import_meta_graph(latest + '.meta', clear_devices=True)
    saver.restore(sess, latest)
    classes, probs = sess.run(
      ['predictions:0', 'probabilities:0'], {'images:0': images}
    )
  assert ((classes >= 0) & (classes <= 9)).all()
  assert np.isfinite(probs).all()


@pytest.mark.parametrize('pipeline, rate', [('feed', 1e30), ('resident', 1e30)])
def test_divergence_stops_and_keeps_last_good_checkpoint(
  tmp_path, pipeline, rate
):
  log_dir = str(tmp_path / 'logs')
  resident = pipeline == 'resident'
  with pytest.raises(errors.DivergenceError) as caught:
    trainer.run_training(
      config_lib.TrainConfig(
        log_dir=log_dir,
        input_data_dir=str(tmp_path / 'data'),
        fake_data=True,
        max_steps=500,
        # Save after every run: a diverged step would be saved if it could.
        save_checkpoint_steps=10 if resident else 1,
        keep_checkpoint_max=1000,
        schedule=schedules.Schedule(base_rate=rate),
        input_pipeline=pipeline,
        steps_per_run=10 if resident else 1,
        seed=1,
      ),
      printer=lambda line: None,
    )
  assert re.search(r'at step \d+', str(caught.value))
  _check_every_checkpoint_finite_and_predicts(log_dir)
  _record(True)


def test_cli_divergence_exits_1_naming_the_step(tmp_path):
  log_dir = str(tmp_path / 'logs')
  done = subprocess.run(
    [
      sys.executable,
      '-m',
      'graphnet.fully_connected_feed',
      '--fake_data',
      '--learning_rate',
      '1e30',
      '--save_checkpoint_steps',
      '1',
      '--max_steps',
      '200',
      '--log_dir',
      log_dir,
      '--input_data_dir',
      str(tmp_path / 'data'),
    ],
    capture_output=True,
    text=True,
    timeout=300,
    env=dict(os.environ, TEST_TMPDIR=str(tmp_path / 'root')),
  )
  assert done.returncode == 1, done.stderr[-2000:]
  assert re.search(
    r'graphnet: error: Training diverged: .* at step \d+', (done.stderr)
  )
  assert 'Traceback' not in done.stderr
  _check_every_checkpoint_finite_and_predicts(log_dir)
  _record(True)
