"""Tests of the training hooks in graphnet.hooks, on tiny graphs."""

import bisect
import math
import os
import re

import numpy as np
import pytest
import tensorflow.compat.v1 as tf
from tensorboard.backend.event_processing.event_accumulator import (
  EventAccumulator,
)

from graphnet import errors
from graphnet.training import evaluation
from graphnet.training import hooks
from graphnet.training import hooks_report
from graphnet.training import hooks_save
from graphnet.training import hooks_steps

tf.disable_eager_execution()

_BOUNDARIES = (3, 5, 8)
_VALUES = (0.1, 0.01, 0.001, 0.0001)
# TF1's fully_connected_feed.py line, with graphnet's speed and ETA after it.
_STEP_LINE = re.compile(
  r'^Step (\d+): loss = (-?\d+\.\d{2}) \((\d+\.\d{3}) sec\)'
  r'(?: (\d+\.\d) steps/sec, ETA (\S+))?$'
)
_EVAL_LINE = re.compile(
  r'^Num examples: (\d+)  Num correct: (\d+)  Precision @ 1: (\d\.\d{4})$'
)


def _global_step(start=0):
  """An int64 global step variable starting at `start` (a resumed run)."""
  return tf.get_variable(
    'global_step',
    [],
    tf.int64,
    initializer=tf.constant_initializer(start),
    trainable=False,
    collections=[tf.GraphKeys.GLOBAL_VARIABLES, tf.GraphKeys.GLOBAL_STEP],
  )


def _reference_rate(step):
  return _VALUES[bisect.bisect_right(_BOUNDARIES, step)]


class _TickHook(tf.train.SessionRunHook):
  """Advances a fake clock by `seconds` inside every run."""

  def __init__(self, clock, seconds):
    self._clock = clock
    self._seconds = seconds

  def after_run(self, run_context, run_values):
    self._clock[0] += self._seconds


class TestLearningRateSetterHook:
  def _fed_rates(self, start=0, steps_per_run=1, last_step=12, by_name=False):
    """Trains to `last_step`; returns [(step the run started at, rate fed)]."""
    with tf.Graph().as_default():
      global_step = _global_step(start)
      rate = tf.placeholder(tf.float32, [], name='rate')
      with tf.control_dependencies([tf.assign_add(global_step, steps_per_run)]):
        train_op = tf.identity(rate)
      hook = hooks.LearningRateSetterHook(
        'rate:0' if by_name else rate, _BOUNDARIES, _VALUES, steps_per_run
      )
      fed = []
      step = start
      with tf.train.SingularMonitoredSession(
        hooks=[
          hook,
          hooks.StopAtStepHook(
            last_step=last_step, steps_per_run=steps_per_run
          ),
        ]
      ) as sess:
        while not sess.should_stop():
          fed.append((step, float(sess.run(train_op))))
          step += steps_per_run
    return fed

  def _check(self, fed, expected_starts):
    assert [s for s, _ in fed] == expected_starts
    for step, value in fed:
      assert value == pytest.approx(_reference_rate(step), rel=1e-6), step

  @pytest.mark.parametrize('by_name', [False, True])
  def test_feeds_the_rate_of_each_step_and_boundary(self, by_name):
    fed = self._fed_rates(by_name=by_name)
    self._check(fed, list(range(12)))
    # Exactly at each boundary the new value is in force.
    rates = dict(fed)
    for boundary, value in zip(_BOUNDARIES, _VALUES[1:], strict=True):
      assert rates[boundary] == pytest.approx(value, rel=1e-6)
      assert rates[boundary - 1] != pytest.approx(value, rel=1e-6)

  @pytest.mark.parametrize('start', [4, 5, 6, 9])
  def test_resume_mid_schedule_starts_with_the_right_rate(self, start):
    fed = self._fed_rates(start=start)
    self._check(fed, list(range(start, 12)))
    assert fed[0][1] == pytest.approx(_reference_rate(start), rel=1e-6)

  @pytest.mark.parametrize('steps_per_run', [2, 3, 4])
  def test_steps_per_run(self, steps_per_run):
    fed = self._fed_rates(steps_per_run=steps_per_run)
    self._check(fed, list(range(0, 12, steps_per_run)))

  def test_repeated_runs_are_deterministic(self):
    # The global step fetched with the train op may race with its
    # increment; the schedule must not depend on who wins.
    for _ in range(5):
      self._check(self._fed_rates(), list(range(12)))

  def test_fetch_after_the_increment_near_a_boundary(self):
    # The step fetched with the train op may already include the increment
    # (4 for a run that started at 3); the hook must not skip ahead into
    # the next piece (boundary 5).
    with tf.Graph().as_default():
      global_step = _global_step(4)
      rate = tf.placeholder(tf.float32, [])
      hook = hooks.LearningRateSetterHook(rate, _BOUNDARIES, _VALUES)
      hook.begin()
      with tf.Session() as sess:
        sess.run(global_step.initializer)
        context = tf.train.SessionRunContext(None, sess)
        values = tf.train.SessionRunValues(4, None, None)
        hook.after_run(context, values)
        fed = hook.before_run(context).feed_dict[rate]
    assert fed == _reference_rate(4)

  def test_rate_at(self):
    hook = hooks.LearningRateSetterHook('r', [10], [1.0, 2.0])
    assert [hook.rate_at(s) for s in (0, 9, 10, 11)] == [1.0, 1.0, 2.0, 2.0]

  @pytest.mark.parametrize(
    'boundaries, values, steps_per_run, match',
    [
      ([3, 5], [0.1, 0.01], 1, 'one more value'),
      ([3], [0.1, 0.01, 0.001], 1, 'one more value'),
      ([5, 3], [0.1, 0.01, 0.001], 1, 'strictly increasing'),
      ([3, 3], [0.1, 0.01, 0.001], 1, 'strictly increasing'),
      ([3], [0.1, 0.01], 0, 'steps_per_run'),
    ],
  )
  def test_bad_arguments(self, boundaries, values, steps_per_run, match):
    with pytest.raises(errors.ConfigError, match=match):
      hooks.LearningRateSetterHook('r', boundaries, values, steps_per_run)


