"""Read-only public attributes backed by private ones, declared in one line.

A class that shows several private attributes read-only (`DataSet`'s
`num_examples`, `Predictor`'s `graph`...) declares each with its docstring
instead of writing a `@property` that only returns it. No TensorFlow; every
layer may import it.

Example:
    class Counter:
      count = attributes.ReadOnly('Times `add` was called (int).')

      def __init__(self):
        self._count = 0

      def add(self):
        self._count += 1
"""

import operator

__all__ = ['ReadOnly']


class ReadOnly:
  """A read-only attribute returning the instance's `_<name>` (or `source`).

  Behaves as a `@property` without a setter: reading returns the private
  attribute, assigning or deleting raises AttributeError, and `help()`
  shows the docstring.
  """

  def __init__(self, doc, source=None):
    """Declares the attribute.

    Args:
      doc: its docstring (what it holds: type, shape, meaning).
      source: the attribute it shows, a dotted path such as
        `'train.num_classes'`; None: `_` + its own name.
    """
    self.__doc__ = doc
    self._source = source
    self._name = None

  def __set_name__(self, owner, name):
    self._name = name
    if self._source is None:
      self._source = f'_{name}'

  def __get__(self, instance, owner=None):
    if instance is None:
      return self
    return operator.attrgetter(self._source)(instance)

  def __set__(self, instance, value):
    raise AttributeError(self._refusal(instance, 'setter'))

  def __delete__(self, instance):
    raise AttributeError(self._refusal(instance, 'deleter'))

  def _refusal(self, instance, what):
    # The words of a `@property` without one.
    owner = type(instance).__name__
    return f'property {self._name!r} of {owner!r} object has no {what}'
