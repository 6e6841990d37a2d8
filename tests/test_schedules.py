"""Tests of graphnet.schedules against NumPy/python references."""

import bisect
import math

import pytest
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.training import hooks
from graphnet.training import schedules

tf.disable_eager_execution()

_STEPS = (0, 1, 99, 100, 101, 250, 399, 400, 401, 1000)
_BASE, _DECAY_STEPS, _RATE = 0.1, 100, 0.5


def _periods(step, staircase):
  p = step / _DECAY_STEPS
  return math.floor(p) if staircase else p


def _exponential(step, staircase):
  return _BASE * _RATE ** _periods(step, staircase)


def _inverse_time(step, staircase):
  return _BASE / (1 + _RATE * _periods(step, staircase))


def _natural_exp(step, staircase):
  return _BASE * math.exp(-_RATE * _periods(step, staircase))


def _polynomial(step, staircase):
  del staircase
  end = _BASE * _RATE
  done = min(step, _DECAY_STEPS) / _DECAY_STEPS
  return (_BASE - end) * (1 - done) + end


def _constant(step, staircase):
  del step, staircase
  return _BASE


_REFERENCES = {
  'constant': _constant,
  'exponential': _exponential,
  'inverse_time': _inverse_time,
  'natural_exp': _natural_exp,
  'polynomial': _polynomial,
}


def _rates(schedule, steps):
  """Evaluates `learning_rate:0` with the global step set to each of steps."""
  with tf.Graph().as_default():
    global_step = tf.train.get_or_create_global_step()
    rate, hook = schedules.learning_rate(schedule, global_step)
    assert hook is None
    assert rate.name == 'learning_rate:0'
    assert rate.dtype == tf.float32
    with tf.Session() as sess:
      sess.run(tf.global_variables_initializer())
      out = []
      for step in steps:
        global_step.load(step, sess)
        out.append(float(sess.run('learning_rate:0')))
  return out


class TestInGraphSchedules:
  @pytest.mark.parametrize('staircase', [False, True])
  @pytest.mark.parametrize('kind', sorted(_REFERENCES))
  def test_matches_reference(self, kind, staircase):
    schedule = schedules.Schedule(
      kind,
      base_rate=_BASE,
      decay_steps=_DECAY_STEPS,
      decay_rate=_RATE,
      staircase=staircase,
    )
    got = _rates(schedule, _STEPS)
    want = [_REFERENCES[kind](s, staircase) for s in _STEPS]
    assert got == pytest.approx(want, rel=1e-5)

  def test_staircase_is_flat_within_a_period(self):
    schedule = schedules.Schedule(
      'exponential', _BASE, _DECAY_STEPS, _RATE, staircase=True
    )
    first, last, next_ = _rates(schedule, [100, 199, 200])
    assert first == last
    assert next_ == pytest.approx(first * _RATE)

  @pytest.mark.parametrize(
    'boundaries, values',
    [((3, 5, 8), (0.1, 0.01, 0.001, 0.0001)), ((), (0.3,)), ((0,), (1, 2))],
  )
  def test_piecewise_changes_exactly_at_each_boundary(self, boundaries, values):
    schedule = schedules.Schedule(
      'piecewise', boundaries=boundaries, values=values
    )
    steps = sorted({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 100})
    # The same rule as the hook-fed 'piecewise_hook' and Schedule.value_at:
    # from the boundary step on, the next value is in force.
    want = [values[bisect.bisect_right(boundaries, s)] for s in steps]
    assert _rates(schedule, steps) == pytest.approx(want, rel=1e-6)
    assert [schedule.value_at(s) for s in steps] == want


class TestPiecewiseHook:
  def test_returns_placeholder_and_setter_hook(self):
    schedule = schedules.Schedule(
      'piecewise_hook', boundaries=(3, 5), values=(0.3, 0.2, 0.1)
    )
    with tf.Graph().as_default():
      global_step = tf.train.get_or_create_global_step()
      rate, hook = schedules.learning_rate(schedule, global_step)
      assert rate.op.type == 'Placeholder'
      assert rate.name == 'learning_rate:0'
      assert rate.dtype == tf.float32
      assert rate.shape.as_list() == []
      assert isinstance(hook, hooks.LearningRateSetterHook)
      assert [hook.rate_at(s) for s in (0, 2, 3, 4, 5, 99)] == [
        0.3,
        0.3,
        0.2,
        0.2,
        0.1,
        0.1,
      ]
      # The hook feeds it in a session.
      with tf.control_dependencies([tf.assign_add(global_step, 1)]):
        train_op = tf.identity(rate)
      fed = []
      with tf.train.SingularMonitoredSession(hooks=[hook]) as sess:
        for _ in range(6):
          fed.append(float(sess.run(train_op)))
    assert fed == pytest.approx([0.3, 0.3, 0.3, 0.2, 0.2, 0.1])

  def test_steps_per_run_reaches_the_hook(self):
    schedule = schedules.Schedule(
      'piecewise_hook', boundaries=(4,), values=(0.2, 0.1)
    )
    with tf.Graph().as_default():
      global_step = tf.train.get_or_create_global_step()
      rate, hook = schedules.learning_rate(
        schedule, global_step, steps_per_run=2
      )
      with tf.control_dependencies([tf.assign_add(global_step, 2)]):
        train_op = tf.identity(rate)
      with tf.train.SingularMonitoredSession(hooks=[hook]) as sess:
        fed = [float(sess.run(train_op)) for _ in range(4)]
    # Runs start at steps 0, 2, 4, 6.
    assert fed == pytest.approx([0.2, 0.2, 0.1, 0.1])


class TestScheduleValidation:
  @pytest.mark.parametrize(
    'kwargs, match',
    [
      ({'kind': 'cosine'}, 'unknown kind'),
      ({'kind': 'constant', 'base_rate': 0.0}, 'base_rate'),
      ({'kind': 'exponential', 'base_rate': -1.0}, 'base_rate'),
      ({'kind': 'exponential', 'decay_steps': 0}, 'decay_steps'),
      (
        {'kind': 'piecewise', 'boundaries': (1, 2), 'values': (1.0, 2.0)},
        'one more value',
      ),
      (
        {'kind': 'piecewise_hook', 'boundaries': (2, 1), 'values': (1, 2, 3)},
        'strictly increasing',
      ),
      (
        {'kind': 'piecewise', 'boundaries': (2, 2), 'values': (1, 2, 3)},
        'strictly increasing',
      ),
    ],
  )
  def test_bad_values_raise_config_error(self, kwargs, match):
    with pytest.raises(errors.ConfigError, match=match):
      schedules.Schedule(**kwargs)

  def test_defaults_are_valid_and_frozen(self):
    schedule = schedules.Schedule()
    assert schedule.kind == 'constant'
    with pytest.raises(AttributeError):
      schedule.kind = 'exponential'
    assert set(schedules.SCHEDULES) == set(_REFERENCES) | {
      'piecewise',
      'piecewise_hook',
    }