def _all_hooks(loss):
  return [
    hooks.LearningRateSetterHook('r', [1], [1.0, 0.5]),
    hooks.DivergenceHook(loss),
    hooks_report.StepLoggingHook(loss, last_step=10),
    hooks_report.EvaluationHook(None, [], every_n_steps=1, last_step=10),
  ]


@pytest.mark.parametrize('index', range(4))
def test_begin_without_global_step_raises(index):
  with tf.Graph().as_default():
    tf.placeholder(tf.float32, [], name='r')
    loss = tf.constant(1.0)
    hook = _all_hooks(loss)[index]
    with pytest.raises(RuntimeError, match='global step'):
      hook.begin()


# Each hook on the global step, made with its own count and steps_per_run.
_STEP_HOOKS = {
  'StopAtStepHook': lambda own, spr: hooks.StopAtStepHook(
    last_step=5, steps_per_run=spr
  ),
  'DivergenceHook': lambda own, spr: hooks.DivergenceHook(
    'loss', steps_per_run=spr, every_n_steps=own
  ),
  'StepLoggingHook': lambda own, spr: hooks_report.StepLoggingHook(
    'loss', 10, every_n_steps=own, steps_per_run=spr
  ),
  'EvaluationHook': lambda own, spr: hooks_report.EvaluationHook(
    None, [], every_n_steps=own, last_step=10, steps_per_run=spr
  ),
  'LoopCheckpointSaverHook': lambda own, spr: (
    hooks_save.LoopCheckpointSaverHook('/nonexistent', own, None, spr)
  ),
  'LoopSummarySaverHook': lambda own, spr: hooks_save.LoopSummarySaverHook(
    own, '/nonexistent', spr
  ),
}


@pytest.mark.parametrize('name', sorted(_STEP_HOOKS))
def test_step_hooks_refuse_steps_per_run_below_one(name):
  with pytest.raises(errors.ConfigError, match=f'^{name}: ') as raised:
    _STEP_HOOKS[name](1, 0)
  assert raised.value.field == 'steps_per_run'
  assert 'steps_per_run=0' in str(raised.value)


