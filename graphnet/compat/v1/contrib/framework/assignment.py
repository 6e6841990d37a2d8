"""Assigning values and checkpoints to variables (`tf.contrib.framework`).

TF 1.15's `assign_from_values(_fn)`, `assign_from_checkpoint(_fn)` and the
checkpoint readers `load_checkpoint`, `list_variables`, `load_variable`;
also reachable as `slim.variables.<name>`, as in TF 1.15.

Example:
    restore = assign_from_checkpoint_fn(
        '/tmp/model.ckpt', get_variables_to_restore(exclude=['logits']))
    restore(sess)
"""

import tensorflow.compat.v1 as tf

from graphnet.compat.v1.contrib.framework import variable_lookup

__all__ = [
  'assign_from_checkpoint',
  'assign_from_checkpoint_fn',
  'assign_from_values',
  'assign_from_values_fn',
  'list_variables',
  'load_checkpoint',
  'load_variable',
]


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
    found = variable_lookup.get_model_variables(name)
    if not found:
      known = [var.op.name for var in variable_lookup.get_model_variables()]
      raise ValueError(
        f'assign_from_values: no model variable named {name!r}; model '
        f'variables: {known}.'
      )
    _add_assignment(assign_ops, feed_dict, found[0], name, value)
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
  return {variable_lookup.get_variable_full_name(var): var for var in var_list}


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
    _add_assignment(assign_ops, feed_dict, var, name, reader.get_tensor(name))
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


def _add_assignment(assign_ops, feed_dict, var, name, value):
  """Appends `var`'s assign op from a placeholder fed `value` (reshaped)."""
  placeholder = tf.placeholder(
    var.dtype.base_dtype, shape=var.get_shape(), name=f'placeholder/{name}'
  )
  assign_ops.append(var.assign(placeholder))
  feed_dict[placeholder] = value.reshape(var.get_shape())
