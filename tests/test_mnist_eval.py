"""Tests of graphnet.continuous_eval and the mnist_eval entry point."""

import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from tensorboard.backend.event_processing.event_accumulator import (
  EventAccumulator,
)

from graphnet import errors
from graphnet.data import mnist_reader as input_data
from graphnet.nn import mlp as mnist
from graphnet.training import checkpoint_eval
from graphnet.training import config
from graphnet.training import continuous_eval
from graphnet.training import schedules
from graphnet.training import train_graph
from graphnet.training import trainer

_REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_STEPS = 100
_HIDDEN = (16, 8)
# The class every example gets from the tampered raw weights.
_RAW_CLASS = 3


def _train(log_dir, data_dir, decay):
  return trainer.run_training(
    config.TrainConfig(
      log_dir=str(log_dir),
      input_data_dir=str(data_dir),
      model=config.ModelConfig(hidden1=_HIDDEN[0], hidden2=_HIDDEN[1]),
      schedule=schedules.Schedule(base_rate=0.1),
      moving_average_decay=decay,
      max_steps=_STEPS,
      eval_every=_STEPS,
      save_checkpoint_steps=_STEPS,
      seed=0,
    ),
    printer=lambda line: None,
  )


def _tamper_raw_weights(prefix, out_dir):
  """Copies checkpoint `prefix` to `out_dir`, raw weights predicting 3.

  The moving averages are kept, so only an evaluator that restores them
  scores like the trainer did.
  """
  step = int(tf.train.load_variable(prefix, 'global_step'))
  with tf.Graph().as_default():
    var_list = {}
    for name, _ in tf.train.list_variables(prefix):
      value = tf.train.load_variable(prefix, name)
      if name == 'softmax_linear/weights':
        value = np.zeros_like(value)
      elif name == 'softmax_linear/biases':
        value = np.eye(mnist.NUM_CLASSES, dtype=value.dtype)[_RAW_CLASS]
      var_list[name] = tf.Variable(value, name='v')
    saver = tf.train.Saver(var_list)
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      return saver.save(sess, os.path.join(out_dir, 'model.ckpt'), step)


def _raw_accuracy(prefix, data_set):
  """Accuracy of the plain (not averaged) variables of `prefix`."""
  with tf.Graph().as_default():
    images, labels = mnist.placeholder_inputs()
    logits = mnist.inference(images, *_HIDDEN)
    correct = mnist.evaluation(logits, labels)
    saver = tf.train.Saver(tf.global_variables())
    with tf.Session() as sess:
      saver.restore(sess, prefix)
      n = sess.run(correct, {images: data_set.images, labels: data_set.labels})
  return n / data_set.num_examples


@pytest.fixture(scope='module')
def data_sets(data_dir):
  return input_data.read_data_sets(str(data_dir))


@pytest.fixture(scope='module')
def plain(tmp_path_factory, data_dir):
  log_dir = tmp_path_factory.mktemp('plain')
  return log_dir, _train(log_dir, data_dir, 0.0)


@pytest.fixture(scope='module')
def averaged(tmp_path_factory, data_dir):
  """(dir, TrainResult) of an EMA run whose raw weights were replaced."""
  log_dir = tmp_path_factory.mktemp('ema_train')
  result = _train(log_dir, data_dir, 0.99)
  tampered = tmp_path_factory.mktemp('ema')
  _tamper_raw_weights(result.checkpoint, str(tampered))
  return tampered, result


def _copy_checkpoint(prefix, out_dir):
  """Copies a checkpoint's files, then its state file (as the Saver does)."""
  for name in os.listdir(os.path.dirname(prefix)):
    if name.startswith(os.path.basename(prefix) + '.'):
      shutil.copy(os.path.join(os.path.dirname(prefix), name), out_dir)
  copied = os.path.join(out_dir, os.path.basename(prefix))
  tf.train.update_checkpoint_state(out_dir, copied)
  return copied


class _FakeTime:
  """A clock that only moves when `sleep` is called."""

  def __init__(self, on_sleep=None):
    self.now = 0.0
    self.sleeps = []
    self._on_sleep = on_sleep

  def clock(self):
    return self.now

  def sleep(self, secs):
    assert secs > 0
    self.sleeps.append(secs)
    self.now += secs
    if self._on_sleep:
      self._on_sleep(len(self.sleeps))