@pytest.mark.parametrize(
  'name, field',
  [
    ('DivergenceHook', 'every_n_steps'),
    ('StepLoggingHook', 'every_n_steps'),
    ('EvaluationHook', 'every_n_steps'),
    ('LoopCheckpointSaverHook', 'save_steps'),
    ('LoopSummarySaverHook', 'save_steps'),
  ],
)
def test_step_hooks_refuse_their_count_below_one(name, field):
  with pytest.raises(errors.ConfigError, match=f'^{name}: ') as raised:
    _STEP_HOOKS[name](0, 1)
  assert raised.value.field == field
  assert f'{field}=0, steps_per_run=1' in str(raised.value)


class TestStopAtStepHook:
  def _train(self, hook_cls, start, last_step, steps_per_run=1):
    """Returns (runs made, final global step)."""
    with tf.Graph().as_default():
      global_step = _global_step(start)
      train_op = tf.assign_add(global_step, steps_per_run)
      kwargs = {'steps_per_run': steps_per_run} if steps_per_run > 1 else {}
      runs = 0
      with tf.train.SingularMonitoredSession(
        hooks=[hook_cls(last_step=last_step, **kwargs)]
      ) as sess:
        while not sess.should_stop():
          sess.run(train_op)
          runs += 1
        final = int(sess.raw_session().run(global_step))
    return runs, final

  def test_stops_at_last_step(self):
    assert self._train(hooks.StopAtStepHook, 0, 5) == (5, 5)

  @pytest.mark.parametrize('start', [5, 9])
  def test_runs_zero_steps_when_already_done(self, start):
    assert self._train(hooks.StopAtStepHook, start, 5) == (0, start)

  @pytest.mark.parametrize(
    'steps_per_run, start, expected',
    [(2, 0, (3, 6)), (3, 0, (2, 6)), (4, 0, (2, 8)), (3, 1, (2, 7))],
  )
  def test_steps_per_run_stops_at_the_first_run_reaching_last_step(
    self, steps_per_run, start, expected
  ):
    assert self._train(hooks.StopAtStepHook, start, 6, steps_per_run) == (
      expected
    )

  def test_bad_steps_per_run(self):
    with pytest.raises(errors.ConfigError, match='steps_per_run'):
      hooks.StopAtStepHook(last_step=5, steps_per_run=0)

  def test_tf_hook_runs_one_step_past_last_step(self):
    # Why the subclass exists: TF's hook checks only after a run.
    assert self._train(tf.train.StopAtStepHook, 5, 5) == (1, 6)

  def test_num_steps_counts_from_the_resumed_step(self):
    with tf.Graph().as_default():
      global_step = _global_step(7)
      train_op = tf.assign_add(global_step, 1)
      with tf.train.SingularMonitoredSession(
        hooks=[hooks.StopAtStepHook(num_steps=3)]
      ) as sess:
        while not sess.should_stop():
          sess.run(train_op)
        assert sess.raw_session().run(global_step) == 10


class TestDivergenceHook:
  def _train(self, losses):
    with tf.Graph().as_default():
      global_step = _global_step()
      loss = tf.placeholder(tf.float32, [], name='loss')
      train_op = tf.assign_add(global_step, 1)
      with tf.train.SingularMonitoredSession(
        hooks=[hooks.DivergenceHook('loss:0')]
      ) as sess:
        for value in losses:
          sess.run(train_op, feed_dict={loss: value})
        return int(sess.raw_session().run(global_step))

  def test_finite_loss_passes(self):
    assert self._train([1.0, 1e30, -3.0, 0.0]) == 4

  @pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
  def test_non_finite_loss_raises_naming_the_step(self, bad):
    with pytest.raises(errors.DivergenceError, match=r'at step 3\b') as info:
      self._train([1.0, 2.0, 3.0, bad, 4.0])
    assert str(bad) in str(info.value)
    assert isinstance(info.value, RuntimeError)

  def test_latest_checkpoint_is_the_last_good_one(self, tmp_path):
    # The train op writes the fed value to `weights`: the run that reports
    # a NaN loss is the one that leaves NaN weights behind.
    with tf.Graph().as_default():
      global_step = _global_step()
      value = tf.placeholder(tf.float32, [], name='value')
      weights = tf.get_variable('weights', [], initializer=tf.zeros_initializer)
      loss = tf.identity(value, name='loss')
      train_op = tf.group(
        tf.assign(weights, value), tf.assign_add(global_step, 1)
      )
      with pytest.raises(errors.DivergenceError, match='at step 4'):
        with tf.train.MonitoredTrainingSession(
          checkpoint_dir=str(tmp_path),
          # First, so it acts before the checkpoint saver of this run.
          chief_only_hooks=[hooks.DivergenceHook(loss)],
          save_checkpoint_steps=1,
          save_summaries_steps=None,
          log_step_count_steps=None,
        ) as sess:
          for x in [1.0, 2.0, 3.0, 4.0, math.nan, 6.0]:
            sess.run(train_op, feed_dict={value: x})
    prefix = tf.train.latest_checkpoint(str(tmp_path))
    assert prefix.endswith('model.ckpt-4')
    with tf.Graph().as_default():
      saver = tf.train.import_meta_graph(prefix + '.meta')
      with tf.Session() as sess:
        saver.restore(sess, prefix)
        restored = {v.op.name: sess.run(v) for v in tf.global_variables()}
    assert restored == {'weights': 4.0, 'global_step': 4}


