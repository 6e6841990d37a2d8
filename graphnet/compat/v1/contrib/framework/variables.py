"""The variable helpers of TF 1.15's `tf.contrib.framework` (slim.variables).

- `variable` / `model_variable` call `tf.get_variable`; `model_variable`
  also adds the variable to `MODEL_VARIABLES`. Both honour `arg_scope`
  (`device=`, `regularizer=`, ...), as slim's layers rely on.
- `get_variables*`, `get_variables_to_restore`, `assign_from_checkpoint_fn`,
  the global step, `list_variables` / `load_variable`.

Example:
    restore = assign_from_checkpoint_fn(
        '/tmp/model.ckpt', get_variables_to_restore(exclude=['logits']))
    restore(sess)
"""

import functools
import re

import tensorflow.compat.v1 as tf

from graphnet.compat.v1.contrib.framework.arg_scopes import add_arg_scope

__all__ = [
  'add_model_variable',
  'assert_global_step',
  'assert_or_get_global_step',
  'assign_from_checkpoint',
  'assign_from_checkpoint_fn',
  'assign_from_values',
  'assign_from_values_fn',
  'create_global_step',
  'filter_variables',
  'get_global_step',
  'get_local_variables',
  'get_model_variables',
  'get_name_scope',
  'get_or_create_global_step',
  'get_trainable_variables',
  'get_unique_variable',
  'get_variable_full_name',
  'get_variables',
  'get_variables_by_name',
  'get_variables_by_suffix',
  'get_variables_to_restore',
  'global_variable',
  'list_variables',
  'load_checkpoint',
  'load_variable',
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
def local_variable(initial_value, validate_shape=True, name=None, **kwargs):
  """A non-trainable variable in `LOCAL_VARIABLES` only."""
  return tf.Variable(
    initial_value,
    trainable=False,
    collections=[tf.GraphKeys.LOCAL_VARIABLES],
    validate_shape=validate_shape,
    name=name,
    **kwargs,
  )


def global_variable(initial_value, validate_shape=True, name=None, **kwargs):
  """A non-trainable variable in `GLOBAL_VARIABLES` only."""
  return tf.Variable(
    initial_value,
    trainable=False,
    collections=[tf.GraphKeys.GLOBAL_VARIABLES],
    validate_shape=validate_shape,
    name=name,
    **kwargs,
  )


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
def model_variable(
  name,
  shape=None,
  dtype=tf.float32,
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
  """Like `variable`, and the variable is also in `MODEL_VARIABLES`.

  Its collections are `collections` plus `GLOBAL_VARIABLES` and
  `MODEL_VARIABLES` (and `TRAINABLE_VARIABLES` when trainable). Variables
  of the contrib layers are made here, so `arg_scope([model_variable],
  device='/cpu:0')` places them all.
  """
  collections = list(collections or []) + [_GLOBAL, _MODEL]
  return variable(
    name,
    shape=shape,
    dtype=dtype,
    initializer=initializer,
    regularizer=regularizer,
    trainable=trainable,
    collections=collections,
    caching_device=caching_device,
    device=device,
    partitioner=partitioner,
    custom_getter=custom_getter,
    use_resource=use_resource,
    synchronization=synchronization,
    aggregation=aggregation,
  )


def add_model_variable(var):
  """Adds `var` to `MODEL_VARIABLES` (once)."""
  if var not in tf.get_collection(_MODEL):
    tf.add_to_collection(_MODEL, var)


# Finding variables.
def get_variables(scope=None, suffix=None, collection=_GLOBAL):
  """Variables of `collection` whose names match `scope` and `suffix`.

  Args:
    scope: a name prefix (a regular expression matched at the start), or a
      `tf.VariableScope`; None for all.
    suffix: the end of the names (':0' is implied).
    collection: the collection searched (default `GLOBAL_VARIABLES`).

  Returns:
    a list of variables, in the collection's order.
  """
  if isinstance(scope, tf.VariableScope):
    scope = scope.name
  if suffix is not None:
    if ':' not in suffix:
      suffix += ':'
    scope = (scope or '') + '.*' + suffix
  return tf.get_collection(collection, scope)


def get_model_variables(scope=None, suffix=None):
  """Like `get_variables`, over `MODEL_VARIABLES`."""
  return get_variables(scope, suffix, _MODEL)


def get_local_variables(scope=None, suffix=None):
  """Like `get_variables`, over `LOCAL_VARIABLES`."""
  return get_variables(scope, suffix, tf.GraphKeys.LOCAL_VARIABLES)


def get_trainable_variables(scope=None, suffix=None):
  """Like `get_variables`, over `TRAINABLE_VARIABLES`."""
  return get_variables(scope, suffix, tf.GraphKeys.TRAINABLE_VARIABLES)


def get_variables_to_restore(include=None, exclude=None):
  """Global variables under the `include` scopes and not under `exclude`.

  Args:
    include: a list of scope names (None: every global variable).
    exclude: a list of scope names whose variables are left out.

  Returns:
    a list of variables, e.g. for `tf.train.Saver(var_list)`.

  Raises:
    TypeError: `include` or `exclude` is not a list or tuple.
  """
  for name, value in (('include', include), ('exclude', exclude)):
    if value is not None and not isinstance(value, (list, tuple)):
      raise TypeError(
        f'get_variables_to_restore: {name} must be a list or tuple of '
        f'scope names, got {type(value).__name__} {value!r}.'
      )
  if include is None:
    chosen = get_variables()
  else:
    chosen = [var for scope in include for var in get_variables(scope)]
  left_out = {
    id(var) for scope in exclude or () for var in get_variables(scope)
  }
  return [var for var in chosen if id(var) not in left_out]


def get_variables_by_suffix(suffix, scope=None):
  """Global variables whose names end in `suffix`."""
  return get_variables(scope=scope, suffix=suffix)


def get_variables_by_name(given_name, scope=None):
  """Global variables whose last name component is `given_name`."""
  suffix = '/' + given_name + ':|^' + given_name + ':'
  return get_variables(scope=scope, suffix=suffix)


def get_unique_variable(var_op_name):
  """The one global variable named exactly `var_op_name`.

  Raises:
    ValueError: there is no such variable (or more than one).
  """
  found = [
    var for var in get_variables(var_op_name) if var.op.name == var_op_name
  ]
  if len(found) != 1:
    raise ValueError(
      f'get_unique_variable: expected one variable named {var_op_name!r}, '
      f'found {len(found)}.'
    )
  return found[0]


def get_variable_full_name(var):
  """The name a checkpoint stores `var` under (its op name)."""
  # A slice of a partitioned variable is saved under the whole one's name.
  info = getattr(var, '_save_slice_info', None)
  return info.full_name if info else var.op.name


def filter_variables(
  var_list,
  include_patterns=None,
  exclude_patterns=None,
  reg_search=True,
):
  """The variables of `var_list` matching an include and no exclude pattern.

  Patterns are regular expressions searched in the names (`re.search`), or
  substrings when `reg_search` is False.
  """

  def matches(name, patterns):
    if reg_search:
      return any(re.search(pattern, name) for pattern in patterns)
    return any(pattern in name for pattern in patterns)

  chosen = []
  for var in var_list:
    if include_patterns is not None and not matches(
      var.op.name, include_patterns
    ):
      continue
    if exclude_patterns is not None and matches(var.op.name, exclude_patterns):
      continue
    chosen.append(var)
  return chosen


# Assigning values.
def assign_from_values(var_names_to_values):
  """An op and feed dict assigning numpy values to named model variables.

  Args:
    var_names_to_values: {variable op name: numpy value}.

  Returns:
    (assign_op, feed_dict) to run together.

  Raises:
    ValueError: a name matches no model variable.
  """
  assign_ops = []
  feed_dict = {}
  for name, value in sorted(var_names_to_values.items()):
    found = get_model_variables(name)
    if not found:
      raise ValueError(
        f'assign_from_values: no model variable named {name!r}; model '
        f'variables: {[var.op.name for var in get_model_variables()]}.'
      )
    var = found[0]
    placeholder = tf.placeholder(
      var.dtype.base_dtype, shape=var.get_shape(), name=f'placeholder/{name}'
    )
    assign_ops.append(var.assign(placeholder))
    feed_dict[placeholder] = value.reshape(var.get_shape())
  return tf.group(*assign_ops), feed_dict


def assign_from_values_fn(var_names_to_values):
  """A function `fn(session)` that runs `assign_from_values`'s op."""
  assign_op, feed_dict = assign_from_values(var_names_to_values)

  def callback(session):
    return session.run(assign_op, feed_dict)

  return callback


def _var_dict(var_list):
  if isinstance(var_list, dict):
    return dict(var_list)
  return {get_variable_full_name(var): var for var in var_list}


def assign_from_checkpoint(model_path, var_list, ignore_missing_vars=False):
  """An op and feed dict setting `var_list` from a checkpoint's values.

  Args:
    model_path: a checkpoint prefix.
    var_list: variables (stored under their op names) or a dict
      {name in the checkpoint: variable}.
    ignore_missing_vars: skip variables the checkpoint lacks instead of
      failing.

  Returns:
    (assign_op, feed_dict).

  Raises:
    ValueError: a variable is missing from the checkpoint.
  """
  reader = tf.train.NewCheckpointReader(model_path)
  assign_ops = []
  feed_dict = {}
  for name, var in sorted(_var_dict(var_list).items()):
    if not reader.has_tensor(name):
      if ignore_missing_vars:
        tf.logging.warning(
          'Variable %s missing in checkpoint %s', name, model_path
        )
        continue
      raise ValueError(
        f'assign_from_checkpoint: checkpoint {model_path} has no tensor '
        f'{name!r}; pass ignore_missing_vars=True to skip it.'
      )
    placeholder = tf.placeholder(
      var.dtype.base_dtype, shape=var.get_shape(), name=f'placeholder/{name}'
    )
    assign_ops.append(var.assign(placeholder))
    feed_dict[placeholder] = reader.get_tensor(name).reshape(var.get_shape())
  return tf.group(*assign_ops), feed_dict


def assign_from_checkpoint_fn(
  model_path, var_list, ignore_missing_vars=False, reshape_variables=False
):
  """A function `fn(session)` restoring `var_list` from a checkpoint.

  Builds a `tf.train.Saver` over the variables now (so call it after the
  graph is built), e.g. as `slim.learning.train`'s `init_fn`.

  Args:
    model_path: a checkpoint prefix.
    var_list: variables or a dict {name in the checkpoint: variable}.
    ignore_missing_vars: leave out (with a warning) variables the
      checkpoint lacks; otherwise restoring fails on them.
    reshape_variables: let values of another shape with as many elements
      be reshaped.

  Returns:
    the function, or None (with a warning) when nothing is left to restore.

  Raises:
    ValueError: `var_list` is empty.
  """
  if not var_list:
    raise ValueError(
      f'assign_from_checkpoint_fn: var_list is empty; pass the variables to '
      f'restore from {model_path} (e.g. slim.get_variables_to_restore()).'
    )
  if ignore_missing_vars:
    reader = tf.train.NewCheckpointReader(model_path)
    available = {}
    for name, var in _var_dict(var_list).items():
      if reader.has_tensor(name):
        available[name] = var
      else:
        tf.logging.warning(
          'Variable %s missing in checkpoint %s', name, model_path
        )
    var_list = available
  if not var_list:
    tf.logging.warning('No Variables to restore')
    return None
  saver = tf.train.Saver(var_list, reshape=reshape_variables)

  def callback(session):
    saver.restore(session, model_path)

  return callback


# Reading checkpoints.
def load_checkpoint(filepattern):
  """A `CheckpointReader` for a checkpoint prefix or the latest in a dir."""
  return tf.train.load_checkpoint(filepattern)


def list_variables(checkpoint_dir):
  """[(name, shape)] of a checkpoint (prefix or directory), sorted."""
  return tf.train.list_variables(checkpoint_dir)


def load_variable(checkpoint_dir, name):
  """The numpy value of `name` in a checkpoint (prefix or directory)."""
  return tf.train.load_variable(checkpoint_dir, name)