def _summary(found):
  params = found.network.params
  return (params.hidden1, params.hidden2, found.moving_averages)


class TestReadCheckpointModel:
  def test_plain(self, plain):
    found = checkpoint_eval.read_checkpoint_model(plain[1].checkpoint)
    assert found.network.model == 'mlp'
    assert _summary(found) == (*_HIDDEN, False)

  def test_moving_averages(self, averaged):
    prefix = tf.train.latest_checkpoint(str(averaged[0]))
    found = checkpoint_eval.read_checkpoint_model(prefix)
    assert _summary(found) == (*_HIDDEN, True)

  def test_other_model_is_mismatch(self, tmp_path):
    with tf.Graph().as_default():
      v = tf.Variable(np.zeros([3], np.float32), name='conv1/kernel')
      saver = tf.train.Saver([v])
      with tf.Session() as sess:
        sess.run(v.initializer)
        prefix = saver.save(sess, str(tmp_path / 'model.ckpt'), 7)
    with pytest.raises(errors.CheckpointMismatchError, match='conv1/kernel'):
      checkpoint_eval.read_checkpoint_model(prefix)


class TestEvaluateCheckpoint:
  def test_matches_trainer(self, plain, data_sets):
    result = plain[1]
    for subset in ('validation', 'test'):
      step, accuracy = checkpoint_eval.evaluate_checkpoint(
        result.checkpoint, getattr(data_sets, subset)
      )
      assert step == _STEPS
      assert accuracy == result.evaluations[subset].precision

  def test_uses_moving_averages(self, averaged, data_sets):
    tampered, result = averaged
    prefix = tf.train.latest_checkpoint(str(tampered))
    raw = _raw_accuracy(prefix, data_sets.validation)
    assert raw == np.mean(data_sets.validation.labels == _RAW_CLASS)
    _, accuracy = checkpoint_eval.evaluate_checkpoint(
      prefix, data_sets.validation
    )
    assert accuracy == result.evaluations['validation'].precision
    assert accuracy > raw + 0.3

  def test_missing_data_file(self, plain, data_sets, tmp_path):
    prefix = _copy_checkpoint(plain[1].checkpoint, str(tmp_path))
    os.remove(prefix + '.data-00000-of-00001')
    with pytest.raises(errors.CheckpointError, match='incomplete'):
      checkpoint_eval.evaluate_checkpoint(prefix, data_sets.validation)


def _loop(directory, data_set, fake, **options):
  """evaluation_loop on `fake`'s clock; returns (records, printed lines)."""
  lines = []
  records = continuous_eval.evaluation_loop(
    str(directory),
    data_set,
    printer=lines.append,
    sleep=fake.sleep,
    clock=fake.clock,
    **options,
  )
  return records, lines