class TestRunSteps:
  def test_settles_the_race_with_the_runs_increment(self):
    steps = hooks_steps.RunSteps(1)
    steps.reset(0)
    # Each fetch saw either the run's first step or its last.
    assert [steps.start_of(f) for f in [0, 2, 2, 4, 4]] == [0, 1, 2, 3, 4]

  def test_runs_of_several_steps(self):
    steps = hooks_steps.RunSteps(10)
    steps.reset(20)
    assert [steps.start_of(f) for f in [30, 30, 50]] == [20, 30, 40]

  def test_far_readings_are_taken_as_they_are(self):
    steps = hooks_steps.RunSteps(1)
    steps.reset(5)
    assert steps.start_of(40) == 40
    assert steps.start_of(41) == 41


class TestFiniteWeightsListener:
  def _run(self, tmp_path, poison_at):
    """Trains a variable; from `poison_at` on it becomes NaN."""
    with tf.Graph().as_default():
      step = tf.train.get_or_create_global_step()
      weight = tf.get_variable('w', [], initializer=tf.ones_initializer())
      poisoned = tf.cond(
        step + 1 >= poison_at,
        lambda: tf.constant(float('nan')),
        lambda: tf.constant(1.0),
      )
      train_op = tf.group(weight.assign(poisoned), step.assign_add(1))
      saver_hook = tf.train.CheckpointSaverHook(
        str(tmp_path),
        save_steps=2,
        listeners=[hooks.FiniteWeightsListener()],
      )
      with tf.train.SingularMonitoredSession(hooks=[saver_hook]) as sess:
        for _ in range(6):
          sess.run(train_op)

  def test_finite_weights_are_saved(self, tmp_path):
    self._run(tmp_path, poison_at=100)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith('ckpt-6')

  def test_nan_weights_are_never_saved(self, tmp_path):
    with pytest.raises(errors.DivergenceError, match='step 4'):
      self._run(tmp_path, poison_at=3)
    latest = tf.train.latest_checkpoint(str(tmp_path))
    assert latest.endswith('ckpt-2')
    assert tf.train.load_variable(latest, 'w') == 1.0


