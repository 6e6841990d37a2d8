"""The argument checks and defaults `tf.layers`' layers share.

TF 1.x's layer arguments in the forms TF1 programs pass them: kernel sizes
and strides as an int or a tuple, padding and data format names in any
case, activations as a function, None or a Keras name, and the `training`
flag as a python bool or a bool tensor (`smart_cond`). Each check raises
`ConfigError` naming the layer and the argument.

Example:
    strides = _arguments.normalize_tuple('conv2d', 'strides', 2, 2)  # (2, 2)
"""

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import errors

__all__ = [
  'ONES',
  'ZEROS',
  'activation_of',
  'data_format_of',
  'normalize_tuple',
  'padding_of',
  'smart_cond',
]

# TF1's default initializers of biases and batch norm (shared, stateless).
ZEROS = tf.zeros_initializer()
ONES = tf.ones_initializer()


def smart_cond(pred, true_fn, false_fn, name=None):
  """`true_fn()` or `false_fn()` when `pred` is known, else `tf.cond`.

  Args:
    pred: python bool (or 0/1), or a scalar bool tensor; a constant tensor
      picks its branch when the graph is built, as TF1's layers did.
    true_fn: function of no arguments returning tensors.
    false_fn: the same, for a false `pred`.
    name: the name scope of the `tf.cond`.

  Returns:
    the chosen branch's outputs.
  """
  if isinstance(pred, (bool, np.bool_)) or (
    isinstance(pred, (int, np.integer)) and pred in (0, 1)
  ):
    return true_fn() if pred else false_fn()
  if not isinstance(pred, (tf.Tensor, tf.Variable)):
    raise errors.ConfigError(
      f'training must be a python bool or a scalar bool tensor, got {pred!r}.'
    )
  if isinstance(pred, tf.Tensor):
    value = tf.get_static_value(pred)
    if value is not None:
      return true_fn() if value else false_fn()
  return tf.cond(pred, true_fn, false_fn, name=name)


def normalize_tuple(label, what, value, n):
  """An int or n ints -> tuple of n ints (kernel sizes, strides)."""
  if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
    return (int(value),) * n
  try:
    values = tuple(value)
  except TypeError:
    values = ()
  if len(values) != n or not all(
    isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
  ):
    raise errors.ConfigError(
      f'{label}: {what} must be an int or a tuple of {n} ints, got {value!r}.'
    )
  return tuple(int(v) for v in values)


def padding_of(label, padding, allowed=('valid', 'same')):
  """TF1's padding names in any case -> lower case; ConfigError otherwise."""
  if not isinstance(padding, str) or padding.lower() not in allowed:
    raise errors.ConfigError(
      f'{label}: padding must be one of {allowed} (any case), got {padding!r}.'
    )
  return padding.lower()


def data_format_of(label, data_format):
  """'channels_last' or 'channels_first' (any case); ConfigError otherwise."""
  if data_format is None:
    return 'channels_last'
  formats = ('channels_last', 'channels_first')
  if not isinstance(data_format, str) or data_format.lower() not in formats:
    raise errors.ConfigError(
      f'{label}: data_format must be one of {formats}, got {data_format!r}.'
    )
  return data_format.lower()


def activation_of(label, activation):
  """A function tensor -> tensor, from a function, None or a Keras name."""
  if activation is None or callable(activation):
    return activation
  functions = {
    'linear': None,
    'relu': tf.nn.relu,
    'relu6': tf.nn.relu6,
    'elu': tf.nn.elu,
    'selu': tf.nn.selu,
    'tanh': tf.tanh,
    'sigmoid': tf.sigmoid,
    'softmax': tf.nn.softmax,
    'softplus': tf.nn.softplus,
    'softsign': tf.nn.softsign,
  }
  if activation not in functions:
    raise errors.ConfigError(
      f'{label}: activation must be a function (e.g. tf.nn.relu), None or '
      f'one of {sorted(functions)}, got {activation!r}.'
    )
  return functions[activation]