class TestEvaluationLoop:
  def test_no_checkpoint_waits_then_times_out(self, tmp_path, data_sets):
    fake = _FakeTime()
    records, lines = _loop(
      tmp_path, data_sets.validation, fake, interval_secs=10, timeout_secs=25
    )
    assert records == []
    assert fake.sleeps == [10, 10, 5]
    assert lines.count('No checkpoint file found') == 4

  def test_run_once_without_checkpoint(self, tmp_path, data_sets):
    fake = _FakeTime()
    records, lines = _loop(tmp_path, data_sets.validation, fake, run_once=True)
    assert (records, lines, fake.sleeps) == (
      [],
      ['No checkpoint file found'],
      [],
    )

  def test_unlisted_checkpoint_is_not_read(self, tmp_path, plain, data_sets):
    # Files the Saver wrote before it updated the 'checkpoint' state file.
    result = plain[1]
    shutil.copytree(os.path.dirname(result.checkpoint), tmp_path / 'logs')
    os.remove(tmp_path / 'logs' / 'checkpoint')
    lines = []
    records = continuous_eval.evaluation_loop(
      str(tmp_path / 'logs'),
      data_sets.validation,
      run_once=True,
      printer=lines.append,
    )
    assert (records, lines) == ([], ['No checkpoint file found'])

  def test_new_checkpoint_evaluated_once(self, tmp_path, plain, data_sets):
    ckpt_dir, eval_dir = tmp_path / 'logs', tmp_path / 'eval'
    ckpt_dir.mkdir()
    result = plain[1]

    def appear(n):
      if n == 2:
        _copy_checkpoint(result.checkpoint, str(ckpt_dir))

    fake = _FakeTime(appear)
    records, lines = _loop(
      ckpt_dir,
      data_sets.validation,
      fake,
      interval_secs=10,
      timeout_secs=45,
      eval_dir=str(eval_dir),
    )
    precision = result.evaluations['validation'].precision
    assert [(r.step, r.accuracy) for r in records] == [(_STEPS, precision)]
    after = [line for line in lines if line.startswith('After')]
    assert after == [
      f'After {_STEPS} training step(s), validation accuracy = {precision:g}'
    ]
    # Watching, it then says once what it waits for (issue 24).
    waiting = [line for line in lines if line.startswith('Waiting')]
    assert len(waiting) == 1
    assert f'newer than step {_STEPS}' in waiting[0]
    # Timeout counts from the evaluation (at t=20), not from the start.
    assert fake.now == 20 + 45
    acc = EventAccumulator(str(eval_dir), size_guidance={'scalars': 0})
    acc.Reload()
    events = acc.Scalars('accuracy/validation')
    assert [(e.step, e.value) for e in events] == [
      (_STEPS, pytest.approx(precision))
    ]

  def test_vanished_and_corrupt_checkpoints_are_skipped(
    self, tmp_path, plain, data_sets
  ):
    result = plain[1]
    # The state file names a checkpoint keep_checkpoint_max has deleted.
    tf.train.update_checkpoint_state(
      str(tmp_path), str(tmp_path / 'model.ckpt-99')
    )

    def fix(n):
      if n == 1:
        prefix = _copy_checkpoint(result.checkpoint, str(tmp_path))
        # Half-written data: the read fails.
        data = prefix + '.data-00000-of-00001'
        with open(data, 'r+b') as f:
          f.truncate(os.path.getsize(data) // 2)
      elif n == 2:
        _copy_checkpoint(result.checkpoint, str(tmp_path))

    records, lines = _loop(
      tmp_path,
      data_sets.validation,
      _FakeTime(fix),
      interval_secs=10,
      timeout_secs=15,
    )
    assert len(records) == 1 and records[0].step == _STEPS
    assert sum(line.startswith('Skipping') for line in lines) == 2

  def test_other_model_stops_the_loop(self, tmp_path, data_sets):
    with tf.Graph().as_default():
      v = tf.Variable(np.zeros([3], np.float32), name='embedding')
      saver = tf.train.Saver([v])
      with tf.Session() as sess:
        sess.run(v.initializer)
        saver.save(sess, str(tmp_path / 'model.ckpt'), 5)
    with pytest.raises(errors.CheckpointMismatchError):
      continuous_eval.evaluation_loop(
        str(tmp_path), data_sets.validation, run_once=True
      )

  def test_rejects_bad_interval(self, tmp_path, data_sets):
    with pytest.raises(errors.ConfigError, match='interval_secs'):
      continuous_eval.evaluation_loop(
        str(tmp_path), data_sets.validation, interval_secs=0
      )


def _cli_args(*flags):
  return [sys.executable, '-m', 'graphnet.mnist_eval', *flags]


def _env():
  env = dict(os.environ)
  env['PYTHONPATH'] = _REPO + os.pathsep + env.get('PYTHONPATH', '')
  env['TF_CPP_MIN_LOG_LEVEL'] = '2'
  return env


def _run_cli(*flags, timeout=120):
  return subprocess.run(
    _cli_args(*flags),
    capture_output=True,
    text=True,
    env=_env(),
    timeout=timeout,
  )


class TestCli:
  def test_run_once_line_and_summary(self, plain, data_dir):
    log_dir, result = plain
    proc = _run_cli(
      f'--checkpoint_dir={log_dir}',
      f'--input_data_dir={data_dir}',
      '--run_once',
    )
    assert proc.returncode == 0, proc.stderr
    precision = result.evaluations['validation'].precision
    assert proc.stdout.splitlines() == [
      f'After {_STEPS} training step(s), validation accuracy = {precision:g}'
    ]
    acc = EventAccumulator(
      str(log_dir / 'eval_validation'), size_guidance={'scalars': 0}
    )
    acc.Reload()
    (event,) = acc.Scalars('accuracy/validation')
    assert event.step == _STEPS
    assert event.value == pytest.approx(precision)

  def test_run_once_moving_averages_on_test(self, averaged, data_dir, tmp_path):
    tampered, result = averaged
    proc = _run_cli(
      f'--checkpoint_dir={tampered}',
      f'--input_data_dir={data_dir}',
      f'--eval_dir={tmp_path / "ev"}',
      '--subset=test',
      '--run_once',
    )
    assert proc.returncode == 0, proc.stderr
    precision = result.evaluations['test'].precision
    assert proc.stdout.splitlines() == [
      f'After {_STEPS} training step(s), test accuracy = {precision:g}'
    ]
    assert os.listdir(tmp_path / 'ev')

  def test_no_checkpoint_times_out_without_busy_loop(self, tmp_path, data_dir):
    start = time.monotonic()
    proc = _run_cli(
      f'--checkpoint_dir={tmp_path}',
      f'--input_data_dir={data_dir}',
      '--eval_interval_secs=0.5',
      '--timeout_secs=1.2',
    )
    assert proc.returncode == 0, proc.stderr
    polls = proc.stdout.splitlines().count('No checkpoint file found')
    # 1.2 s at one poll per 0.5 s (and a last one): four, not thousands.
    assert 1 <= polls <= 4
    assert 'stopping the evaluator' in proc.stdout
    assert time.monotonic() - start >= 1.2

  @pytest.mark.parametrize(
    'flag,name',
    [
      ('--eval_interval_secs=-1', 'eval_interval_secs'),
      ('--subset=train', 'subset'),
    ],
  )
  def test_bad_flag_is_usage_error(self, tmp_path, flag, name):
    logs = tmp_path / 'logs'
    proc = _run_cli(
      f'--checkpoint_dir={logs}',
      f'--input_data_dir={tmp_path / "data"}',
      flag,
    )
    assert proc.returncode != 0
    assert f'--{name}' in proc.stderr
    assert not logs.exists() and not (tmp_path / 'data').exists()

  @pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM])
  def test_signal_stops_cleanly(self, tmp_path, data_dir, sig):
    with open(tmp_path / 'stderr', 'w') as err:
      proc = subprocess.Popen(
        _cli_args(
          f'--checkpoint_dir={tmp_path}',
          f'--input_data_dir={data_dir}',
          '--eval_interval_secs=60',
        ),
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        env=_env(),
      )
      try:
        first = proc.stdout.readline()
        assert first.strip() == 'No checkpoint file found'
        proc.send_signal(sig)
        out, _ = proc.communicate(timeout=30)
      finally:
        if proc.poll() is None:
          proc.kill()
    assert proc.returncode == 0
    assert f'Evaluator stopped ({sig.name})' in out


