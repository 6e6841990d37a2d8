"""Tests of graphnet.trainer: real sessions, checkpoints and events files."""

import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from tensorboard.backend.event_processing import event_accumulator

from graphnet import errors
from graphnet.cli import train_flags
from graphnet.training import config as config_lib
from graphnet.training import schedules
from graphnet.training import trainer

tf.disable_eager_execution()

_STEP_LINE = re.compile(
  r'^Step (\d+): loss = \d+\.\d\d \(\d+\.\d{3} sec\)'
  r'( \d+\.\d steps/sec, ETA \S+)?$'
)
_EVAL_LINE = re.compile(
  r'^Num examples: (\d+)  Num correct: (\d+)  Precision @ 1: (\d\.\d{4})$'
)


def _train(log_dir, data_dir, fake=True, **overrides):
  lines = []
  cfg = config_lib.TrainConfig(
    log_dir=str(log_dir),
    input_data_dir=str(data_dir),
    fake_data=fake,
    **overrides,
  )
  result = trainer.run_training(cfg, printer=lines.append)
  return result, lines


def _eval_blocks(lines):
  """[(title, num_examples, num_correct, precision)] in printed order."""
  blocks = []
  for title_line, line in zip(lines, lines[1:], strict=False):
    match = _EVAL_LINE.match(line)
    if match and title_line.endswith('Data Eval:'):
      blocks.append(
        (
          title_line.split()[0],
          int(match.group(1)),
          int(match.group(2)),
          float(match.group(3)),
        )
      )
  return blocks


class TestFakeData:
  def test_trains_logs_evaluates_and_checkpoints(self, tmp_path):
    result, lines = _train(
      tmp_path / 'logs',
      tmp_path / 'data',
      max_steps=30,
      log_every=10,
      eval_every=20,
      save_checkpoint_steps=20,
    )
    steps = [int(_STEP_LINE.match(x).group(1)) for x in lines if 'loss' in x]
    assert steps == [0, 10, 20]
    assert all(_STEP_LINE.match(x) for x in lines if x.startswith('Step'))
    titles = [b[0] for b in _eval_blocks(lines)]
    # At step 20 and at the last step, 30.
    assert titles == ['Training', 'Validation', 'Test'] * 2
    assert result.global_step == 30
    assert result.checkpoint.endswith('model.ckpt-30')
    for suffix in ('.index', '.meta', '.data-00000-of-00001'):
      assert os.path.exists(result.checkpoint + suffix)
    assert set(result.evaluations) == {'train', 'validation', 'test'}

  def test_eval_sets_limits_what_is_evaluated(self, tmp_path):
    result, lines = _train(
      tmp_path / 'logs',
      tmp_path / 'data',
      max_steps=20,
      eval_every=10,
      eval_sets=('test', 'validation'),
    )
    # Printed in TF1's order whatever the order asked for.
    titles = [b[0] for b in _eval_blocks(lines)]
    assert titles == ['Validation', 'Test'] * 2
    assert set(result.evaluations) == {'validation', 'test'}
    accumulator = event_accumulator.EventAccumulator(str(tmp_path / 'logs'))
    accumulator.Reload()
    tags = set(accumulator.Tags()['scalars'])
    assert {'precision/validation', 'precision/test'} <= tags
    assert 'precision/train' not in tags

  def test_resume_continues_the_global_step(self, tmp_path):
    _train(tmp_path / 'logs', tmp_path / 'data', max_steps=20, log_every=10)
    result, lines = _train(
      tmp_path / 'logs', tmp_path / 'data', max_steps=35, log_every=10
    )
    first_step = int(_STEP_LINE.match(lines[0]).group(1))
    assert first_step == 20
    assert result.global_step == 35

  def test_resume_at_max_steps_trains_nothing(self, tmp_path):
    _train(tmp_path / 'logs', tmp_path / 'data', max_steps=10)
    before = {
      p.name: p.stat().st_mtime_ns for p in (tmp_path / 'logs').iterdir()
    }
    result, lines = _train(tmp_path / 'logs', tmp_path / 'data', max_steps=10)
    assert result.global_step == 10
    assert result.evaluations == {}
    # One line, no old evaluation re-printed, nothing re-saved.
    assert lines == [
      'already trained to step 10 (>= --max_steps 10): nothing to train; '
      'use a larger --max_steps or a new --log_dir'
    ]
    after = {
      p.name: p.stat().st_mtime_ns for p in (tmp_path / 'logs').iterdir()
    }
    assert after == before

  def test_other_model_in_log_dir_is_refused_and_kept(self, tmp_path):
    log_dir = tmp_path / 'logs'
    model = config_lib.ModelConfig(hidden1=16, hidden2=8)
    _train(log_dir, tmp_path / 'data', max_steps=5, model=model)
    before = {p.name: p.stat().st_mtime_ns for p in log_dir.iterdir()}
    other = config_lib.ModelConfig(hidden1=32, hidden2=8)
    with pytest.raises(errors.CheckpointMismatchError) as raised:
      _train(log_dir, tmp_path / 'data', max_steps=10, model=other)
    message = str(raised.value)
    assert 'hidden1/weights' in message
    assert '[784, 16]' in message and '[784, 32]' in message
    assert 'new --log_dir' in message
    after = {p.name: p.stat().st_mtime_ns for p in log_dir.iterdir()}
    assert after == before

  def test_log_dir_that_is_a_file_is_a_clear_error(self, tmp_path):
    blocker = tmp_path / 'file'
    blocker.write_text('not a directory')
    with pytest.raises(errors.ConfigError, match='--log_dir'):
      _train(blocker / 'logs', tmp_path / 'data', max_steps=5)

  def test_divergence_stops_and_keeps_last_good_checkpoint(self, tmp_path):
    log_dir = tmp_path / 'logs'
    _train(log_dir, tmp_path / 'data', max_steps=10)
    good = tf.train.latest_checkpoint(str(log_dir))
    with pytest.raises(errors.DivergenceError, match=r'at step \d+'):
      _train(
        log_dir,
        tmp_path / 'data',
        fake=False,
        max_steps=200,
        schedule=schedules.Schedule(base_rate=1e30),
      )
    latest = tf.train.latest_checkpoint(str(log_dir))
    reader = tf.train.load_checkpoint(latest)
    for name in reader.get_variable_to_shape_map():
      value = reader.get_tensor(name)
      if np.issubdtype(np.asarray(value).dtype, np.floating):
        assert np.all(np.isfinite(value)), name
    assert int(reader.get_tensor('global_step')) >= int(good.split('-')[-1])


