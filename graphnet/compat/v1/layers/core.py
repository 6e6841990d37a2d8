"""TF1's `tf.layers` Dense, Dropout and Flatten, and their functions.

Example:
    hidden = tf.layers.dense(images, 128, tf.nn.relu)    # dense/kernel
    hidden = tf.layers.dropout(hidden, 0.4, training=is_training)
    logits = tf.layers.dense(hidden, 10)                 # dense_1/kernel
"""

import math

import tensorflow.compat.v1 as tf

from graphnet import errors
from graphnet.compat.v1.layers import _arguments
from graphnet.compat.v1.layers import base

__all__ = ['Dense', 'Dropout', 'Flatten', 'dense', 'dropout', 'flatten']


class Dense(base.Layer):
  """`activation(inputs @ kernel + bias)` over the last axis.

  Variables, in its scope: `kernel` `[in, units]` (default initializer: the
  variable scope's, else glorot uniform) and `bias` `[units]` (zeros).
  Inputs of rank > 2 are multiplied along their last axis.
  """

  def __init__(
    self,
    units,
    activation=None,
    use_bias=True,
    kernel_initializer=None,
    bias_initializer=_arguments.ZEROS,
    kernel_regularizer=None,
    bias_regularizer=None,
    activity_regularizer=None,
    kernel_constraint=None,
    bias_constraint=None,
    trainable=True,
    name=None,
    **kwargs,
  ):
    super().__init__(
      trainable=trainable,
      name=name,
      activity_regularizer=activity_regularizer,
      **kwargs,
    )
    self.units = int(units)
    self.activation = _arguments.activation_of(
      f'layer {self.name!r}', activation
    )
    self.use_bias = use_bias
    self.kernel_initializer = kernel_initializer
    self.bias_initializer = bias_initializer
    self.kernel_regularizer = kernel_regularizer
    self.bias_regularizer = bias_regularizer
    self.kernel_constraint = kernel_constraint
    self.bias_constraint = bias_constraint
    self.input_spec = base.InputSpec(min_ndim=2)

  def build(self, input_shape):
    input_shape = tf.TensorShape(input_shape)
    last = tf.dimension_value(input_shape[-1])
    if last is None:
      raise errors.ConfigError(
        f'layer {self.name!r}: the last dimension of the inputs to Dense must '
        f'be known to size its kernel, got shape {input_shape}.'
      )
    self.input_spec = base.InputSpec(min_ndim=2, axes={-1: last})
    self._add_kernel_and_bias([last, self.units], self.units)
    self.built = True

  def call(self, inputs):
    rank = inputs.shape.ndims
    if rank > 2:
      outputs = tf.tensordot(inputs, self.kernel, [[rank - 1], [0]])
      outputs.set_shape(inputs.shape[:-1].concatenate([self.units]))
    else:
      outputs = tf.matmul(inputs, self.kernel)  # [batch, units]
    if self.use_bias:
      outputs = tf.nn.bias_add(outputs, self.bias)
    if self.activation is not None:
      return self.activation(outputs)
    return outputs


def dense(
  inputs,
  units,
  activation=None,
  use_bias=True,
  kernel_initializer=None,
  bias_initializer=_arguments.ZEROS,
  kernel_regularizer=None,
  bias_regularizer=None,
  activity_regularizer=None,
  kernel_constraint=None,
  bias_constraint=None,
  trainable=True,
  name=None,
  reuse=None,
):
  """TF1's `tf.layers.dense`: a `Dense` layer in scope `name` applied once.

  `name` is used as given (a second call with it needs `reuse=True`); None
  gives `dense`, `dense_1`, ... Returns the output tensor `[..., units]`.
  """
  layer = Dense(
    units,
    activation=activation,
    use_bias=use_bias,
    kernel_initializer=kernel_initializer,
    bias_initializer=bias_initializer,
    kernel_regularizer=kernel_regularizer,
    bias_regularizer=bias_regularizer,
    activity_regularizer=activity_regularizer,
    kernel_constraint=kernel_constraint,
    bias_constraint=bias_constraint,
    trainable=trainable,
    name=name,
    _scope=name,
    _reuse=reuse,
  )
  return layer(inputs)


class Dropout(base.Layer):
  """Zeroes each unit with probability `rate` when `training`, as TF1.

  Kept units are scaled by `1 / (1 - rate)`. `training` (a python bool or a
  scalar bool tensor, default False) is given at the call; with a tensor
  the layer builds a `tf.cond`. No variables.
  """

  def __init__(
    self, rate=0.5, noise_shape=None, seed=None, name=None, **kwargs
  ):
    super().__init__(name=name, **kwargs)
    self.rate = rate
    self.noise_shape = noise_shape
    self.seed = seed

  def _noise_shape(self, inputs):
    if self.noise_shape is None:
      return None
    dynamic = tf.shape(inputs)
    return [
      dynamic[i] if size is None else size
      for i, size in enumerate(self.noise_shape)
    ]

  def call(self, inputs, training=False):
    if training is None:  # TF1 read Keras's learning phase: False here.
      training = False

    def dropped():
      return tf.nn.dropout(
        inputs,
        noise_shape=self._noise_shape(inputs),
        seed=self.seed,
        rate=self.rate,
      )

    return _arguments.smart_cond(training, dropped, lambda: tf.identity(inputs))


def dropout(
  inputs, rate=0.5, noise_shape=None, seed=None, training=False, name=None
):
  """TF1's `tf.layers.dropout` (note: `rate` drops; `training` defaults False).

  Returns a tensor of the shape of `inputs`.
  """
  layer = Dropout(rate, noise_shape=noise_shape, seed=seed, name=name)
  return layer(inputs, training=training)


class Flatten(base.Layer):
  """Reshapes `[batch, d1, d2, ...]` to `[batch, d1 * d2 * ...]`.

  With `data_format='channels_first'` the channels are moved last first,
  as TF1 did, so the order of features is the same either way.
  """

  def __init__(self, data_format=None, **kwargs):
    super().__init__(**kwargs)
    self.data_format = _arguments.data_format_of(self.name, data_format)

  def call(self, inputs):
    ndims = inputs.shape.ndims
    if self.data_format == 'channels_first' and ndims and ndims > 1:
      inputs = tf.transpose(inputs, [0, *range(2, ndims), 1])
    if ndims == 1:
      inputs = tf.expand_dims(inputs, 1)
    inner = inputs.shape[1:]
    if inner.is_fully_defined():
      width = math.prod(inner.as_list())
      outputs = tf.reshape(inputs, [-1, width])  # [batch, features]
    else:
      batch = tf.dimension_value(inputs.shape[0])
      if batch is None:
        batch = tf.shape(inputs)[0]
      outputs = tf.reshape(inputs, [batch, -1])
      width = None
    outputs.set_shape([tf.dimension_value(inputs.shape[0]), width])
    return outputs


def flatten(inputs, name=None, data_format='channels_last'):
  """TF1's `tf.layers.flatten`: `[batch, ...]` -> `[batch, features]`."""
  return Flatten(name=name, data_format=data_format)(inputs)
