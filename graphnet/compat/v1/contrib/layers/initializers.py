"""`tf.contrib.layers` initializers of TF 1.15 (xavier, variance scaling).

They draw exactly as TF 1.15's: fans from the shape (the last two
dimensions, times the receptive field for convolutions), a uniform
`[-limit, limit]` with `limit = sqrt(3 * factor / n)` or a truncated
normal with `stddev = sqrt(1.3 * factor / n)`.

Example:
    w = tf.get_variable('w', [784, 10], initializer=xavier_initializer())
"""

import math

import tensorflow.compat.v1 as tf

__all__ = [
  'variance_scaling_initializer',
  'xavier_initializer',
  'xavier_initializer_conv2d',
]

_MODES = ('FAN_IN', 'FAN_OUT', 'FAN_AVG')


def xavier_initializer(uniform=True, seed=None, dtype=tf.float32):
  """Glorot's initializer: `variance_scaling_initializer(1.0, 'FAN_AVG')`."""
  return variance_scaling_initializer(
    factor=1.0, mode='FAN_AVG', uniform=uniform, seed=seed, dtype=dtype
  )


xavier_initializer_conv2d = xavier_initializer


def variance_scaling_initializer(
  factor=2.0, mode='FAN_IN', uniform=False, seed=None, dtype=tf.float32
):
  """An initializer with variance `factor / n` (He's by default).

  Args:
    factor: the variance scale.
    mode: 'FAN_IN', 'FAN_OUT' or 'FAN_AVG': what `n` is.
    uniform: a uniform distribution instead of a truncated normal.
    seed: the op seed.
    dtype: a floating dtype.

  Returns:
    a function `(shape, dtype, partition_info) -> Tensor`.

  Raises:
    TypeError: `dtype` is not a floating type.
    ValueError: `mode` is not one of the three.
  """
  if not tf.as_dtype(dtype).is_floating:
    raise TypeError(
      'variance_scaling_initializer: dtype must be a floating type, got '
      f'{tf.as_dtype(dtype).name}.'
    )
  if mode not in _MODES:
    raise ValueError(
      f'variance_scaling_initializer: mode must be one of {_MODES}, got '
      f'{mode!r}.'
    )

  def _initializer(shape, dtype=dtype, partition_info=None):
    if not tf.as_dtype(dtype).is_floating:
      raise TypeError(
        'variance_scaling_initializer: cannot initialize a '
        f'{tf.as_dtype(dtype).name} variable; it needs a floating type.'
      )
    # A slice of a partitioned variable gets the whole one's fans.
    if partition_info is not None:
      shape = partition_info.full_shape
    shape = [int(dim) for dim in shape]
    if shape:
      fan_in = float(shape[-2] if len(shape) > 1 else shape[-1])
      fan_out = float(shape[-1])
    else:
      fan_in = fan_out = 1.0
    for dim in shape[:-2]:
      fan_in *= dim
      fan_out *= dim
    n = {'FAN_IN': fan_in, 'FAN_OUT': fan_out}.get(
      mode, (fan_in + fan_out) / 2.0
    )
    if uniform:
      limit = math.sqrt(3.0 * factor / n)
      return tf.random_uniform(shape, -limit, limit, dtype, seed=seed)
    stddev = math.sqrt(1.3 * factor / n)
    return tf.truncated_normal(shape, 0.0, stddev, dtype, seed=seed)

  return _initializer
