"""The variable helpers of TF 1.15's `tf.contrib.framework` (slim.variables).

- `variable` / `model_variable` call `tf.get_variable`; `model_variable`
  also adds the variable to `MODEL_VARIABLES`. Both honour `arg_scope`
  (`device=`, `regularizer=`, ...), as slim's layers rely on.
- the global step helpers and `get_name_scope`.

Finding variables is in `variable_lookup`, assigning them values and
reading checkpoints in `assignment`; `slim.variables` is the whole
`tf.contrib.framework` namespace, which holds all three.

Example:
    weights = model_variable('weights', shape=[784, 10])  # MODEL_VARIABLES
"""

import functools

import tensorflow.compat.v1 as tf

from graphnet.compat.v1 import _signatures
from graphnet.compat.v1.contrib.framework.arg_scopes import add_arg_scope

__all__ = [
  'add_model_variable',
  'assert_global_step',
  'assert_or_get_global_step',
  'create_global_step',
  'get_global_step',
  'get_name_scope',
  'get_or_create_global_step',
  'global_variable',
  'local_variable',
  'model_variable',
  'variable',
]

_GLOBAL = tf.GraphKeys.GLOBAL_VARIABLES
_MODEL = tf.GraphKeys.MODEL_VARIABLES


# The global step (TF 1.15 moved these to tf.train; contrib kept aliases).
def get_global_step(graph=None):
  """The graph's global step variable, or None."""
  return tf.train.get_global_step(graph)


def create_global_step(graph=None):
  """Creates the global step (int64 scalar `global_step`, not trainable)."""
  return tf.train.create_global_step(graph)


def get_or_create_global_step(graph=None):
  """The graph's global step, created first if missing."""
  return tf.train.get_or_create_global_step(graph)


def assert_global_step(global_step_tensor):
  """Raises TypeError unless the tensor is a valid global step."""
  tf.train.assert_global_step(global_step_tensor)


def assert_or_get_global_step(graph=None, global_step_tensor=None):
  """Checks the given global step or returns the graph's (None if none)."""
  if global_step_tensor is None:
    return get_global_step(graph)
  assert_global_step(global_step_tensor)
  return global_step_tensor


def get_name_scope():
  """The current name scope, without a trailing '/'."""
  return tf.get_default_graph().get_name_scope()


# Creating variables.
def _variable_in(collection, function_name):
  """TF1's `function_name`: a non-trainable variable in `collection` only."""

  def variable_in(
    initial_value, validate_shape=True, name=None, use_resource=None
  ):
    return tf.Variable(
      initial_value,
      trainable=False,
      collections=[collection],
      validate_shape=validate_shape,
      name=name,
      use_resource=use_resource,
    )

  variable_in.__name__ = variable_in.__qualname__ = function_name
  variable_in.__doc__ = (
    f'A non-trainable `tf.Variable` in `{collection}` only (arguments as '
    "`tf.Variable`'s)."
  )
  return variable_in


local_variable = _variable_in(tf.GraphKeys.LOCAL_VARIABLES, 'local_variable')
global_variable = _variable_in(_GLOBAL, 'global_variable')


@add_arg_scope
def variable(
  name,
  shape=None,
  dtype=None,
  initializer=None,
  regularizer=None,
  trainable=True,
  collections=None,
  caching_device=None,
  device=None,
  partitioner=None,
  custom_getter=None,
  use_resource=None,
  synchronization=tf.VariableSynchronization.AUTO,
  aggregation=tf.VariableAggregation.NONE,
):
  """Gets or creates a variable through `tf.get_variable`.

  Args:
    name: the name in the current variable scope.
    shape: the shape of a new variable.
    dtype: its dtype.
    initializer: its initializer.
    regularizer: its loss goes to `REGULARIZATION_LOSSES` when the
      variable is created.
    trainable: whether it is in `TRAINABLE_VARIABLES`.
    caching_device: as for `tf.get_variable`.
    partitioner: as for `tf.get_variable`.
    use_resource: as for `tf.get_variable`.
    synchronization: as for `tf.get_variable`.
    aggregation: as for `tf.get_variable`.
    collections: the collections of a new variable (default
      `[GLOBAL_VARIABLES]`; `TRAINABLE_VARIABLES` is added if trainable).
    device: a device string or function placing the variable.
    custom_getter: called instead of `tf.get_variable`, with the same
      arguments plus the current scope's `reuse`.

  Returns:
    the variable.
  """
  collections = list(set(collections if collections is not None else [_GLOBAL]))
  getter = tf.get_variable
  if custom_getter is not None:
    getter = functools.partial(
      custom_getter, reuse=tf.get_variable_scope().reuse
    )
  with tf.device(device or ''):
    return getter(
      name,
      shape=shape,
      dtype=dtype,
      initializer=initializer,
      regularizer=regularizer,
      trainable=trainable,
      collections=collections,
      caching_device=caching_device,
      partitioner=partitioner,
      use_resource=use_resource,
      synchronization=synchronization,
      aggregation=aggregation,
    )


@add_arg_scope
@_signatures.like(variable, dtype=tf.float32)
def model_variable(name, collections, **arguments):
  """Like `variable`, and the variable is also in `MODEL_VARIABLES`.

  It takes `variable`'s arguments, in TF1's order, but `dtype` defaults to
  `tf.float32`.

  Its collections are `collections` plus `GLOBAL_VARIABLES` and
  `MODEL_VARIABLES` (and `TRAINABLE_VARIABLES` when trainable). Variables
  of the contrib layers are made here, so `arg_scope([model_variable],
  device='/cpu:0')` places them all.
  """
  collections = list(collections or []) + [_GLOBAL, _MODEL]
  return variable(name, collections=collections, **arguments)


def add_model_variable(var):
  """Adds `var` to `MODEL_VARIABLES` (once)."""
  if var not in tf.get_collection(_MODEL):
    tf.add_to_collection(_MODEL, var)
