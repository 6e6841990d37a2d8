"""The rule of a piecewise-constant learning rate, in one place.

`hooks.LearningRateSetterHook` (a fed rate) and `schedules.Schedule` (in
the graph, or fed) both check and evaluate their boundaries here, so the
rate a run is fed and the rate a schedule reports never disagree.

Example:
    check([10, 20], [0.1, 0.01, 0.001], 'MySchedule')
    value_at([10, 20], [0.1, 0.01, 0.001], 10)  # 0.01
"""

import bisect

from graphnet import errors

__all__ = ['check', 'value_at']


def check(boundaries, values, where):
  """The one rule of a piecewise schedule (hook-fed or in the graph).

  Args:
    boundaries: global steps where the value changes.
    values: the rates, one more than `boundaries`.
    where: the class checking, for the message.

  Raises:
    ConfigError: the counts do not fit (`field` 'values'), the boundaries
      do not strictly increase ('boundaries'), or a value is not > 0.
  """
  boundaries, values = list(boundaries), list(values)
  if len(values) != len(boundaries) + 1:
    raise errors.ConfigError(
      f'{where}: expected one more value than boundaries, got '
      f'{len(boundaries)} boundaries {boundaries} and {len(values)} values '
      f'{values}.',
      field='values',
    )
  if boundaries != sorted(set(boundaries)):
    raise errors.ConfigError(
      f'{where}: boundaries must be strictly increasing, got {boundaries}.',
      field='boundaries',
    )
  if not all(v > 0 for v in values):
    raise errors.ConfigError(
      f'{where}: values must be positive rates, got {values}.',
      field='values',
    )


def value_at(boundaries, values, step):
  """The value in force at global step `step`: it changes at a boundary.

  `values[i]` for the first `i` with `step < boundaries[i]`, else the last.
  """
  return values[bisect.bisect_right(boundaries, step)]
