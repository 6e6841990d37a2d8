"""Layers that act differently in training and inference: Dropout, BatchNorm.

Both take `is_training` (a Python bool or a scalar bool tensor): `Dropout`
drops units only while training; `BatchNorm` normalises with the batch's
moments while training (adding its moving-average updates to
`tf.GraphKeys.UPDATE_OPS`) and with the moving averages otherwise.
`graphnet.layers` re-exports both.

Example:
    net = layers.Sequential([layers.Dense(128, normalizer=BatchNorm()),
                             Dropout(0.5), layers.Dense(10)])
"""

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.nn.layer_base import Layer

__all__ = ['Dropout', 'BatchNorm']


class Dropout(Layer):
  """Keeps each unit with probability `keep_prob` in training.

  In training it makes a scalar `placeholder_with_default` named
  `keep_prob` in its name scope (e.g. `dropout/keep_prob:0`), holding
  `keep_prob` unless fed, so nothing needs to be fed; kept units are scaled
  by `1 / keep_prob`. In evaluation it returns its inputs unchanged.
  """

  _DEFAULT_NAME = 'dropout'

  def __init__(self, keep_prob, name=None):
    """Makes the layer.

    Args:
      keep_prob: python float in (0, 1].
      name: the name scope; default 'dropout'.

    Raises:
      ConfigError: `keep_prob` is not in (0, 1].
    """
    super().__init__(name)
    if isinstance(keep_prob, bool) or not isinstance(
      keep_prob, (int, float, np.floating)
    ):
      raise errors.ConfigError(
        f'{self._label()}: keep_prob must be a python float in (0, 1], got '
        f'{keep_prob!r}.'
      )
    if not 0.0 < keep_prob <= 1.0:
      raise errors.ConfigError(
        f'{self._label()}: keep_prob must be in (0, 1], got {keep_prob}.'
      )
    self._keep_prob = float(keep_prob)

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, min_rank=1)
    if not is_training:
      return inputs
    keep_prob = tf.placeholder_with_default(
      tf.constant(self._keep_prob, inputs.dtype), [], name='keep_prob'
    )
    return tf.nn.dropout(inputs, rate=1.0 - keep_prob)


class BatchNorm(Layer):
  """Batch normalisation over all axes but the last (the channels).

  Variables, in its scope (default `batch_norm`): `beta` (zeros) and
  `gamma` (ones), trainable; `moving_mean` (zeros) and `moving_variance`
  (ones), not trainable, so they get no gradient and no weight moving
  average. In training it normalises with the batch's mean and variance and
  adds to `tf.GraphKeys.UPDATE_OPS` the updates
  `moving -= (moving - batch_value) * (1 - decay)` (`mnist.training()`
  groups them into the train op); in evaluation it normalises with the
  moving statistics and adds nothing to any collection.
  """

  _DEFAULT_NAME = 'batch_norm'
  _HAS_VARIABLES = True

  def __init__(self, decay=0.99, epsilon=1e-3, name=None):
    """Makes the layer; variables are made by its first call.

    Args:
      decay: python float in [0, 1), the moving statistics' decay per
        training step.
      epsilon: python float > 0 added to the variance.
      name: the variable scope; default 'batch_norm'.

    Raises:
      ConfigError: `decay` or `epsilon` is out of range.
    """
    super().__init__(name)
    if not 0.0 <= decay < 1.0:
      raise errors.ConfigError(
        f'{self._label()}: decay must be in [0, 1), got {decay}.'
      )
    if not epsilon > 0.0:
      raise errors.ConfigError(
        f'{self._label()}: epsilon must be > 0, got {epsilon}.'
      )
    self._decay = float(decay)
    self._epsilon = float(epsilon)

  def _build(self, inputs, is_training):
    inputs = self._float_input(inputs, min_rank=2, sized=True)
    channels = int(inputs.shape[-1])

    def variable(name, initializer, trainable=True):
      return tf.get_variable(
        name,
        [channels],
        dtype=inputs.dtype,
        initializer=initializer,
        trainable=trainable,
      )

    beta = variable('beta', tf.zeros_initializer())
    gamma = variable('gamma', tf.ones_initializer())
    moving_mean = variable('moving_mean', tf.zeros_initializer(), False)
    moving_variance = variable('moving_variance', tf.ones_initializer(), False)
    if is_training:
      axes = list(range(inputs.shape.ndims - 1))
      mean, variance = tf.nn.moments(inputs, axes)
      for moving, value in ((moving_mean, mean), (moving_variance, variance)):
        update = tf.assign_sub(moving, (moving - value) * (1.0 - self._decay))
        tf.add_to_collection(tf.GraphKeys.UPDATE_OPS, update)
    else:
      mean, variance = moving_mean, moving_variance
    return tf.nn.batch_normalization(
      inputs, mean, variance, beta, gamma, self._epsilon
    )