class TestMovingAverages:
  def test_outputs_use_the_averaged_weights(self, tmp_path):
    log_dir = tmp_path / 'logs'
    result, lines = _train(
      log_dir,
      tmp_path / 'data',
      max_steps=20,
      moving_average_decay=0.9,
      model=config_lib.ModelConfig(hidden1=8, hidden2=0),
    )
    assert any('moving averages' in x for x in lines)
    reader = tf.train.load_checkpoint(result.checkpoint)
    get = reader.get_tensor
    avg = '/ExponentialMovingAverage'
    images = np.random.RandomState(0).rand(5, 784).astype(np.float32)
    hidden = np.maximum(
      images @ get('hidden1/weights' + avg) + get('hidden1/biases' + avg), 0
    )
    expected = hidden @ get('softmax_linear/weights' + avg) + get(
      'softmax_linear/biases' + avg
    )
    raw_hidden = np.maximum(
      images @ get('hidden1/weights') + get('hidden1/biases'), 0
    )
    raw = raw_hidden @ get('softmax_linear/weights') + get(
      'softmax_linear/biases'
    )
    assert not np.allclose(expected, raw, atol=1e-4)
    with tf.Graph().as_default(), tf.Session() as sess:
      saver = tf.train.import_meta_graph(result.checkpoint + '.meta')
      saver.restore(sess, result.checkpoint)
      got = sess.run('logits:0', {'images:0': images})
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


class TestEvents:
  def test_events_hold_graph_scalars_and_precisions(self, tmp_path):
    log_dir = tmp_path / 'logs'
    _train(log_dir, tmp_path / 'data', max_steps=20, log_every=5, eval_every=10)
    acc = event_accumulator.EventAccumulator(
      str(log_dir), size_guidance={event_accumulator.SCALARS: 0}
    )
    acc.Reload()
    tags = acc.Tags()
    assert tags['graph']
    for tag in (
      'loss',
      'learning_rate',
      'precision/train',
      'precision/validation',
      'precision/test',
    ):
      assert tag in tags['scalars'], tag
    assert [e.step for e in acc.Scalars('precision/test')] == [10, 20]
    rates = {round(e.value, 6) for e in acc.Scalars('learning_rate')}
    assert rates == {0.01}


class TestRealMnist:
  def test_tutorial_defaults_reach_089(self, tmp_path, data_dir):
    result, lines = _train(tmp_path / 'logs', data_dir, fake=False, seed=1)
    blocks = _eval_blocks(lines)
    assert [b[:2] for b in blocks[-3:]] == [
      ('Training', 55000),
      ('Validation', 5000),
      ('Test', 10000),
    ]
    assert result.evaluations['test'].precision >= 0.89
    assert blocks[-1][3] == pytest.approx(
      result.evaluations['test'].precision, abs=1e-4
    )

  def test_softmax_preset_reaches_091(self, tmp_path, data_dir):
    preset = train_flags.PRESETS['softmax']
    result, _ = _train(
      tmp_path / 'logs',
      data_dir,
      fake=False,
      seed=1,
      max_steps=preset['max_steps'],
      model=config_lib.ModelConfig(hidden1=0, hidden2=0),
      schedule=schedules.Schedule(base_rate=preset['learning_rate']),
    )
    assert result.evaluations['test'].precision >= 0.91

  def test_fresh_process_restores_with_plain_tensorflow(self, tmp_path):
    result, _ = _train(tmp_path / 'logs', tmp_path / 'data', max_steps=5)
    script = textwrap.dedent(
      """
      import sys
      import numpy as np
      import tensorflow.compat.v1 as tf
      tf.disable_eager_execution()
      prefix = sys.argv[1]
      with tf.Session() as sess:
        saver = tf.train.import_meta_graph(prefix + '.meta')
        saver.restore(sess, prefix)
        images = np.random.RandomState(0).rand(3, 784)
        out = sess.run(['predictions:0', 'probabilities:0', 'logits:0'],
                       {'images:0': images})
      print(out[0].dtype, out[0].shape, out[1].shape, out[2].shape)
      print(float(out[1].sum(axis=1).min()))
      """
    )
    done = subprocess.run(
      [sys.executable, '-c', script, result.checkpoint],
      capture_output=True,
      text=True,
      timeout=120,
      check=True,
    )
    shapes, total = done.stdout.strip().splitlines()[-2:]
    assert shapes == 'int64 (3,) (3, 10) (3, 10)'
    assert float(total) == pytest.approx(1.0, abs=1e-5)

  def test_saved_graph_has_only_core_ops(self, tmp_path):
    result, _ = _train(tmp_path / 'logs', tmp_path / 'data', max_steps=5)
    meta = tf.MetaGraphDef()
    with open(result.checkpoint + '.meta', 'rb') as f:
      meta.ParseFromString(f.read())
    op_types = {node.op for node in meta.graph_def.node}
    assert not op_types & {'PyFunc', 'EagerPyFunc', 'PyFuncStateless'}
