"""TF1's functional `tf.layers` forms, each made from its layer class.

TF 1.15's `tf.layers.dense(inputs, units, ...)` is `Dense(units, ...)`
applied once to `inputs`: the same arguments and defaults, plus `reuse`
(and call arguments such as `training`). `functional` builds such a
function from the class's TF1 signature (`inspect.signature(cls)`), so
each argument and default is written once, on the class; the function
gets TF1's argument order as its `__signature__`.

Example:
    dense = functional(Dense, 'dense', "TF1's `tf.layers.dense`.")
    dense(x, 10)             # Dense(10, name=None, ...)(x): dense/kernel
"""

import inspect

__all__ = ['functional']

_KEYWORD = inspect.Parameter.POSITIONAL_OR_KEYWORD


def functional(cls, name, doc, order=None, defaults=None, call=()):
  """TF1's function `name(inputs, ...)` applying a new `cls` layer once.

  Args:
    cls: a `base.Layer` subclass.
    name: the function's name, e.g. 'dense'.
    doc: its docstring.
    order: TF1's argument names after `inputs`, when they are not the
      class's own order followed by `reuse`.
    defaults: TF1's defaults where the function's differ from the class's
      (`flatten`'s `data_format='channels_last'` for the class's None).
    call: names among `order` passed to the layer call (`training`).

  Returns:
    the function. With `reuse` among its arguments, `name` is the variable
    scope as given (a second call with it needs `reuse=True`), as TF1's
    functions with variables; otherwise it names a new layer.
  """
  parameters = {
    n: p
    for n, p in inspect.signature(cls).parameters.items()
    if p.kind == _KEYWORD
  }
  if order is None:
    order = [*parameters, 'reuse']
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
