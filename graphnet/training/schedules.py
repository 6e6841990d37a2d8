"""Learning-rate schedules: in the graph, or fed by a hook.

`learning_rate(schedule, global_step)` turns a `Schedule` into what
`mnist.training()` takes:

* `constant`, `exponential`, `inverse_time`, `natural_exp`, `polynomial` and
  `piecewise` are computed in the graph from the global step with
  `tf.compat.v1.train`'s decay functions;
* `piecewise_hook` is a float32 placeholder named `learning_rate`, fed at
  every step by `hooks.LearningRateSetterHook` (the ResNet design).

Example:
    schedule = Schedule('exponential', 0.8, decay_steps=550, decay_rate=0.99,
                        staircase=True)
    lr, hook = learning_rate(schedule, tf.train.get_or_create_global_step())
    hooks = [hook] if hook else []
"""

import dataclasses

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet import options
from graphnet.training import hooks as hooks_lib
from graphnet.training import piecewise

__all__ = [
  'SCHEDULES',
  'DEFAULT_BOUNDARIES',
  'DEFAULT_VALUES',
  'Schedule',
  'learning_rate',
]

SCHEDULES = (
  'constant',
  'exponential',
  'inverse_time',
  'natural_exp',
  'polynomial',
  'piecewise',
  'piecewise_hook',
)

# The ResNet example's schedule.
DEFAULT_BOUNDARIES = (40000, 60000, 80000)
DEFAULT_VALUES = (0.1, 0.01, 0.001, 0.0001)


@dataclasses.dataclass(frozen=True)
class Schedule:
  """How the learning rate changes with the global step."""

  kind: str = options.option(
    'constant', 'Learning-rate schedule.', choices=SCHEDULES
  )
  # Initial (or constant) learning rate, > 0.
  base_rate: float = options.option(0.01, 'Initial learning rate.')
  # Or, for polynomial, the length of the decay.
  decay_steps: int = options.option(
    550, 'Steps per decay period (550 = one epoch of 100).', lower_bound=1
  )
  # For polynomial, the final rate is base_rate * decay_rate.
  decay_rate: float = options.option(0.99, 'Decay per period, in (0, 1].')
  # A staircase instead of a continuous decay.
  staircase: bool = options.option(False, 'Decay in whole periods.')
  boundaries: tuple = options.option(
    DEFAULT_BOUNDARIES, 'Steps where piecewise schedules change value.'
  )
  values: tuple = options.option(
    DEFAULT_VALUES, 'Piecewise learning rates (one more than boundaries).'
  )

  def __post_init__(self):
    # Every field is checked whatever the kind, so a bad value never waits
    # for the day the kind changes.
    if self.kind not in SCHEDULES:
      raise errors.ConfigError(
        f'Schedule: unknown kind {self.kind!r}; expected one of {SCHEDULES}.',
        field='kind',
      )
    options.check_bounds(self)
    checks = [
      ('base_rate', self.base_rate > 0, '> 0'),
      ('decay_rate', 0 < self.decay_rate <= 1, 'in (0, 1]'),
    ]
    for name, ok, expected in checks:
      if not ok:
        raise errors.ConfigError(
          f'Schedule: {name} must be {expected}, got {getattr(self, name)!r}.',
          field=name,
        )
    piecewise.check(self.boundaries, self.values, 'Schedule')

  def value_at(self, step):
    """The piecewise value in force at `step` (a python int)."""
    return piecewise.value_at(self.boundaries, self.values, step)


def learning_rate(schedule, global_step, steps_per_run=1):
  """Builds the learning rate of `schedule`.

  Args:
    schedule: a `Schedule`.
    global_step: the int64 global step variable.
    steps_per_run: global steps one `session.run` advances (for the hook).

  Returns:
    (rate, hook): `rate` is a float32 scalar tensor named `learning_rate`
    (a placeholder for `piecewise_hook`); `hook` is the
    `LearningRateSetterHook` that feeds it, or None for in-graph schedules.
  """
  s = schedule
  if s.kind == 'piecewise_hook':
    rate = tf.placeholder(tf.float32, [], name='learning_rate')
    hook = hooks_lib.LearningRateSetterHook(
      rate, s.boundaries, s.values, steps_per_run=steps_per_run
    )
    return rate, hook
  if s.kind == 'constant':
    rate = tf.constant(s.base_rate, tf.float32)
  elif s.kind == 'piecewise' and not s.boundaries:
    rate = tf.constant(float(s.values[0]), tf.float32)
  elif s.kind == 'piecewise':
    # TF's piecewise_constant changes value after a boundary (step > b);
    # the hook and value_at change at it (step >= b), as ResNet's setter.
    rate = tf.train.piecewise_constant(
      global_step,
      [int(b) - 1 for b in s.boundaries],
      [float(v) for v in s.values],
    )
  elif s.kind == 'polynomial':
    rate = tf.train.polynomial_decay(
      s.base_rate, global_step, s.decay_steps, s.base_rate * s.decay_rate
    )
  else:
    decay = {
      'exponential': tf.train.exponential_decay,
      'inverse_time': tf.train.inverse_time_decay,
      'natural_exp': tf.train.natural_exp_decay,
    }[s.kind]
    rate = decay(
      s.base_rate, global_step, s.decay_steps, s.decay_rate, s.staircase
    )
  return tf.identity(tf.cast(rate, tf.float32), name='learning_rate'), None
