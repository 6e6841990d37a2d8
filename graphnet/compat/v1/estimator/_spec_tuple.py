"""TF1's spec namedtuples: fields and defaults written once, checked.

`EstimatorSpec`, `TrainSpec` and `EvalSpec` are namedtuples whose
constructor takes the fields, positionally or by keyword, with TF 1.15's
defaults, and checks them. `spec_tuple` makes such a base from the fields;
the subclass defines `_checked(self)`, which raises for a bad field and
returns the value to keep (e.g. with `hooks` made a tuple).

Example:
    class TrainSpec(spec_tuple('TrainSpec', 'input_fn', max_steps=None)):
      __slots__ = ()

      def _checked(self):
        if not callable(self.input_fn):
          raise ConfigError(...)
        return self
"""

import collections
import inspect

__all__ = ['spec_tuple']


def spec_tuple(typename, *required, **defaults):
  """A namedtuple base: fields `required`, then `defaults` (in order).

  Returns:
    a class whose instances are made by `_checked()` of the plain tuple;
    its signature is the fields with their defaults.
  """
  fields = collections.namedtuple(
    typename, [*required, *defaults], defaults=tuple(defaults.values())
  )

  class Spec(fields):
    __slots__ = ()

    def __new__(cls, *args, **kwargs):
      # `_replace` in `_checked` makes tuples without coming back here.
      return fields.__new__(cls, *args, **kwargs)._checked()

    __new__.__signature__ = inspect.signature(fields.__new__)

    def _checked(self):
      raise NotImplementedError(f'{typename} must define _checked.')

  Spec.__name__ = Spec.__qualname__ = f'_{typename}Fields'
  return Spec
