"""`tf.contrib.framework` of TF 1.15: `arg_scope` and the variable helpers.

What TF1 programs and slim networks use of it, with TF 1.15's behaviour:

- `arg_scope(list_of_functions, **defaults)` sets keyword defaults for the
  listed functions, which must be decorated with `add_arg_scope`; scopes
  nest (inner values win, arguments given in the call win over both) and an
  `arg_scope` yields its dict, which `arg_scope(that_dict)` re-enters.
- `variable` / `model_variable` call `tf.get_variable`; `model_variable`
  also adds the variable to `MODEL_VARIABLES`. Both honour `arg_scope`
  (`device=`, `regularizer=`, ...), as slim's layers rely on.
- `get_variables*`, `get_variables_to_restore`, `assign_from_checkpoint_fn`,
  the global step, `list_variables` / `load_variable`.

The arg_scope stack is process-wide, as in TF 1.15.

Example:
    from graphnet.compat.v1.contrib import framework

    with framework.arg_scope([layers.fully_connected], activation_fn=None):
      logits = layers.fully_connected(x, 10)  # Linear, not ReLU.
"""

from graphnet import errors
from graphnet.compat.v1.contrib.framework.arg_scopes import add_arg_scope
from graphnet.compat.v1.contrib.framework.arg_scopes import arg_scope
from graphnet.compat.v1.contrib.framework.arg_scopes import arg_scope_func_key
from graphnet.compat.v1.contrib.framework.arg_scopes import arg_scoped_arguments
from graphnet.compat.v1.contrib.framework.arg_scopes import current_arg_scope
from graphnet.compat.v1.contrib.framework.arg_scopes import has_arg_scope
from graphnet.compat.v1.contrib.framework.assignment import (
  assign_from_checkpoint,
)
from graphnet.compat.v1.contrib.framework.assignment import (
  assign_from_checkpoint_fn,
)
from graphnet.compat.v1.contrib.framework.assignment import assign_from_values
from graphnet.compat.v1.contrib.framework.assignment import (
  assign_from_values_fn,
)
from graphnet.compat.v1.contrib.framework.assignment import list_variables
from graphnet.compat.v1.contrib.framework.assignment import load_checkpoint
from graphnet.compat.v1.contrib.framework.assignment import load_variable
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  filter_variables,
)
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  get_local_variables,
)
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  get_model_variables,
)
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  get_trainable_variables,
)
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  get_unique_variable,
)
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  get_variable_full_name,
)
from graphnet.compat.v1.contrib.framework.variable_lookup import get_variables
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  get_variables_by_name,
)
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  get_variables_by_suffix,
)
from graphnet.compat.v1.contrib.framework.variable_lookup import (
  get_variables_to_restore,
)
from graphnet.compat.v1.contrib.framework.variables import add_model_variable
from graphnet.compat.v1.contrib.framework.variables import assert_global_step
from graphnet.compat.v1.contrib.framework.variables import (
  assert_or_get_global_step,
)
from graphnet.compat.v1.contrib.framework.variables import create_global_step
from graphnet.compat.v1.contrib.framework.variables import get_global_step
from graphnet.compat.v1.contrib.framework.variables import get_name_scope
from graphnet.compat.v1.contrib.framework.variables import (
  get_or_create_global_step,
)
from graphnet.compat.v1.contrib.framework.variables import global_variable
from graphnet.compat.v1.contrib.framework.variables import local_variable
from graphnet.compat.v1.contrib.framework.variables import model_variable
from graphnet.compat.v1.contrib.framework.variables import variable

__all__ = [
  'add_arg_scope',
  'add_model_variable',
  'arg_scope',
  'arg_scope_func_key',
  'arg_scoped_arguments',
  'assert_global_step',
  'assert_or_get_global_step',
  'assign_from_checkpoint',
  'assign_from_checkpoint_fn',
  'assign_from_values',
  'assign_from_values_fn',
  'create_global_step',
  'current_arg_scope',
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
  'has_arg_scope',
  'list_variables',
  'load_checkpoint',
  'load_variable',
  'local_variable',
  'model_variable',
  'variable',
]


def __getattr__(name):
  """`tf.contrib.framework.<name>` graphnet lacks: NotProvidedError."""
  if name.startswith('__'):
    raise AttributeError(name)
  raise errors.NotProvidedError(
    f'tf.contrib.framework.{name} is not provided by graphnet, which has '
    'arg_scope, add_arg_scope, the global step and the variable helpers of '
    'TF 1.15. Look for it in tf.compat.v1 (e.g. tf.sort, tf.nest), or keep '
    'this program on TensorFlow 1.15.',
    name=f'tf.contrib.framework.{name}',
  )