class TestStepLoggingHook:
  def _lines(self, monkeypatch, last_step, every_n_steps=10, steps=40):
    clock = [1000.0]
    monkeypatch.setattr(hooks_report.time, 'time', lambda: clock[0])
    lines = []
    with tf.Graph().as_default():
      global_step = _global_step()
      loss = tf.placeholder(tf.float32, [], name='loss')
      train_op = tf.assign_add(global_step, 1)
      hook = hooks_report.StepLoggingHook(
        loss, last_step, every_n_steps, printer=lines.append
      )
      # The tick runs between the logger's before_run and after_run.
      with tf.train.SingularMonitoredSession(
        hooks=[_TickHook(clock, 0.5), hook]
      ) as sess:
        for i in range(steps):
          sess.run(train_op, feed_dict={loss: 2.0 + 0.25 * i})
    return lines

  def test_lines_at_every_n_steps_in_tf1_format(self, monkeypatch):
    lines = self._lines(monkeypatch, last_step=40)
    assert lines == [
      'Step 0: loss = 2.00 (0.500 sec)',
      'Step 10: loss = 4.50 (0.500 sec) 2.0 steps/sec, ETA 15s',
      'Step 20: loss = 7.00 (0.500 sec) 2.0 steps/sec, ETA 10s',
      'Step 30: loss = 9.50 (0.500 sec) 2.0 steps/sec, ETA 5s',
    ]
    for line in lines:
      match = _STEP_LINE.match(line)
      assert match, line

  @pytest.mark.parametrize(
    'last_step, eta', [(250, '2m00s'), (10010, '1h23m'), (5, '0s')]
  )
  def test_eta_format(self, monkeypatch, last_step, eta):
    lines = self._lines(monkeypatch, last_step, steps=11)
    assert lines[1].endswith(f'2.0 steps/sec, ETA {eta}')
    assert _STEP_LINE.match(lines[1]).group(5) == eta

  @pytest.mark.parametrize('every_n_steps', [0, -1])
  def test_every_n_steps_below_one_raises(self, every_n_steps):
    with pytest.raises(errors.ConfigError, match='every_n_steps'):
      hooks_report.StepLoggingHook('loss:0', 10, every_n_steps)


class _FakeDataSet:
  def __init__(self, images, labels):
    self.images = images
    self.labels = labels


def _data_set(n, seed):
  rng = np.random.RandomState(seed)
  return _FakeDataSet(
    rng.rand(n, 3).astype(np.float32), rng.randint(0, 3, n).astype(np.int32)
  )


def _num_correct(data_set):
  return int((data_set.images.argmax(axis=1) == data_set.labels).sum())


class TestEvaluationHook:
  def _train(
    self,
    tmp_path,
    start=0,
    last_step=10,
    every_n_steps=4,
    steps_per_run=1,
    data_sets=None,
  ):
    """Trains a no-op model; returns (hook, printed lines)."""
    if data_sets is None:
      data_sets = [('train', 'Training', _data_set(23, 0))]
    lines = []
    with tf.Graph().as_default():
      global_step = _global_step(start)
      train_op = tf.assign_add(global_step, steps_per_run)
      images = tf.placeholder(tf.float32, [None, 3])
      labels = tf.placeholder(tf.int32, [None])
      # The logits are the features: correctness is argmax(images) == label.
      correct = tf.nn.in_top_k(images, labels, 1)
      tower = evaluation.EvalTower(
        images, labels, tf.reduce_sum(tf.cast(correct, tf.int32)), batch_size=5
      )
      hook = hooks_report.EvaluationHook(
        tower,
        data_sets,
        every_n_steps=every_n_steps,
        last_step=last_step,
        summary_dir=str(tmp_path),
        steps_per_run=steps_per_run,
        printer=lines.append,
      )
      with tf.train.SingularMonitoredSession(
        hooks=[
          hooks.StopAtStepHook(
            last_step=last_step, steps_per_run=steps_per_run
          ),
          hook,
        ]
      ) as sess:
        while not sess.should_stop():
          sess.run(train_op)
    return hook, lines

  def _summary_steps(self, tmp_path, tag='precision/train'):
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    return [(e.step, e.value) for e in events.Scalars(tag)]

  @pytest.mark.parametrize(
    'steps_per_run, start, expected',
    [
      (1, 0, [4, 8, 10]),
      (3, 0, [6, 9, 12]),
      (4, 0, [4, 8, 12]),
      (1, 5, [8, 10]),
      (1, 10, [10]),  # No run at all: evaluated once at the end.
    ],
  )
  def test_evaluates_every_n_steps_and_at_last_step(
    self, tmp_path, steps_per_run, start, expected
  ):
    _, lines = self._train(tmp_path, start=start, steps_per_run=steps_per_run)
    precision = _num_correct(_data_set(23, 0)) / 23
    steps = self._summary_steps(tmp_path)
    assert [s for s, _ in steps] == expected
    for _, value in steps:
      assert value == pytest.approx(precision, rel=1e-6)
    assert lines.count('Training Data Eval:') == len(expected)

  def test_prints_tf1_blocks_counting_every_example(self, tmp_path):
    train, test = _data_set(23, 0), _data_set(17, 1)
    hook, lines = self._train(
      tmp_path,
      last_step=4,
      data_sets=[('train', 'Training', train), ('test', 'Test', test)],
    )
    block = [
      'Training Data Eval:',
      f'Num examples: 23  Num correct: {_num_correct(train)}  '
      f'Precision @ 1: {_num_correct(train) / 23:0.04f}',
      'Test Data Eval:',
      f'Num examples: 17  Num correct: {_num_correct(test)}  '
      f'Precision @ 1: {_num_correct(test) / 17:0.04f}',
    ]
    assert lines == block  # Step 4 is both a multiple and the last step.
    assert all(_EVAL_LINE.match(line) for line in lines[1::2])
    assert hook.last_results == {
      'train': evaluation.EvalResult(23, _num_correct(train)),
      'test': evaluation.EvalResult(17, _num_correct(test)),
    }
    test_steps = self._summary_steps(tmp_path, 'precision/test')
    assert test_steps == [(4, pytest.approx(_num_correct(test) / 17))]

  def test_empty_data_set_is_neither_evaluated_nor_printed(self, tmp_path):
    empty = _FakeDataSet(np.zeros([0, 3], np.float32), np.zeros([0], np.int32))
    train = _data_set(5, 0)
    hook, lines = self._train(
      tmp_path,
      last_step=4,
      data_sets=[('train', 'Training', train), ('e', 'E', empty)],
    )
    assert lines == [
      'Training Data Eval:',
      f'Num examples: 5  Num correct: {_num_correct(train)}  '
      f'Precision @ 1: {_num_correct(train) / 5:0.04f}',
    ]
    assert list(hook.last_results) == ['train']
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert events.Tags()['scalars'] == ['precision/train']

  @pytest.mark.parametrize('every_n_steps, steps_per_run', [(0, 1), (5, 0)])
  def test_bad_arguments(self, every_n_steps, steps_per_run):
    with pytest.raises(errors.ConfigError, match='every_n_steps'):
      hooks_report.EvaluationHook(
        None, [], every_n_steps, last_step=10, steps_per_run=steps_per_run
      )


