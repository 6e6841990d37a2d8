"""graphnet.compat.v1.estimator: train, evaluate, predict, export, guarantees.

One small model (two dense layers on 4 features, 2 classes) trained once
per module; the other tests train a few dozen steps of their own.
"""

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import graphnet.compat.v1 as tf
from graphnet import errors
from graphnet.checkpoints import run_lock
from graphnet.compat.v1 import estimator
from graphnet.compat.v1.estimator import training

_REPO = os.path.dirname(
  os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
_RNG = np.random.RandomState(0)
X = _RNG.randn(600, 4).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(np.int32)


def _dense(x, units, name, activation=None):
  with tf.variable_scope(name):
    kernel = tf.get_variable('kernel', [int(x.shape[-1]), units])
    bias = tf.get_variable('bias', [units], initializer=tf.zeros_initializer())
    y = tf.matmul(x, kernel) + bias
  return activation(y) if activation else y


def model_fn(features, labels, mode, params):
  hidden = _dense(features['x'], 16, 'hidden', tf.nn.relu)
  logits = _dense(hidden, 2, 'logits')
  classes = tf.argmax(logits, 1)
  predictions = {'classes': classes, 'probabilities': tf.nn.softmax(logits)}
  if mode == estimator.ModeKeys.PREDICT:
    return estimator.EstimatorSpec(
      mode,
      predictions=predictions,
      export_outputs={
        'serving_default': estimator.export.PredictOutput(predictions),
        'classify': estimator.export.ClassificationOutput(
          scores=predictions['probabilities']
        ),
      },
    )
  loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
  train_op = tf.train.AdamOptimizer(params.get('lr', 0.02)).minimize(
    loss, tf.train.get_global_step()
  )
  return estimator.EstimatorSpec(
    mode,
    loss=loss,
    train_op=train_op,
    eval_metric_ops={'accuracy': tf.metrics.accuracy(labels, classes)},
  )


def _train_input(batch_size=32):
  return estimator.inputs.numpy_input_fn(
    {'x': X}, Y, batch_size=batch_size, num_epochs=None, shuffle=True
  )


def _eval_input():
  return estimator.inputs.numpy_input_fn(
    {'x': X}, Y, batch_size=200, num_epochs=1, shuffle=False
  )


def _make(model_dir, **config):
  config.setdefault('save_checkpoints_steps', 100)
  config.setdefault('tf_random_seed', 1)
  return estimator.Estimator(
    model_fn,
    model_dir=str(model_dir),
    config=estimator.RunConfig(**config),
    params={'lr': 0.02},
  )


class _Lines(logging.Handler):
  def __init__(self):
    super().__init__()
    self.lines = []

  def emit(self, record):
    self.lines.append(record.getMessage())


@pytest.fixture
def log_lines():
  logger = tf.get_logger()
  handler, level = _Lines(), logger.level
  logger.addHandler(handler)
  logger.setLevel(logging.INFO)
  yield handler.lines
  logger.removeHandler(handler)
  logger.setLevel(level)


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
  """(estimator, model_dir, log lines) of 200 steps of the small model."""
  model_dir = tmp_path_factory.mktemp('est') / 'model'
  logger = tf.get_logger()
  handler, level = _Lines(), logger.level
  logger.addHandler(handler)
  logger.setLevel(logging.INFO)
  try:
    est = _make(model_dir)
    est.train(_train_input(), max_steps=200)
  finally:
    logger.removeHandler(handler)
    logger.setLevel(level)
  return est, str(model_dir), handler.lines


def _event_tags(directory):
  tags = set()
  for name in os.listdir(directory):
    if name.startswith('events.out.tfevents'):
      for event in tf.train.summary_iterator(os.path.join(directory, name)):
        tags.update(v.tag for v in event.summary.value)
  return tags


class TestTrain:
  def test_model_dir_looks_like_tf1(self, trained):
    est, model_dir, _ = trained
    names = set(os.listdir(model_dir))
    for step in (0, 100, 200):
      for suffix in ('index', 'meta', 'data-00000-of-00001'):
        assert f'model.ckpt-{step}.{suffix}' in names
    assert {'checkpoint', 'graph.pbtxt'} <= names
    assert est.latest_checkpoint() == os.path.join(model_dir, 'model.ckpt-200')
    state = open(os.path.join(model_dir, 'checkpoint')).read()
    assert 'model_checkpoint_path: "model.ckpt-200"' in state
    assert {'loss', 'global_step/sec'} <= _event_tags(model_dir)

  def test_console_lines_are_tf1s(self, trained):
    lines = trained[2]
    assert any(
      line.startswith('loss = ') and line.endswith('step = 1') for line in lines
    ), lines
    assert any(
      line.startswith('loss = ')
      and ', step = 101 (' in line
      and line.endswith(' sec)')
      for line in lines
    ), lines
    assert any(line.startswith('global_step/sec: ') for line in lines)
    assert any(line.startswith('Loss for final step: ') for line in lines)

  def test_variables_readable(self, trained):
    est = trained[0]
    names = est.get_variable_names()
    assert {'global_step', 'hidden/kernel', 'logits/bias'} <= set(names)
    assert est.get_variable_value('global_step') == 200
    assert est.get_variable_value('hidden/kernel').shape == (4, 16)

  def test_max_steps_reached_trains_nothing(self, trained, log_lines):
    est, model_dir, _ = trained
    est.train(_train_input(), max_steps=200)
    assert est.get_variable_value('global_step') == 200
    assert any('Skipping training' in line for line in log_lines)

  def test_steps_resume_and_continue(self, tmp_path):
    est = _make(
      tmp_path / 'm', save_checkpoints_steps=None, save_checkpoints_secs=600
    )
    est.train(_train_input(), steps=30)
    est.train(_train_input(), steps=20)
    assert est.get_variable_value('global_step') == 50
    # A new Estimator on the same directory resumes it.
    again = _make(tmp_path / 'm')
    again.train(_train_input(), steps=5)
    assert again.get_variable_value('global_step') == 55

  def test_numpy_input_loop_keeps_model_fn_summaries(self, tmp_path):
    def summary_model_fn(features, labels, mode):
      logits = _dense(features['x'], 2, 'logits')
      tf.nn.softmax(logits, name='softmax_tensor')
      loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
      tf.summary.scalar('batch_loss', loss)
      train_op = tf.train.GradientDescentOptimizer(0.1).minimize(
        loss, tf.train.get_global_step()
      )
      return estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    est = estimator.Estimator(summary_model_fn, model_dir=str(tmp_path))
    counter = estimator.StepCounterHook(every_n_steps=100)
    # The CNN tutorial's hook: a tensor of the model_fn logged by name.
    logged = []
    logger = estimator.LoggingTensorHook(
      {'batch': 'softmax_tensor'},
      every_n_iter=100,
      formatter=lambda values: logged.append(values['batch'].shape) or '',
    )
    est.train(_train_input(), steps=250, hooks=[counter, logger])
    # numpy_input_fn and hooks a loop serves: runs of 100 steps in a loop,
    # the logged tensor the value of each run's last step.
    assert 'train_loop' in (tmp_path / 'graph.pbtxt').read_text()
    assert logged == [(32, 2)] * 3
    steps = {}
    for name in os.listdir(tmp_path):
      if name.startswith('events.out.tfevents'):
        for event in tf.train.summary_iterator(str(tmp_path / name)):
          for value in event.summary.value:
            steps.setdefault(value.tag, []).append(event.step)
    # The model_fn's summary of each run's last step, at that step.
    assert steps['batch_loss'] == [100, 200, 250]
    assert steps['loss'] == [100, 200, 250]
    assert est.get_variable_value('global_step') == 250
    # The same hooks again: still every 100 steps.
    est.train(_train_input(), steps=200, hooks=[counter, logger])
    assert logged == [(32, 2)] * 5

  def test_input_fn_returning_a_dataset_and_model_fn_subset(self, tmp_path):
    def input_fn(params):
      assert params == {'lr': 0.1}
      data = tf.data.Dataset.from_tensor_slices(({'x': X}, Y))
      return data.repeat().batch(50)

    def small_model_fn(features, labels, mode):
      logits = _dense(features['x'], 2, 'logits')
      loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
      train_op = tf.train.GradientDescentOptimizer(0.1).minimize(
        loss, tf.train.get_global_step()
      )
      return estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    est = estimator.Estimator(
      small_model_fn, model_dir=str(tmp_path), params={'lr': 0.1}
    )
    est.train(input_fn, steps=20)
    # No hooks and a dataset: up to 100 steps per run in an in-graph loop,
    # the run clipped to the 20 steps asked for.
    graph = (tmp_path / 'graph.pbtxt').read_text()
    assert 'train_loop' in graph and 'steps_per_run' in graph
    est.train(input_fn, max_steps=130)
    assert est.get_variable_value('global_step') == 130
    assert 'loss' in _event_tags(str(tmp_path))
    result = est.evaluate(lambda: (({'x': X[:100]}), Y[:100]), steps=1)
    assert result['global_step'] == 130
    assert set(result) == {'loss', 'global_step'}

  def test_model_fn_scaffold_init_fn_runs_once(self, tmp_path):
    # A scaffold without a saver gets graphnet's; its init_fn still runs,
    # as `init_fn(scaffold, session)` (TF1's), at the session's start.
    calls = []

    def scaffold_model_fn(features, labels, mode, params):
      spec = model_fn(features, labels, mode, params)
      scaffold = tf.train.Scaffold(
        init_fn=lambda scaffold, session: calls.append(scaffold)
      )
      return spec._replace(scaffold=scaffold)

    est = estimator.Estimator(
      scaffold_model_fn, model_dir=str(tmp_path), params={}
    )
    est.train(_train_input(), steps=2)
    assert len(calls) == 1
    assert isinstance(calls[0], tf.train.Scaffold)

  def test_temp_model_dir_is_made_and_logged(self, log_lines):
    est = estimator.Estimator(model_fn)
    assert os.path.isdir(est.model_dir)
    assert any(est.model_dir in line for line in log_lines)

  def test_bad_arguments_are_named(self, tmp_path):
    with pytest.raises(errors.ConfigError, match='steps or max_steps'):
      _make(tmp_path).train(_train_input(), steps=1, max_steps=2)
    with pytest.raises(errors.ConfigError, match='features'):
      estimator.Estimator(lambda x, labels: None)
    with pytest.raises(errors.ConfigError, match='shuffle'):
      estimator.inputs.numpy_input_fn({'x': X}, Y)
    with pytest.raises(errors.ConfigError, match='train_op'):
      estimator.EstimatorSpec(estimator.ModeKeys.TRAIN, loss=tf.constant(1.0))


class TestEvaluateAndPredict:
  def test_evaluate_writes_every_metric(self, trained, log_lines):
    est, model_dir, _ = trained
    result = est.evaluate(_eval_input())
    assert result['global_step'] == 200
    assert result['accuracy'] > 0.9
    assert set(result) == {'accuracy', 'loss', 'global_step'}
    assert {'accuracy', 'loss'} <= _event_tags(os.path.join(model_dir, 'eval'))
    line = next(x for x in log_lines if x.startswith('Saving dict'))
    assert line.startswith('Saving dict for global step 200: accuracy = ')
    named = est.evaluate(_eval_input(), steps=1, name='train')
    assert os.path.isdir(os.path.join(model_dir, 'eval_train'))
    assert named['global_step'] == 200

  def test_predict_matches_the_weights(self, trained):
    est = trained[0]
    predictions = list(
      est.predict(
        estimator.inputs.numpy_input_fn(
          {'x': X[:10]}, batch_size=4, num_epochs=1, shuffle=False
        )
      )
    )
    assert len(predictions) == 10
    w1 = est.get_variable_value('hidden/kernel')
    b1 = est.get_variable_value('hidden/bias')
    w2 = est.get_variable_value('logits/kernel')
    b2 = est.get_variable_value('logits/bias')
    logits = np.maximum(X[:10] @ w1 + b1, 0) @ w2 + b2
    np.testing.assert_array_equal(
      [p['classes'] for p in predictions], logits.argmax(1)
    )
    batches = list(
      est.predict(
        lambda: tf.data.Dataset.from_tensors({'x': X[:10]}),
        predict_keys=['classes'],
        yield_single_examples=False,
      )
    )
    assert len(batches) == 1 and set(batches[0]) == {'classes'}

  def test_export_serves_the_same_in_plain_tf2(self, trained, tmp_path):
    est = trained[0]
    receiver = estimator.export.build_raw_serving_input_receiver_fn(
      {'x': tf.placeholder(tf.float32, [None, 4])}
    )
    path = est.export_saved_model(str(tmp_path / 'export'), receiver)
    assert isinstance(path, bytes) and os.path.isdir(path)
    expected = [
      p['probabilities']
      for p in est.predict(lambda: tf.data.Dataset.from_tensors({'x': X[:8]}))
    ]
    # Plain TF 2.21, eager, without graphnet.
    program = textwrap.dedent(
      f"""
      import json, numpy as np, tensorflow as tf
      loaded = tf.saved_model.load({path.decode()!r})
      x = tf.constant(np.load({str(tmp_path / 'x.npy')!r}))
      out = loaded.signatures['serving_default'](x=x)
      cls = loaded.signatures['classify'](x=x)
      print(json.dumps({{'p': out['probabilities'].numpy().tolist(),
                         'c': cls['scores'].numpy().tolist()}}))
      """
    )
    np.save(tmp_path / 'x.npy', X[:8])
    done = subprocess.run(
      [sys.executable, '-c', program],
      capture_output=True,
      text=True,
      timeout=300,
      env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL='2'),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    import json

    served = json.loads(done.stdout.strip().splitlines()[-1])
    np.testing.assert_allclose(served['p'], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(served['c'], expected, rtol=1e-5, atol=1e-6)


class TestGuarantees:
  def test_second_trainer_is_refused(self, trained):
    est, model_dir, _ = trained
    with run_lock.LogDirLock(model_dir, printer=lambda line: None):
      with pytest.raises(errors.LogDirLockedError) as caught:
        est.train(_train_input(), max_steps=300)
    # The trainer's guarantee, in an Estimator's words.
    assert f'model_dir {model_dir} is in use' in str(caught.value)
    assert 'log_dir' not in str(caught.value)
    assert est.get_variable_value('global_step') == 200

  def test_another_model_is_refused(self, trained):
    model_dir = trained[1]

    def other_model_fn(features, labels, mode):
      logits = _dense(features['x'], 3, 'other')
      loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
      train_op = tf.train.GradientDescentOptimizer(0.1).minimize(
        loss, tf.train.get_global_step()
      )
      return estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    other = estimator.Estimator(other_model_fn, model_dir=model_dir)
    with pytest.raises(errors.CheckpointMismatchError, match='different model'):
      other.train(_train_input(), steps=10)
    with pytest.raises(errors.CheckpointMismatchError) as caught:
      other.train(_train_input(), steps=10)
    assert 'Use a new model_dir' in str(caught.value)
    assert 'log_dir' not in str(caught.value)
    assert 'flags' not in str(caught.value)

  def test_nan_loss_names_the_step(self, tmp_path):
    def nan_model_fn(features, labels, mode):
      logits = _dense(features['x'], 2, 'logits')
      step = tf.train.get_global_step()
      # Finite until step 30, then NaN.
      bad = tf.cast(step >= 30, tf.float32) * np.float32('nan')
      loss = tf.losses.sparse_softmax_cross_entropy(labels, logits) + tf.where(
        step >= 30, bad, 0.0
      )
      train_op = tf.train.GradientDescentOptimizer(0.1).minimize(loss, step)
      return estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

    est = estimator.Estimator(
      nan_model_fn,
      model_dir=str(tmp_path),
      config=estimator.RunConfig(
        save_checkpoints_steps=10, log_step_count_steps=10
      ),
    )
    with pytest.raises(errors.DivergenceError, match='at step 3[01]') as caught:
      est.train(_train_input(), max_steps=100)
    assert "learning rate of model_fn's optimizer" in str(caught.value)
    assert 'lr_schedule' not in str(caught.value)
    # The last checkpoint kept was saved before the loss went bad.
    assert est.get_variable_value('global_step') <= 30

  def test_hourly_checkpoints_stay_unlisted_with_an_atomic_state(
    self, tmp_path
  ):
    # Every 1e-9 hours: each checkpoint leaving the window of 1 stays.
    est = _make(
      tmp_path,
      save_checkpoints_steps=10,
      keep_checkpoint_max=1,
      keep_checkpoint_every_n_hours=1e-9,
    )
    est.train(_train_input(), max_steps=30)
    state = tf.train.get_checkpoint_state(str(tmp_path))
    listed = [os.path.basename(p) for p in state.all_model_checkpoint_paths]
    assert listed == ['model.ckpt-30']
    for step in (10, 20):
      assert (tmp_path / f'model.ckpt-{step}.index').exists()
    assert (tmp_path / 'model.ckpt-20.meta').exists()

  def test_sigint_saves_a_final_checkpoint_and_resumes(self, tmp_path):
    class Interrupt(estimator.SessionRunHook):
      def __init__(self):
        self.runs = 0

      def after_run(self, run_context, run_values):
        self.runs += 1
        if self.runs == 25:
          os.kill(os.getpid(), signal.SIGINT)

    est = _make(tmp_path, save_checkpoints_steps=1000)
    with pytest.raises(errors.TrainingInterruptedError) as caught:
      est.train(_train_input(), max_steps=1000, hooks=[Interrupt()])
    assert caught.value.step == 25
    assert 'call train again' in str(caught.value)
    assert est.latest_checkpoint().endswith('model.ckpt-25')
    est.train(_train_input(), max_steps=40)
    assert est.get_variable_value('global_step') == 40

  def test_full_disk_in_one_line(self, tmp_path):
    if os.geteuid() != 0:
      pytest.skip('a real full disk needs a tmpfs mount, which needs root')
    mount = tmp_path / 'tmpfs'
    mount.mkdir()
    done = subprocess.run(
      ['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', str(mount)],
      capture_output=True,
    )
    if done.returncode:
      pytest.skip('mount -t tmpfs failed')
    try:

      def big_model_fn(features, labels, mode):
        big = tf.get_variable('big', [300, 300])  # 360 KB per checkpoint.
        logits = _dense(features['x'], 2, 'logits') + tf.reduce_sum(big) * 0
        loss = tf.losses.sparse_softmax_cross_entropy(labels, logits)
        train_op = tf.train.GradientDescentOptimizer(0.1).minimize(
          loss, tf.train.get_global_step()
        )
        return estimator.EstimatorSpec(mode, loss=loss, train_op=train_op)

      est = estimator.Estimator(
        big_model_fn,
        model_dir=str(mount / 'model'),
        config=estimator.RunConfig(save_checkpoints_steps=5),
      )
      with pytest.raises(errors.DiskFullError) as caught:
        est.train(_train_input(), max_steps=100)
      message = str(caught.value)
      assert '\n' not in message
      assert 'free space' in message
      assert 'log_dir' not in message and 'command' not in message
      assert caught.value.last_checkpoint is not None
    finally:
      subprocess.run(['umount', '-l', str(mount)], check=True)


class TestTrainAndEvaluate:
  def test_local_evaluates_new_checkpoints_and_the_last(self, tmp_path):
    est = _make(tmp_path, save_checkpoints_steps=40)
    evaluated = []

    class Seen(estimator.SessionRunHook):
      def end(self, session):
        evaluated.append(int(session.run(tf.train.get_global_step())))

    result, exports = estimator.train_and_evaluate(
      est,
      estimator.TrainSpec(_train_input(), max_steps=100),
      estimator.EvalSpec(
        _eval_input(), steps=None, throttle_secs=0, hooks=[Seen()]
      ),
    )
    assert result['global_step'] == 100
    assert exports == []
    assert evaluated == [40, 80, 100]

  def test_specs_are_checked(self):
    with pytest.raises(errors.ConfigError, match='max_steps'):
      estimator.TrainSpec(_train_input(), max_steps=0)
    with pytest.raises(errors.ConfigError, match='throttle_secs'):
      estimator.EvalSpec(_eval_input(), throttle_secs=-1)

  def test_evaluator_ends_when_the_chief_stops_answering(
    self, tmp_path, monkeypatch
  ):
    # A chief whose port nobody listens on, silent for 1 s (not 60).
    with socket.socket() as unused:
      unused.bind(('127.0.0.1', 0))
      port = unused.getsockname()[1]
    monkeypatch.setenv(
      'TF_CONFIG',
      json.dumps(
        {
          'cluster': {'chief': [f'127.0.0.1:{port}']},
          'task': {'type': 'evaluator', 'index': 0},
        }
      ),
    )
    monkeypatch.setattr(training, '_CHIEF_TIMEOUT_SECS', 1.0)
    est = _make(tmp_path)
    specs = (
      estimator.TrainSpec(_train_input(), max_steps=100),
      estimator.EvalSpec(_eval_input(), start_delay_secs=0),
    )
    with pytest.raises(errors.ClusterRuntimeError) as caught:
      estimator.train_and_evaluate(est, *specs)
    message = str(caught.value)
    assert f'chief at 127.0.0.1:{port} has not answered' in message
    assert 'TrainSpec.max_steps 100' in message


def test_canned_names_load_lazily():
  assert 'DNNClassifier' in estimator.__all__
  assert estimator.DNNClassifier.__name__ == 'DNNClassifier'
  with pytest.raises(AttributeError):
    estimator.NoSuchEstimator  # noqa: B018


def test_pandas_input_fn_batches_columns_in_order():
  import pandas as pd

  frame = pd.DataFrame({'a': np.arange(10, dtype=np.float32), 'w': ['x'] * 10})
  target = pd.Series(np.arange(10, dtype=np.float32))
  input_fn = estimator.inputs.pandas_input_fn(
    frame, target, batch_size=4, num_epochs=1, shuffle=False
  )
  batches = []
  with tf.Graph().as_default():
    features, labels = input_fn()
    with tf.Session() as session:
      while True:
        try:
          batches.append(session.run((features, labels)))
        except tf.OpError:
          break
  assert [len(b[1]) for b in batches] == [4, 4, 2]
  np.testing.assert_array_equal(batches[0][0]['a'], [0, 1, 2, 3])
  assert list(batches[0][0]['w']) == [b'x'] * 4
  np.testing.assert_array_equal(batches[-1][1], [8, 9])
