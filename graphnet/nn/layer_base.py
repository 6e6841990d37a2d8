"""The base of `graphnet.layers`: naming, reuse and argument checks.

`Layer` gives every layer its variable scope, the check that a second
call without reuse raises a `ConfigError` saying how to share or copy,
and `.variables` / `.trainable_variables`; a layer implements `_build`.
The functions below check constructor arguments with messages that name
the layer and the argument.

Example:
    class Scale(Layer):
      def _build(self, inputs, is_training):
        del is_training
        s = tf.get_variable('scale', [], initializer=tf.ones_initializer())
        return inputs * s
"""

import math
import re

import numpy as np
import tensorflow.compat.v1 as tf

from graphnet import attributes
from graphnet import errors

__all__ = [
  'PADDINGS',
  'fan_in_truncated_normal',
  'Layer',
  'join_scope',
  'graph_variables',
  'check_name',
  'positive_int',
  'pair',
  'padding_of',
  'optional_callable',
  'optional_layer',
]

# TF's rule for scope names, without '/' so that a name is one scope level.
_NAME_PATTERN = re.compile(r'^[A-Za-z0-9.][A-Za-z0-9_.\-]*$')
PADDINGS = ('SAME', 'VALID')
# How many clashing variable names an error message lists.
_NAMES_SHOWN = 3


def fan_in_truncated_normal(gain=1.0):
  """An initializer: truncated normal with stddev `sqrt(gain / fan_in)`.

  `fan_in` is the product of all dimensions of the variable's shape but the
  last: the inputs of a `Dense` weight `[fan_in, units]`, or `kh * kw *
  channels` of a `Conv2D` kernel. gain 1 is the tutorial MLP's
  `1 / sqrt(fan_in)`; gain 2 (He) keeps the scale of activations through a
  ReLU, as in the deep-MNIST conv net.

  Args:
    gain: python float > 0.

  Returns:
    an initializer for `tf.get_variable`.

  Raises:
    ConfigError: `gain` is not > 0.
  """
  if not gain > 0:
    raise errors.ConfigError(
      f'fan_in_truncated_normal: gain must be > 0, got {gain}.'
    )

  def _initializer(shape, dtype=tf.float32, partition_info=None):
    del partition_info  # Variables here are never partitioned.
    fan_in = math.prod(shape[:-1])
    stddev = math.sqrt(gain / fan_in)
    return tf.truncated_normal(shape, stddev=stddev, dtype=dtype)

  return _initializer


class Layer:
  """Base class: scope, reuse checks and variable bookkeeping.

  A subclass sets `_DEFAULT_NAME`, sets `_HAS_VARIABLES` when it makes
  variables, and implements `_build(inputs, is_training) -> outputs`, which
  runs inside the layer's variable scope and makes its variables with
  `tf.get_variable` (weight penalties through `_add_penalty`).
  """

  _DEFAULT_NAME = 'layer'
  _HAS_VARIABLES = False
  # Added to the message about inputs of the wrong rank.
  _RANK_HINT = ''

  name = attributes.ReadOnly(
    "The layer's variable scope name (None: a `Sequential` with none)."
  )
  variables = attributes.ReadOnly(
    "Tuple of the variables made by the layer's first call.\n\n"
    'Those of the latest graph the layer made variables in; empty before '
    'any call (and always for layers without variables). A copy made in '
    'another variable scope of the same graph is not listed.'
  )

  def __init__(self, name=None):
    if name is not None:
      check_name(type(self).__name__, name)
    self._name = self._DEFAULT_NAME if name is None else name
    self._named = name is not None
    self._graph = None
    self._variables = ()
    self._adds_penalties = False

  @property
  def trainable_variables(self):
    """The `variables` that are trainable (no batch-norm moving stats)."""
    return tuple(v for v in self._variables if v.trainable)

  def __call__(self, inputs, is_training=False):
    """Builds the layer on `inputs`.

    Args:
      inputs: a float tensor (or array) of the shape the layer expects.
      is_training: python bool; True builds the training form (dropout
        active, batch norm on batch statistics with moving-statistics
        updates in `tf.GraphKeys.UPDATE_OPS`), False the evaluation form.

    Returns:
      the output tensor.

    Raises:
      ConfigError: eager execution is on; `is_training` is not a python
        bool; the inputs have the wrong dtype or shape; the layer's
        variables already exist and the current variable scope does not
        reuse them; or the scope reuses variables that do not exist.
    """
    self._check_call(is_training)
    inputs = tf.convert_to_tensor(inputs)
    scope = tf.get_variable_scope()
    existing = self._existing_variables(scope.name)
    self._check_reuse(scope, existing)
    creating = self._owns_variables() and not existing
    # A tower built without reuse adds its penalties: the first call, or
    # a step inside an in-graph loop (whose getter returns the variables).
    self._adds_penalties = creating or not scope.reuse
    try:
      with self._scope():
        outputs = self._build(inputs, is_training)
    finally:
      self._adds_penalties = False
    if creating:
      self._record(scope.name)
    return outputs

  def __repr__(self):
    return f'{type(self).__name__}(name={self._name!r})'

  def _build(self, inputs, is_training):
    raise NotImplementedError(f'{type(self).__name__} must define _build().')

  def _scope(self):
    return tf.variable_scope(self._name)

  def _owns_variables(self):
    return self._HAS_VARIABLES

  def _existing_variables(self, scope_name):
    """Variables of the default graph this layer would make in scope_name."""
    if not self._owns_variables():
      return []
    prefix = join_scope(scope_name, self._name) + '/'
    return [v for v in graph_variables() if v.op.name.startswith(prefix)]

  def _record(self, scope_name):
    graph = tf.get_default_graph()
    # The first call in a graph made the variables; later copies don't count.
    if graph is not self._graph:
      self._graph = graph
      self._variables = tuple(self._existing_variables(scope_name))

  def _add_penalty(self, weights, regularizer):
    """Adds `regularizer(weights)` to 'losses' unless this call reuses them."""
    if regularizer is not None and self._adds_penalties:
      tf.add_to_collection('losses', regularizer(weights))

  def _check_call(self, is_training):
    if tf.executing_eagerly():
      raise errors.ConfigError(
        f'{self._label()}: graphnet layers build graphs; call them inside '
        '`with tf.Graph().as_default():` or after '
        'tf.compat.v1.disable_eager_execution().'
      )
    if not isinstance(is_training, (bool, np.bool_)):
      raise errors.ConfigError(
        f'{self._label()}: is_training must be a python bool (build one '
        f'tower per mode), got {is_training!r}.'
      )

  def _check_reuse(self, scope, existing):
    # A custom getter (the in-graph loop's, the moving averages') decides
    # itself what to return.
    if existing and not scope.reuse and scope.custom_getter is None:
      names = ', '.join(v.op.name for v in existing[:_NAMES_SHOWN])
      raise errors.ConfigError(
        f'{self._label()}: variables {names} already exist in this graph '
        f'(made by an earlier call, or by another layer of the same name), '
        f'and variable scope {scope.name!r} does not reuse them. To share '
        'them (e.g. an evaluation tower), call it inside `with '
        'tf.variable_scope(tf.get_variable_scope(), reuse=True):`; for a '
        'copy with its own variables, call it inside a new '
        "`tf.variable_scope('copy')` or build a new layer object with "
        'another name.'
      )
    if scope.reuse is True and self._owns_variables() and not existing:
      where = join_scope(scope.name, self._name) or '(root)'
      raise errors.ConfigError(
        f'{self._label()}: variable scope {scope.name!r} has reuse=True but '
        f'there are no variables under {where!r} to reuse; call the layer '
        'once without reuse first to create them.'
      )

  def _label(self):
    return f'{type(self).__name__} {self._name!r}'

  def _float_input(self, inputs, rank=None, min_rank=None, sized=False):
    """Checks `inputs`: floating point, rank; last dimension if `sized`."""
    if not inputs.dtype.is_floating:
      raise errors.ConfigError(
        f'{self._label()}: expected floating-point inputs, got '
        f'{inputs.dtype.name}; cast them first, e.g. '
        'tf.cast(images, tf.float32).'
      )
    ndims = inputs.shape.ndims
    if (rank is not None and ndims != rank) or (
      min_rank is not None and (ndims is None or ndims < min_rank)
    ):
      wanted = f'rank {rank}' if rank is not None else f'rank >= {min_rank}'
      raise errors.ConfigError(
        f'{self._label()}: expected inputs of {wanted}, got shape '
        f'{inputs.shape}.{self._RANK_HINT}'
      )
    if sized and inputs.shape[-1] is None:
      raise errors.ConfigError(
        f'{self._label()}: the last dimension of the inputs must be known '
        f'to size the variables, got shape {inputs.shape}.'
      )
    return inputs


