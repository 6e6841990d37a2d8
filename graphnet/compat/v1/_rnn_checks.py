"""The argument checks of TF1's RNN cells (shared by every cell, private).

- `assert_like_rnncell`: the duck-typed interface TF core's `static_rnn` /
  `dynamic_rnn` require of a cell.
- `get_activation` / `get_initializer`: a callable, or a name from the
  tables below, as TF 1.15 accepted them.
- `check_dtype` / `check_float_dtypes`: cells compute in floating point.

Example:
    self._activation = _rnn_checks.get_activation(activation, 'GRUCell')
"""

import tensorflow.compat.v1 as tf

from graphnet import errors

__all__ = [
  'assert_like_rnncell',
  'check_dtype',
  'check_float_dtypes',
  'get_activation',
  'get_initializer',
]

_ACTIVATIONS = {
  'tanh': tf.tanh,
  'sigmoid': tf.sigmoid,
  'relu': tf.nn.relu,
  'relu6': tf.nn.relu6,
  'elu': tf.nn.elu,
  'selu': tf.nn.selu,
  'softplus': tf.nn.softplus,
  'softsign': tf.nn.softsign,
  'linear': tf.identity,
}

_INITIALIZERS = {
  'glorot_uniform': tf.glorot_uniform_initializer,
  'glorot_normal': tf.glorot_normal_initializer,
  'orthogonal': tf.orthogonal_initializer,
  'zeros': tf.zeros_initializer,
  'ones': tf.ones_initializer,
}


def assert_like_rnncell(cell_name, cell):
  """Raises TypeError unless `cell` has the interface TF core requires.

  Args:
    cell_name: the argument's name, for the message.
    cell: the object to check.

  Raises:
    TypeError: naming each missing piece.
  """
  missing = []
  if not _has(cell, 'output_size'):
    missing.append("'output_size' property is missing")
  if not _has(cell, 'state_size'):
    missing.append("'state_size' property is missing")
  if not (_has(cell, 'zero_state') or _has(cell, 'get_initial_state')):
    missing.append("either 'zero_state' or 'get_initial_state' is required")
  if not callable(cell):
    missing.append('is not callable')
  if missing:
    raise TypeError(
      f'The argument {cell_name!r} ({cell!r}) is not an RNNCell: '
      + ', '.join(missing)
      + '. Pass a cell such as BasicLSTMCell, or give yours those members.'
    )


def get_activation(activation, owner):
  """Returns the callable for `activation` (None: tanh, a name, a callable).

  Raises:
    ConfigError: an unknown name.
  """
  if not activation:
    return tf.tanh
  if callable(activation):
    return activation
  return _named(owner, 'activation', activation, _ACTIVATIONS, 'a callable')


def get_initializer(initializer, owner):
  """Returns `initializer` as an initializer object or None (the default).

  Raises:
    ConfigError: an unknown name.
  """
  if initializer is None or callable(initializer):
    return initializer
  make = _named(
    owner, 'initializer', initializer, _INITIALIZERS, 'an initializer object'
  )
  return make()


def _named(owner, field, name, table, expected):
  """`table[name]`, else a ConfigError naming `owner`'s `field`."""
  if name in table:
    return table[name]
  raise errors.ConfigError(
    f'{owner}: {field}={name!r} is not known; expected {expected} or one of '
    f'{sorted(table)}.',
    field=field,
  )


def check_float_dtypes(owner, *values):
  """Raises ConfigError unless every tensor in `values` is float/complex."""
  for value in tf.nest.flatten(values):
    check_dtype(owner, value.dtype)


def check_dtype(owner, dtype):
  """Raises ConfigError unless `dtype` is None, floating or complex."""
  if dtype is None:
    return
  dtype = tf.as_dtype(dtype)
  if not (dtype.is_floating or dtype.is_complex):
    raise errors.ConfigError(
      f'{owner}: RNN cells compute in floating point, but got dtype '
      f'{dtype.name}; cast the inputs with tf.cast(x, tf.float32).',
      field='dtype',
    )


def _has(obj, attr):
  try:
    getattr(obj, attr)
  except AttributeError:
    return False
  return True
