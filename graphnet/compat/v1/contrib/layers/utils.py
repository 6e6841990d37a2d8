"""Helpers shared by the contrib layers: output aliases and collections.

`slim.utils.convert_collection_to_dict(collection)` turns the outputs a
network collected with `outputs_collections=` into {alias: tensor}, the
`end_points` of slim's networks.

Example:
    net = layers.conv2d(x, 8, 3, outputs_collections='ends', scope='c1')
    utils.convert_collection_to_dict('ends')  # {'c1': net}
"""

import collections

import tensorflow.compat.v1 as tf

__all__ = [
  'append_tensor_alias',
  'collect_named_outputs',
  'constant_value',
  'convert_collection_to_dict',
  'get_tensor_aliases',
  'get_variable_collections',
  'last_dimension',
  'smart_cond',
]


def collect_named_outputs(collections_, alias, outputs):
  """Adds `outputs` to `collections_` (if any) tagged with `alias`."""
  if collections_:
    append_tensor_alias(outputs, alias)
    tf.add_to_collections(collections_, outputs)
  return outputs


def append_tensor_alias(tensor, alias):
  """Appends `alias` (without a trailing '/') to `tensor.aliases`."""
  alias = alias.rstrip('/')
  if hasattr(tensor, 'aliases'):
    tensor.aliases.append(alias)
  else:
    tensor.aliases = [alias]
  return tensor


def get_tensor_aliases(tensor):
  """`tensor.aliases`, or its op name (name for outputs other than :0)."""
  if hasattr(tensor, 'aliases'):
    return tensor.aliases
  if tensor.name.endswith(':0'):
    return [tensor.op.name]
  return [tensor.name]


def convert_collection_to_dict(collection, clear_collection=False):
  """An OrderedDict {alias: tensor} of a collection's tensors."""
  output = collections.OrderedDict(
    (alias, tensor)
    for tensor in tf.get_collection(collection)
    for alias in get_tensor_aliases(tensor)
  )
  if clear_collection:
    tf.get_default_graph().clear_collection(collection)
  return output


def get_variable_collections(variables_collections, name):
  """The collections for variable `name` (a dict is looked up by name)."""
  if isinstance(variables_collections, dict):
    return variables_collections.get(name)
  return variables_collections


def add_variable_to_collections(variable, variables_collections, name):
  """Adds `variable` to the collections `variables_collections` gives it."""
  for collection in get_variable_collections(variables_collections, name) or ():
    if variable not in tf.get_collection(collection):
      tf.add_to_collection(collection, variable)


def constant_value(value):
  """A Python value for `value` (bool, tensor, variable), or None."""
  if isinstance(value, (tf.Tensor, tf.Variable)):
    return tf.get_static_value(value)
  return value


def smart_cond(pred, true_fn, false_fn, name=None):
  """`true_fn()` or `false_fn()` when `pred` is known, else `tf.cond`."""
  value = constant_value(pred)
  if value is None:
    return tf.cond(pred, true_fn, false_fn, name=name)
  return true_fn() if value else false_fn()


def last_dimension(shape, min_rank=1):
  """The static last dimension of `shape` (an int).

  Raises:
    ValueError: the rank is unknown or below `min_rank`, or the last
      dimension is unknown.
  """
  shape = tf.TensorShape(shape)
  if shape.ndims is None:
    raise ValueError(f'expected a tensor of known rank, got shape {shape}.')
  if shape.ndims < min_rank:
    raise ValueError(
      f'expected a tensor of rank >= {min_rank}, got shape {shape}.'
    )
  value = tf.dimension_value(shape[-1])
  if value is None:
    raise ValueError(
      f'the last dimension must be known, got shape {shape}; set it with '
      'set_shape or a placeholder of known width.'
    )
  return value
