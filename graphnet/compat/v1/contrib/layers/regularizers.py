"""`tf.contrib.layers` regularizers of TF 1.15 (l1, l2, sums).

A regularizer maps a weight tensor to a scalar loss; given to a layer
(`weights_regularizer=`) or `tf.get_variable(regularizer=)`, its loss goes
to `tf.GraphKeys.REGULARIZATION_LOSSES` when the variable is created.
`l2_regularizer(scale)(w)` is `scale * sum(w ** 2) / 2` (`tf.nn.l2_loss`).

Example:
    regularizer = l2_regularizer(0.0001)
    w = tf.get_variable('w', [784, 500], regularizer=regularizer)
    tf.add_to_collection('losses', regularizer(w))  # the book's way
"""

import numbers

import tensorflow.compat.v1 as tf

__all__ = [
  'apply_regularization',
  'l1_l2_regularizer',
  'l1_regularizer',
  'l2_regularizer',
  'sum_regularizer',
]


def _check_scale(scale, name):
  """Returns whether `scale` disables the regularizer (it is 0)."""
  if isinstance(scale, numbers.Integral):
    raise ValueError(
      f'{name}: scale cannot be an integer, got {scale!r}; write it as a '
      f'float ({float(scale)!r}).'
    )
  if isinstance(scale, numbers.Real):
    if scale < 0.0:
      raise ValueError(
        f'{name}: scale must be >= 0, got {scale!r}; 0.0 disables it.'
      )
    if scale == 0.0:
      tf.logging.info('Scale of 0 disables regularizer.')
      return True
  return False


def _regularizer(short_name, penalty, formula):
  """TF1's `<short_name>_regularizer(scale, scope=None)`.

  Args:
    short_name: 'l1' or 'l2', the name of the regularizers it returns.
    penalty: `weights -> scalar tensor`.
    formula: the penalty in words, for the docstring.

  Returns:
    the function, which checks `scale` and returns the regularizer `w ->
    scale * penalty(w)`, its ops in name scope `scope` (default
    '<short_name>_regularizer', made unique); with scale 0.0, a function
    returning None (no loss).
  """
  default_name = f'{short_name}_regularizer'

  def make_regularizer(scale, scope=None):
    if _check_scale(scale, default_name):
      return lambda _: None

    def regularizer(weights):
      with tf.name_scope(scope, default_name, [weights]) as name:
        my_scale = tf.convert_to_tensor(
          scale, dtype=weights.dtype.base_dtype, name='scale'
        )
        return tf.multiply(my_scale, penalty(weights), name=name)

    regularizer.__name__ = regularizer.__qualname__ = short_name
    return regularizer

  make_regularizer.__name__ = make_regularizer.__qualname__ = default_name
  make_regularizer.__doc__ = f"""A function `w -> scale * {formula}`.

  Args:
    scale: a float >= 0 (0.0: the function returns None, no loss).
    scope: the name scope of the loss ops (default '{default_name}').

  Raises:
    ValueError: `scale` is an integer or negative.
  """
  return make_regularizer


def _sum_of_abs(weights):
  return tf.reduce_sum(tf.abs(weights))


l1_regularizer = _regularizer('l1', _sum_of_abs, 'sum(|w|)')
# tf.nn.l2_loss is half the sum of squares.
l2_regularizer = _regularizer('l2', tf.nn.l2_loss, 'tf.nn.l2_loss(w)')


def l1_l2_regularizer(scale_l1=1.0, scale_l2=1.0, scope=None):
  """The sum of an l1 and an l2 regularizer."""
  if isinstance(scale_l1, numbers.Integral):
    scale_l1 = float(scale_l1)
  if isinstance(scale_l2, numbers.Integral):
    scale_l2 = float(scale_l2)
  scope = scope or 'l1_l2_regularizer'
  if scale_l1 == 0.0:
    return l2_regularizer(scale_l2, scope)
  if scale_l2 == 0.0:
    return l1_regularizer(scale_l1, scope)
  return sum_regularizer(
    [l1_regularizer(scale_l1), l2_regularizer(scale_l2)], scope=scope
  )


def sum_regularizer(regularizer_list, scope=None):
  """A regularizer adding the losses of several (None ones skipped)."""
  regularizers = [reg for reg in regularizer_list if reg is not None]
  if not regularizers:
    return None

  def sum_reg(weights):
    with tf.name_scope(scope, 'sum_regularizer', [weights]) as name:
      losses = [reg(weights) for reg in regularizers]
      losses = [loss for loss in losses if loss is not None]
      return tf.add_n(losses, name=name)

  return sum_reg


def apply_regularization(regularizer, weights_list=None):
  """The sum of `regularizer` over `weights_list`, a regularization loss.

  `weights_list` defaults to the WEIGHTS collection; the sum is also added
  to `REGULARIZATION_LOSSES`.

  Raises:
    ValueError: `regularizer` is None or there are no weights.
  """
  if not weights_list:
    weights_list = tf.get_collection(tf.GraphKeys.WEIGHTS)
  if not weights_list:
    raise ValueError(
      'apply_regularization: no weights to regularize; pass weights_list '
      'or add variables to tf.GraphKeys.WEIGHTS.'
    )
  if regularizer is None:
    raise ValueError('apply_regularization: regularizer is None.')
  with tf.name_scope(
    'get_regularization_penalty', values=weights_list
  ) as scope:
    penalties = [regularizer(w) for w in weights_list]
    penalties = [p for p in penalties if p is not None]
    if not penalties:
      return tf.constant(0.0)
    summed = tf.add_n(penalties, name=scope)
    tf.add_to_collection(tf.GraphKeys.REGULARIZATION_LOSSES, summed)
    return summed