class TestLoopCheckpointSaverHook:
  """Pins the one private TF API graphnet uses (`_set_steps_per_run`)."""

  def test_tf_still_has_the_private_setter(self):
    # If this fails, TF changed CheckpointSaverHook: LoopCheckpointSaverHook
    # (hooks_save._set_steps_per_run) must be rewritten for it.
    assert callable(
      getattr(tf.train.CheckpointSaverHook, '_set_steps_per_run', None)
    )
    with tf.Graph().as_default():
      tf.train.get_or_create_global_step()
      hook = hooks_save.LoopCheckpointSaverHook(
        'unused', 10, tf.train.Saver(), 5
      )
    # The attribute TF's after_run reads to skip re-reading the step.
    assert hook._steps_per_run == 5

  def test_saves_at_multiples_of_save_steps_with_long_runs(self, tmp_path):
    with tf.Graph().as_default():
      step = tf.train.get_or_create_global_step()
      train_op = tf.assign_add(step, 5)  # One run = 5 global steps.
      saver = tf.train.Saver(max_to_keep=10)
      hook = hooks_save.LoopCheckpointSaverHook(str(tmp_path), 10, saver, 5)
      with tf.train.MonitoredTrainingSession(
        hooks=[hook, hooks.StopAtStepHook(last_step=20, steps_per_run=5)],
        save_summaries_steps=None,
        log_step_count_steps=None,
      ) as sess:
        runs = 0
        while not sess.should_stop():
          sess.run(train_op)
          runs += 1
    state = tf.train.get_checkpoint_state(str(tmp_path))
    saved = [int(p.rsplit('-', 1)[1]) for p in state.all_model_checkpoint_paths]
    assert runs == 4
    assert saved == [0, 10, 20]


def _loss_graph(start=0, steps_per_run=1):
  """(global step, loss placeholder, train op, saver) of a no-op model."""
  global_step = _global_step(start)
  loss = tf.placeholder_with_default(1.5, [], name='fed_loss')
  tf.summary.scalar('loss', loss)
  weights = tf.get_variable('w', [], initializer=tf.ones_initializer())
  train_op = tf.group(tf.assign_add(global_step, steps_per_run), weights)
  return global_step, loss, train_op, tf.train.Saver(max_to_keep=100)


