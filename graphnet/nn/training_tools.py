"""What every network's training uses: optimizers by name, L2, averages.

`make_optimizer(name, ...)` makes one of `OPTIMIZERS` (named in `hparams`,
one factory each here); `l2_regularizer(scale)` is TF1's
`tf.contrib.layers.l2_regularizer` for graphnet's layers;
`moving_average_getter(ema)` makes an evaluation tower read the moving
averages of the weights. `graphnet.mnist` re-exports all of them.

Example:
    opt = make_optimizer('momentum', 0.01, momentum=0.9)
    dense = layers.Dense(128, regularizer=l2_regularizer(1e-4))
"""

import tensorflow.compat.v1 as tf
from tensorflow.python.util import deprecation

from graphnet import errors
from graphnet.nn.hparams import OPTIMIZERS

__all__ = [
  'OPTIMIZERS',
  'make_optimizer',
  'l2_regularizer',
  'moving_average_getter',
]


class _QuietRMSProp(tf.train.RMSPropOptimizer):
  """TF's RMSProp (same slots and names) without a deprecation warning.

  Its slot creation calls an initializer in a way TF 2.21 deprecates,
  which printed a warning no user can act on.
  """

  def _create_slots(self, var_list):
    with deprecation.silence():
      super()._create_slots(var_list)


# Optimizer name -> factory(learning_rate, momentum), one for each of
# hparams.OPTIMIZERS (whose names the config and the flag read without
# TensorFlow); adding an optimizer is its name there and its entry here.
_FACTORIES = {
  'sgd': lambda rate, _: tf.train.GradientDescentOptimizer(rate),
  'momentum': tf.train.MomentumOptimizer,
  'adagrad': lambda rate, _: tf.train.AdagradOptimizer(rate),
  'adam': lambda rate, _: tf.train.AdamOptimizer(rate),
  'rmsprop': lambda rate, m: _QuietRMSProp(rate, momentum=m),
}


def make_optimizer(name, learning_rate, momentum=0.9):
  """Makes the tf.compat.v1 optimizer called `name` (one of `OPTIMIZERS`).

  `learning_rate` may be a float, a scalar tensor, or a function returning
  one (called each time the optimizer builds an update, e.g. inside a loop
  body). Pass the optimizer to `training()` more than once to reuse its
  slot variables.

  Args:
    name: one of `OPTIMIZERS`.
    learning_rate: see above.
    momentum: momentum of 'momentum' and 'rmsprop'; the others ignore it.

  Returns:
    a `tf.compat.v1.train.Optimizer`.

  Raises:
    ConfigError: `name` is not one of `OPTIMIZERS`.
  """
  factory = _FACTORIES.get(name)
  if factory is None:
    raise errors.ConfigError(
      f'training: unknown optimizer {name!r}; expected one of {OPTIMIZERS}.',
      field='optimizer',
    )
  return factory(learning_rate, momentum)


def l2_regularizer(scale):
  """Returns a function mapping a weight tensor to `scale * l2_loss(w)`."""
  if scale < 0:
    raise errors.ConfigError(
      f'l2_regularizer: scale must be >= 0, got {scale}.'
    )

  def _penalty(weights):
    return tf.multiply(scale, tf.nn.l2_loss(weights), name='l2_penalty')

  return _penalty


def moving_average_getter(ema):
  """A custom getter that returns each variable's moving average.

  Use it to build an evaluation tower on averaged weights:

      with tf.variable_scope(tf.get_variable_scope(), reuse=True,
                             custom_getter=moving_average_getter(ema)):
        eval_logits = inference(images, 128, 32)

  Args:
    ema: the `tf.train.ExponentialMovingAverage` passed to `training()`.

  Returns:
    a custom getter; variables without an average are returned unchanged.
  """

  def _getter(getter, name, *args, **kwargs):
    var = getter(name, *args, **kwargs)
    average = ema.average(var)
    return average if average is not None else var

  return _getter
