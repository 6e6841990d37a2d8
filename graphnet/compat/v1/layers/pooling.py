"""TF1's `tf.layers` pooling layers (1-D, 2-D, 3-D; max and average).

No variables. `pool_size` and `strides` are required (an int or a tuple);
padding 'valid' (default) or 'same', any case. Aliases as in TF1:
`MaxPool2D` is `MaxPooling2D`, `AvgPool2D` is `AveragePooling2D`, ...

Example:
    net = tf.layers.max_pooling2d(net, 2, 2)  # [b, h / 2, w / 2, c]
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1.layers import _arguments
from graphnet.compat.v1.layers import _functional
from graphnet.compat.v1.layers import base

__all__ = [
  'MaxPooling1D',
  'MaxPooling2D',
  'MaxPooling3D',
  'AveragePooling1D',
  'AveragePooling2D',
  'AveragePooling3D',
  'MaxPool1D',
  'MaxPool2D',
  'MaxPool3D',
  'AvgPool1D',
  'AvgPool2D',
  'AvgPool3D',
  'max_pooling1d',
  'max_pooling2d',
  'max_pooling3d',
  'average_pooling1d',
  'average_pooling2d',
  'average_pooling3d',
]


class _Pooling(base.Layer):
  """Pools windows of `pool_size` every `strides` over the spatial axes."""

  _RANK = 2
  _MAX = True

  def __init__(
    self,
    pool_size,
    strides,
    padding='valid',
    data_format='channels_last',
    name=None,
    **kwargs,
  ):
    super().__init__(name=name, **kwargs)
    label = f'layer {self.name!r}'
    rank = self._RANK
    self.pool_size = _arguments.normalize_tuple(
      label, 'pool_size', pool_size, rank
    )
    self.strides = _arguments.normalize_tuple(label, 'strides', strides, rank)
    self.padding = _arguments.padding_of(label, padding)
    self.data_format = _arguments.data_format_of(label, data_format)
    self.input_spec = base.InputSpec(ndim=rank + 2)

  def call(self, inputs):
    first = self.data_format == 'channels_first'
    pool_size, strides = self.pool_size, self.strides
    if self._RANK == 1:
      # As TF1: pooled as an image one pixel wide.
      axis = 3 if first else 2
      inputs = tf.expand_dims(inputs, axis)
      pool_size, strides = (*pool_size, 1), (*strides, 1)
    if first:
      window, step = [1, 1, *pool_size], [1, 1, *strides]
    else:
      window, step = [1, *pool_size, 1], [1, *strides, 1]
    padding = self.padding.upper()
    if len(pool_size) == 3:
      fmt = 'NCDHW' if first else 'NDHWC'
      pool = tf.nn.max_pool3d if self._MAX else tf.nn.avg_pool3d
    else:
      fmt = 'NCHW' if first else 'NHWC'
      pool = tf.nn.max_pool if self._MAX else tf.nn.avg_pool
    outputs = pool(inputs, window, step, padding, data_format=fmt)
    if self._RANK == 1:
      outputs = tf.squeeze(outputs, [axis])
    return outputs


class MaxPooling1D(_Pooling):
  """Max over windows of `[batch, length, channels]`."""

  _RANK = 1


class MaxPooling2D(_Pooling):
  """Max over windows of `[batch, height, width, channels]`."""


class MaxPooling3D(_Pooling):
  """Max over windows of `[batch, depth, height, width, channels]`."""

  _RANK = 3


class AveragePooling1D(_Pooling):
  """Mean over windows of `[batch, length, channels]`."""

  _RANK = 1
  _MAX = False


class AveragePooling2D(_Pooling):
  """Mean over windows of `[batch, height, width, channels]`."""

  _MAX = False


class AveragePooling3D(_Pooling):
  """Mean over windows of `[batch, depth, height, width, channels]`."""

  _RANK = 3
  _MAX = False


# TF1's other names for the same classes.
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D


def _function_of(cls, name, shapes=''):
  """TF1's functional form of the pooling layer class `cls`, named `name`."""
  return _functional.functional(
    cls, name, f"TF1's `tf.layers.{name}`{shapes}.", order=_ORDER
  )


# TF1's pooling functions take no `reuse` (they have no variables).
_ORDER = ['pool_size', 'strides', 'padding', 'data_format', 'name']
_SHAPES_2D = ": `[b, h, w, c]` -> `[b, h', w', c]`"
max_pooling1d = _function_of(MaxPooling1D, 'max_pooling1d')
max_pooling2d = _function_of(MaxPooling2D, 'max_pooling2d', _SHAPES_2D)
max_pooling3d = _function_of(MaxPooling3D, 'max_pooling3d')
average_pooling1d = _function_of(AveragePooling1D, 'average_pooling1d')
average_pooling2d = _function_of(
  AveragePooling2D, 'average_pooling2d', _SHAPES_2D
)
average_pooling3d = _function_of(AveragePooling3D, 'average_pooling3d')