def _events(log_dir, tag):
  """Steps of the summaries `tag` and of the START session logs."""
  tagged, starts = [], []
  for name in sorted(os.listdir(log_dir)):
    if not name.startswith('events.'):
      continue
    for event in tf.train.summary_iterator(os.path.join(log_dir, name)):
      if any(v.tag == tag for v in event.summary.value):
        tagged.append(event.step)
      if event.session_log.status == tf.SessionLog.START:
        starts.append(event.step)
  return tagged, starts


def _saved_steps(log_dir):
  state = tf.train.get_checkpoint_state(log_dir)
  return [int(p.rsplit('-', 1)[1]) for p in state.all_model_checkpoint_paths]


class TestCountSteps:
  """count_steps: the same decisions as fetching, with no fetch per run."""

  def _train(self, log_dir, count, start=0, steps_per_run=1, last_step=12):
    """Trains with every step hook; returns (lines, requests per hook)."""
    lines, requests = [], {}
    n = steps_per_run
    with tf.Graph().as_default():
      _, loss, train_op, saver = _loss_graph(start, n)
      images = tf.placeholder(tf.float32, [None, 3])
      labels = tf.placeholder(tf.int32, [None])
      correct = tf.nn.in_top_k(images, labels, 1)
      tower = evaluation.EvalTower(
        images, labels, tf.reduce_sum(tf.cast(correct, tf.int32)), batch_size=5
      )
      step_hooks = [
        hooks.DivergenceHook(
          loss,
          checkpoint_dir=log_dir,
          steps_per_run=n,
          every_n_steps=2 * n,
          count_steps=count,
        ),
        hooks_save.LoopCheckpointSaverHook(log_dir, 4 * n, saver, n, [], count),
        hooks_save.LoopSummarySaverHook(5 * n, log_dir, n, count_steps=count),
        hooks_report.StepLoggingHook(
          loss, last_step, 3 * n, lines.append, n, count_steps=count
        ),
        hooks_report.EvaluationHook(
          tower,
          [('train', 'Training', _data_set(7, 0))],
          every_n_steps=4 * n,
          last_step=last_step,
          summary_dir=log_dir,
          steps_per_run=n,
          printer=lines.append,
          count_steps=count,
        ),
        hooks.StopAtStepHook(
          last_step=last_step, steps_per_run=n, count_steps=count
        ),
      ]
      for hook in step_hooks:
        made = requests.setdefault(type(hook).__name__, [])

        def spy(context, before_run=hook.before_run, made=made):
          args = before_run(context)
          made.append(args is not None)
          return args

        hook.before_run = spy
      with tf.train.MonitoredTrainingSession(
        chief_only_hooks=step_hooks,
        save_checkpoint_steps=None,
        save_summaries_steps=None,
        log_step_count_steps=None,
      ) as sess:
        while not sess.should_stop():
          sess.run(train_op)
    return [_STEP_LINE.sub(r'Step \1: \2', x) for x in lines], requests

  @pytest.mark.parametrize(
    'start, steps_per_run, last_step',
    [(0, 1, 12), (3, 1, 12), (0, 3, 30), (7, 3, 31)],
  )
  def test_same_lines_checkpoints_and_summaries_as_fetching(
    self, tmp_path, start, steps_per_run, last_step
  ):
    outcomes = []
    for count in (False, True):
      log_dir = str(tmp_path / str(count))
      if start:  # Resume: a checkpoint of step `start` to start from.
        self._train(log_dir, count, 0, steps_per_run, start)
      lines, _ = self._train(log_dir, count, start, steps_per_run, last_step)
      outcomes.append(
        (
          lines,
          _saved_steps(log_dir),
          _events(log_dir, 'loss'),
          _events(log_dir, 'precision/train')[0],
        )
      )
    assert outcomes[0] == outcomes[1]
    lines, saved, (summaries, _), evaluated = outcomes[1]
    assert saved[-1] == last_step
    assert evaluated[-1] == last_step
    assert summaries and lines

  def test_no_fetch_on_runs_where_a_hook_does_nothing(self, tmp_path):
    _, requests = self._train(str(tmp_path), count=True)
    ran = lambda name: [i for i, r in enumerate(requests[name]) if r]  # noqa: E731
    assert len(requests['StopAtStepHook']) == 12
    for name in ('StopAtStepHook', 'LoopCheckpointSaverHook', 'EvaluationHook'):
      assert ran(name) == [], name
    # Runs i start at step i: every 2nd checked, every 3rd logged, and
    # TF's summary steps (the first run, then 5 steps after the last).
    assert ran('DivergenceHook') == [0, 2, 4, 6, 8, 10]
    assert ran('StepLoggingHook') == [0, 3, 6, 9]
    assert ran('LoopSummarySaverHook') == [0, 5, 10]

  def test_fetching_requests_every_run(self, tmp_path):
    _, requests = self._train(str(tmp_path), count=False)
    assert all(all(made) for made in requests.values())


