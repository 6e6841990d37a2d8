"""TF1's functional `tf.layers` forms, each made from its layer class.

TF 1.15's `tf.layers.dense(inputs, units, ...)` is `Dense(units, ...)`
applied once to `inputs`: the same arguments and defaults, plus `reuse`
(and call arguments such as `training`). `functional` builds such a
function from the class, so each argument and default is written once, on
the class; the function gets TF1's argument order as its `__signature__`.

Example:
    dense = functional(Dense, 'dense', "TF1's `tf.layers.dense`.")
    dense(x, 10)             # Dense(10, name=None, ...)(x): dense/kernel
"""

import inspect

from graphnet.compat.v1.layers import base

__all__ = ['functional']

_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD


def _class_parameters(cls):
  """`cls`'s constructor parameters, following `**kwargs` up its bases.

  A subclass taking `(units, *args, **kwargs)` passes the rest to its
  base's `__init__`, whose named parameters follow in their order; the
  walk stops at `base.Layer` (its `dtype` is no function argument).
  """
  parameters = {}
  for klass in cls.__mro__:
    if klass is base.Layer:
      break
    if '__init__' not in vars(klass):
      continue
    signature = inspect.signature(klass.__init__)
    named = list(signature.parameters.values())[1:]  # Not self.
    for parameter in named:
      if parameter.kind == _KEYWORD:
        parameters.setdefault(parameter.name, parameter)
    if not any(p.kind == inspect.Parameter.VAR_KEYWORD for p in named):
      break
  return parameters


def functional(cls, name, doc, order=None, omit=(), defaults=None, call=()):
  """TF1's function `name(inputs, ...)` applying a new `cls` layer once.

  Args:
    cls: a `base.Layer` subclass.
    name: the function's name, e.g. 'dense'.
    doc: its docstring.
    order: TF1's argument names after `inputs`, when they are not the
      class's own order followed by `reuse`.
    omit: class arguments TF1's function does not take.
    defaults: TF1's defaults where the function's differ in form from the
      class's (`strides=(1, 1)` for the class's 1).
    call: names among `order` passed to the layer call (`training`).

  Returns:
    the function. With `reuse` among its arguments, `name` is the variable
    scope as given (a second call with it needs `reuse=True`), as TF1's
    functions with variables; otherwise it names a new layer.
  """
  parameters = _class_parameters(cls)
  if order is None:
    order = [n for n in parameters if n not in omit] + ['reuse']
  defaults = dict(defaults or {})
  signature = inspect.Signature(
    [inspect.Parameter('inputs', _KEYWORD)]
    + [
      inspect.Parameter(
        n,
        _KEYWORD,
        default=defaults.get(
          n, parameters[n].default if n in parameters else None
        ),
      )
      for n in order
    ]
  )
  scoped = 'reuse' in order

  def apply(*args, **kwargs):
    arguments = signature.bind(*args, **kwargs)
    arguments.apply_defaults()
    arguments = dict(arguments.arguments)
    inputs = arguments.pop('inputs')
    call_arguments = {n: arguments.pop(n) for n in call}
    if scoped:
      reuse = arguments.pop('reuse')
      arguments.update(_scope=arguments['name'], _reuse=reuse)
    return cls(**arguments)(inputs, **call_arguments)

  apply.__name__ = apply.__qualname__ = name
  apply.__module__ = cls.__module__
  apply.__doc__ = doc
  apply.__signature__ = signature
  return apply
