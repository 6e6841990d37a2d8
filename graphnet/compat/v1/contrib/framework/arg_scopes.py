"""`arg_scope` and `add_arg_scope` of TF 1.15's `tf.contrib.framework`.

`arg_scope(list_of_functions, **defaults)` sets keyword defaults for the
listed functions, which must be decorated with `add_arg_scope`; scopes
nest (inner values win, arguments given in the call win over both) and an
`arg_scope` yields its dict, which `arg_scope(that_dict)` re-enters. The
stack of scopes is process-wide, as in TF 1.15.

Example:
    with arg_scope([layers.fully_connected], activation_fn=None):
      logits = layers.fully_connected(x, 10)  # Linear, not ReLU.
"""

import contextlib
import functools
import inspect

__all__ = [
  'add_arg_scope',
  'arg_scope',
  'arg_scope_func_key',
  'arg_scoped_arguments',
  'current_arg_scope',
  'has_arg_scope',
]

_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD
# The stack of {function key: {argument: default}}; its top is in force.
_ARG_STACK = [{}]
# {function key: names of its keyword arguments}, for every decorated one.
_DECORATED = {}


def arg_scope_func_key(op):
  """The key under which `arg_scope` stores a function's defaults."""
  return getattr(op, '_key_op', str(op))


def current_arg_scope():
  """The dict {function key: {argument: default}} in force now."""
  return _ARG_STACK[-1]


def has_arg_scope(func):
  """Whether `func` was decorated with `add_arg_scope`."""
  return arg_scope_func_key(func) in _DECORATED


def arg_scoped_arguments(func):
  """The keyword arguments `arg_scope` may set for a decorated `func`."""
  return _DECORATED[arg_scope_func_key(func)]


def add_arg_scope(func):
  """Decorates `func` so that `arg_scope` can set its keyword defaults.

  Args:
    func: a function taking keyword arguments.

  Returns:
    the wrapped function (same name and docstring).
  """
  key = arg_scope_func_key(func)

  @functools.wraps(func)
  def func_with_args(*args, **kwargs):
    scoped = current_arg_scope().get(key)
    if scoped:
      merged = dict(scoped)
      merged.update(kwargs)
      kwargs = merged
    return func(*args, **kwargs)

  # Its signature, not its code: a composed `__signature__` (see
  # `_signatures`) lists the arguments TF1 gives the function.
  _DECORATED[key] = tuple(
    p.name
    for p in inspect.signature(func).parameters.values()
    if p.kind == _KEYWORD and p.default is not inspect.Parameter.empty
  )
  func_with_args._key_op = key
  return func_with_args


@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs):
  """Sets keyword defaults of the listed functions inside a `with` block.

  Args:
    list_ops_or_scope: a list or tuple of functions decorated with
      `add_arg_scope`, or a dict yielded by an earlier `arg_scope` (then
      `kwargs` must be empty).
    **kwargs: the defaults; each listed function must accept them.

  Yields:
    the scope now in force, a dict {function key: {argument: default}}.

  Raises:
    TypeError: `list_ops_or_scope` is neither a list/tuple nor a dict.
    ValueError: a listed function is not decorated with `add_arg_scope`,
      or a dict is given together with keyword arguments.
  """
  if isinstance(list_ops_or_scope, dict):
    if kwargs:
      raise ValueError(
        'arg_scope: re-entering a saved scope (a dict) takes no keyword '
        f'arguments; got {sorted(kwargs)}. Open a nested arg_scope for them.'
      )
    scope = dict(list_ops_or_scope)
  else:
    if not isinstance(list_ops_or_scope, (list, tuple)):
      raise TypeError(
        'arg_scope: list_ops_or_scope must be a list/tuple of functions or '
        f'a scope (dict) yielded by arg_scope; got '
        f'{type(list_ops_or_scope).__name__}.'
      )
    scope = dict(current_arg_scope())
    for op in list_ops_or_scope:
      if not has_arg_scope(op):
        name = getattr(op, '__name__', repr(op))
        raise ValueError(
          f'arg_scope: {name} is not decorated with @add_arg_scope, so '
          'arg_scope cannot set its arguments; decorate it or call it with '
          'the arguments.'
        )
      key = arg_scope_func_key(op)
      merged = dict(scope.get(key, {}))
      merged.update(kwargs)
      scope[key] = merged
  _ARG_STACK.append(scope)
  try:
    yield scope
  finally:
    _ARG_STACK.pop()