class TestLoopSummarySaverHook:
  def _steps(self, log_dir, make_hook, runs=12):
    with tf.Graph().as_default():
      _, _, train_op, _ = _loss_graph()
      with tf.train.SingularMonitoredSession(hooks=[make_hook()]) as sess:
        for _ in range(runs):
          sess.run(train_op)
    return _events(log_dir, 'loss')

  @pytest.mark.parametrize('count', [False, True])
  def test_one_step_per_run_writes_at_tfs_summary_saver_steps(
    self, tmp_path, count
  ):
    # TF's SummarySaverHook: the first run, then the run ending save_steps
    # after the last write; each labelled with the step it ended at.
    log_dir = str(tmp_path)
    made = self._steps(
      log_dir,
      lambda: hooks_save.LoopSummarySaverHook(5, log_dir, 1, count_steps=count),
    )
    assert made == ([1, 6, 11], [1])

  def test_longer_runs_write_at_multiples(self, tmp_path):
    log_dir = str(tmp_path)
    with tf.Graph().as_default():
      _, _, train_op, _ = _loss_graph(start=3, steps_per_run=4)
      hook = hooks_save.LoopSummarySaverHook(8, log_dir, 4, count_steps=True)
      with tf.train.SingularMonitoredSession(hooks=[hook]) as sess:
        for _ in range(6):  # Steps 3 -> 27.
          sess.run(train_op)
    # Runs end at 7, 11, 15, 19, 23, 27: each passing a multiple of 8.
    assert _events(log_dir, 'loss') == ([11, 19, 27], [7])


class TestLoopCheckpointSaverHookFiles:
  def test_graph_in_events_and_no_graph_pbtxt(self, tmp_path):
    with tf.Graph().as_default():
      _, _, train_op, saver = _loss_graph()
      hook = hooks_save.LoopCheckpointSaverHook(
        str(tmp_path), 2, saver, 1, count_steps=True
      )
      with tf.train.SingularMonitoredSession(hooks=[hook]) as sess:
        for _ in range(5):
          sess.run(train_op)
    assert _saved_steps(str(tmp_path)) == [0, 2, 4, 5]
    assert not os.path.exists(tmp_path / 'graph.pbtxt')
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    assert events.Graph().node


class TestDivergenceHookEveryNSteps:
  def test_detected_at_next_check_and_unchecked_checkpoints_go(self, tmp_path):
    log_dir = str(tmp_path)
    losses = [1.0] * 7 + [math.nan] * 10
    with tf.Graph().as_default():
      _, loss, train_op, saver = _loss_graph()
      check = hooks.DivergenceHook(
        loss, checkpoint_dir=log_dir, every_n_steps=5, count_steps=True
      )
      saver_hook = hooks_save.LoopCheckpointSaverHook(
        log_dir, 1, saver, 1, count_steps=True
      )
      # The loss went NaN at step 7; the run from 10 is the next checked.
      with pytest.raises(errors.DivergenceError, match=r'nan at step 10\b'):
        with tf.train.SingularMonitoredSession(
          hooks=[check, saver_hook]
        ) as sess:
          for value in losses:
            sess.run(train_op, feed_dict={loss: value})
    # Steps 6-10 were saved after the last finite check (step 5).
    assert _saved_steps(log_dir) == [0, 1, 2, 3, 4, 5]
    assert tf.train.latest_checkpoint(log_dir).endswith('model.ckpt-5')