def join_scope(scope_name, name):
  """`scope_name/name`, or either alone when the other is empty."""
  if not name:
    return scope_name
  return f'{scope_name}/{name}' if scope_name else name


def graph_variables():
  """The global and local variables of the default graph."""
  graph = tf.get_default_graph()
  return graph.get_collection(
    tf.GraphKeys.GLOBAL_VARIABLES
  ) + graph.get_collection(tf.GraphKeys.LOCAL_VARIABLES)


def check_name(class_name, name):
  """Returns `name` if it is one scope level; raises ConfigError otherwise."""
  if not isinstance(name, str) or not _NAME_PATTERN.match(name):
    raise errors.ConfigError(
      f'{class_name}: name must be a variable scope name (letters, digits, '
      f"'.', '_', '-'; no '/'), got {name!r}."
    )


def positive_int(label, what, value):
  """`value` as an int if it is one > 0; raises ConfigError otherwise."""
  if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
    raise errors.ConfigError(
      f'{label}: {what} must be a positive int, got {value!r}.'
    )
  if value <= 0:
    raise errors.ConfigError(f'{label}: {what} must be > 0, got {value}.')
  return int(value)


def pair(label, what, value):
  """An int or a pair of ints -> a (height, width) tuple of positive ints."""
  if isinstance(value, (list, tuple)):
    if len(value) != 2:
      raise errors.ConfigError(
        f'{label}: {what} must be an int or (height, width), got {value!r}.'
      )
    return tuple(positive_int(label, what, v) for v in value)
  size = positive_int(label, what, value)
  return size, size


def padding_of(label, padding):
  """'SAME' or 'VALID' (any case); raises ConfigError otherwise."""
  if not isinstance(padding, str) or padding.upper() not in PADDINGS:
    raise errors.ConfigError(
      f'{label}: padding must be one of {PADDINGS}, got {padding!r}.'
    )
  return padding.upper()


def optional_callable(label, what, value):
  """Returns `value` if it is None or callable; raises ConfigError otherwise."""
  if value is not None and not callable(value):
    raise errors.ConfigError(
      f'{label}: {what} must be a function or None, got {value!r}.'
    )
  return value


def optional_layer(label, value):
  """Returns `value` if it is None or a Layer; raises ConfigError otherwise."""
  if value is not None and not isinstance(value, Layer):
    raise errors.ConfigError(
      f'{label}: expected a graphnet.layers.Layer (Dense, Conv2D, ...), got '
      f'{value!r}.'
    )
  return value
