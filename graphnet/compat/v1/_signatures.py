"""TF1 signatures composed from shared argument groups (private).

TF 1.15 repeats long argument lists across its APIs: every contrib layer
with weights ends in `activation_fn=relu, ..., trainable=True, scope=None`,
`model_variable` takes `variable`'s arguments, a premade Classifier and its
Regressor share all but the head's, `numpy_input_fn` and `pandas_input_fn`
their batching. Here each such
list is written once and each function's `__signature__` is composed from
it, so a TF1 call binds the same, positionally or by keyword, and
`inspect.signature` (hence `arg_scope`) sees TF1's arguments. The
function itself receives every argument by keyword.

Example:
    SCOPED = group(reuse=None, trainable=True)

    @takes(SCOPED)
    def layer(inputs, units=1, *, scope=None, **scoped):
      ...  # layer(inputs, units=1, reuse=None, trainable=True, scope=None)
"""

import functools
import inspect

__all__ = ['group', 'like', 'takes']

_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD
_KEYWORD_ONLY = inspect.Parameter.KEYWORD_ONLY


def group(*required, **defaults):
  """TF1 arguments in order: `required` names, then `defaults`.

  Returns:
    a tuple of positional-or-keyword `inspect.Parameter`s.
  """
  return tuple(inspect.Parameter(n, _KEYWORD) for n in required) + tuple(
    inspect.Parameter(n, _KEYWORD, default=v) for n, v in defaults.items()
  )


def takes(*groups):
  """Decorator: a function's own arguments around shared `groups`.

  The composed signature is the function's positional-or-keyword
  parameters, then each group's, then its keyword-only parameters (now
  positional too): `def f(x, *, scope=None, **shared)` stands for
  `f(x, <groups>, scope=None)`, its `**shared` receiving the groups'.

  Args:
    *groups: sequences of Parameters (`group(...)`).

  Returns:
    the decorator.
  """

  def decorate(function):
    own = inspect.signature(function).parameters.values()
    parameters = [p for p in own if p.kind == _KEYWORD]
    for shared in groups:
      parameters.extend(shared)
    parameters.extend(
      p.replace(kind=_KEYWORD) for p in own if p.kind == _KEYWORD_ONLY
    )
    return _bound(function, inspect.Signature(parameters))

  return decorate


def like(template, omit=(), **defaults):
  """Decorator: a function taking `template`'s arguments.

  Args:
    template: a function whose signature (e.g. composed by `takes`) is
      TF1's for the decorated one too.
    omit: names of `template`'s arguments the function does not take.
    **defaults: new defaults by argument name.

  Returns:
    the decorator.
  """
  parameters = [
    p.replace(default=defaults.get(p.name, p.default))
    for p in inspect.signature(template).parameters.values()
    if p.name not in omit
  ]
  return functools.partial(_bound, signature=inspect.Signature(parameters))


def _bound(function, signature):
  """`function` called with every argument of `signature` by keyword."""

  @functools.wraps(function)
  def call(*args, **kwargs):
    arguments = signature.bind(*args, **kwargs)
    arguments.apply_defaults()
    return function(**arguments.arguments)

  call.__signature__ = signature
  return call
