"""graphnet.attributes.ReadOnly: a property without a setter, in one line."""

import pytest

from graphnet import attributes


class _Counter:
  count = attributes.ReadOnly('Times counted (int).')
  total = attributes.ReadOnly('The sum (int).', source='_sums.total')

  def __init__(self):
    self._count = 3
    self._sums = type('Sums', (), {'total': 7})()


class TestReadOnly:
  def test_reads_the_private_attribute(self):
    assert (_Counter().count, _Counter().total) == (3, 7)

  def test_follows_the_private_attribute(self):
    counter = _Counter()
    counter._count = 4
    assert counter.count == 4

  @pytest.mark.parametrize('what', ['setter', 'deleter'])
  def test_refuses_like_a_property(self, what):
    counter = _Counter()
    expected = f"property 'count' of '_Counter' object has no {what}"
    with pytest.raises(AttributeError, match=expected):
      if what == 'setter':
        counter.count = 5
      else:
        del counter.count
    assert counter.count == 3

  def test_class_access_shows_the_docstring(self):
    assert _Counter.count.__doc__ == 'Times counted (int).'
