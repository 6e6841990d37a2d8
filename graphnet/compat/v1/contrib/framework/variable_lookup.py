"""Finding variables by scope, suffix, name or pattern (contrib.framework).

TF 1.15's `get_variables` (and its model / local / trainable variants),
`get_variables_to_restore(include=, exclude=)`, `get_variables_by_name`,
`get_unique_variable`, `get_variable_full_name` and `filter_variables`;
also reachable as `slim.variables.<name>`, as in TF 1.15.

Example:
    restore = get_variables_to_restore(exclude=['logits'])
"""

import re

import tensorflow.compat.v1 as tf

__all__ = [
  'filter_variables',
  'get_local_variables',
  'get_model_variables',
  'get_trainable_variables',
  'get_unique_variable',
  'get_variable_full_name',
  'get_variables',
  'get_variables_by_name',
  'get_variables_by_suffix',
  'get_variables_to_restore',
]

_GLOBAL = tf.GraphKeys.GLOBAL_VARIABLES
_MODEL = tf.GraphKeys.MODEL_VARIABLES


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
