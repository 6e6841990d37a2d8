"""Learning-rate schedules: in the graph, or fed by a hook.

`learning_rate(schedule, global_step)` turns a `Schedule` into what
`mnist.training()` takes:

* `constant`, `exponential`, `inverse_time`, `natural_exp`, `polynomial` and
  `piecewise` are computed in the graph from the global step with
  `tf.compat.v1.train`'s decay functions;
* `piecewise_hook` is a float32 placeholder named `learning_rate`, fed at
  every step by `hooks.LearningRateSetterHook` (the ResNet design).

`Schedule` and the schedule names are `config`'s (which loads no
TensorFlow), re-exported here.

Example:
    schedule = Schedule('exponential', 0.8, decay_steps=550, decay_rate=0.99,
                        staircase=True)
    lr, hook = learning_rate(schedule, tf.train.get_or_create_global_step())
    hooks = [hook] if hook else []
"""

import tensorflow.compat.v1 as tf

from graphnet.training import hooks as hooks_lib
from graphnet.training.config import DEFAULT_BOUNDARIES as DEFAULT_BOUNDARIES
from graphnet.training.config import DEFAULT_VALUES as DEFAULT_VALUES
from graphnet.training.config import SCHEDULES as SCHEDULES
from graphnet.training.config import Schedule as Schedule

__all__ = [
  'SCHEDULES',
  'DEFAULT_BOUNDARIES',
  'DEFAULT_VALUES',
  'Schedule',
  'learning_rate',
]


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