class _Small:
  """Random images with random labels: only agreement matters here."""

  def __init__(self, n, seed):
    rng = np.random.default_rng(seed)
    self.images = rng.random((n, mnist.IMAGE_PIXELS), dtype=np.float32)
    self.labels = rng.integers(0, 10, n).astype(np.int32)


class TestConvCheckpoints:
  @pytest.mark.parametrize('batch_norm', [False, True])
  def test_conv_checkpoint_scores_as_its_own_graph(self, tmp_path, batch_norm):
    cfg = config.TrainConfig(
      log_dir=str(tmp_path),
      input_data_dir=str(tmp_path / 'data'),
      model=config.ModelConfig(model='conv', batch_norm=batch_norm),
      moving_average_decay=0.5,
      seed=3,
    )
    data = _Small(64, seed=4)
    fake = input_data.read_data_sets('', fake_data=True)
    tg = train_graph.build_train_graph(cfg, fake)
    with tg.graph.as_default(), tf.Session() as sess:
      sess.run(
        [tf.global_variables_initializer(), tf.local_variables_initializer()]
      )
      for _ in range(3):
        sess.run(tg.train_op, {tg.images: data.images, tg.labels: data.labels})
      prefix = tg.saver.save(sess, str(tmp_path / 'model.ckpt'), global_step=3)
      expected = sess.run('predictions:0', {'images:0': data.images})
    found = checkpoint_eval.read_checkpoint_model(prefix)
    batch_norm_found = found.network.params.batch_norm
    assert (found.network.model, batch_norm_found, found.moving_averages) == (
      'conv',
      batch_norm,
      True,
    )
    # Labelled with the saved graph's own predictions, only the same
    # weights (averages, moving batch-norm statistics, no dropout) score 1.
    data.labels = expected.astype(np.int32)
    step, accuracy = checkpoint_eval.evaluate_checkpoint(prefix, data)
    assert step == 3
    assert accuracy == 1.0
