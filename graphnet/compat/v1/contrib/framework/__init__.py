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

from graphnet import compat as _compat
from graphnet.compat.v1.contrib.framework import arg_scopes
from graphnet.compat.v1.contrib.framework import assignment
from graphnet.compat.v1.contrib.framework import variable_lookup
from graphnet.compat.v1.contrib.framework import variables

# Each module's public names, listed once in its `__all__`.
__all__ = sorted(
  _compat.reexport(
    globals(), [arg_scopes, assignment, variable_lookup, variables]
  )
)


__getattr__ = _compat.not_provided(
  'tf.contrib.framework',
  'is not provided by graphnet, which has arg_scope, add_arg_scope, the '
  'global step and the variable helpers of TF 1.15. Look for it in '
  'tf.compat.v1 (e.g. tf.sort, tf.nest), or keep this program on '
  'TensorFlow 1.15.',
)
