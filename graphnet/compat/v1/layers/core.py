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
from graphnet.compat.v1.layers import _functional
from graphnet.compat.v1.layers import _kernel_layer
from graphnet.compat.v1.layers import base

__all__ = ['Dense', 'Dropout', 'Flatten', 'dense', 'dropout', 'flatten']


class Dense(_kernel_layer.KernelLayer):
  """`activation(inputs @ kernel + bias)` over the last axis.

  Variables, in its scope: `kernel` `[in, units]` (default initializer: the
  variable scope's, else glorot uniform) and `bias` `[units]` (zeros).
  Inputs of rank > 2 are multiplied along their last axis. The other
  arguments are `KernelLayer`'s (TF1's `activation`, `use_bias`,
  `kernel_*` / `bias_*`, `activity_regularizer`, `trainable`, `name`).
  """

  def __init__(self, units, *args, **kwargs):
    # TF1's order: units, then KernelLayer's (activation, use_bias, ...).
    super().__init__(*args, **kwargs)
    self.units = int(units)
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


dense = _functional.functional(
  Dense,
  'dense',
  """TF1's `tf.layers.dense`: a `Dense` layer in scope `name` applied once.

  `name` is used as given (a second call with it needs `reuse=True`); None
  gives `dense`, `dense_1`, ... Returns the output tensor `[..., units]`.
  """,
)


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


dropout = _functional.functional(
  Dropout,
  'dropout',
  """TF1's `tf.layers.dropout` (note: `rate` drops; `training` defaults False).

  Returns a tensor of the shape of `inputs`.
  """,
  order=['rate', 'noise_shape', 'seed', 'training', 'name'],
  defaults={'training': False},
  call=['training'],
)


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


flatten = _functional.functional(
  Flatten,
  'flatten',
  "TF1's `tf.layers.flatten`: `[batch, ...]` -> `[batch, features]`.",
  order=['name', 'data_format'],
  defaults={'data_format': 'channels_last'},
)
