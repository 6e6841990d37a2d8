"""Settings that are at once a config field, an option and a flag.

A field of a config dataclass made with `option()` carries its default, its
help line and its bounds, written once: the dataclass checks the bounds
(`check_bounds`), `graphnet.train` takes the field as an option and the
command line defines a flag from it (`graphnet.cli.config_flags`). A
field's option and flag are named as the field, except the few in
`FLAG_OF_FIELD`. Messages name a field through a `names` function:
`as_argument` for library callers (`max_steps`), `as_flag` for the command
line (`--max_steps`). No TensorFlow is imported here.

Example:
    @dataclasses.dataclass(frozen=True)
    class TinyConfig:
      units: int = options.option(16, 'Hidden units.', lower_bound=1)

      def __post_init__(self):
        options.check_bounds(self)
"""

import dataclasses
import types

from graphnet import errors

__all__ = [
  'FLAG_OF_FIELD',
  'as_argument',
  'as_flag',
  'bounds_of',
  'check_bounds',
  'default_of',
  'help_of',
  'is_option',
  'name_of',
  'option',
  'option_default',
  'value_type',
]

# The option (and flag) of each config field whose name differs from it:
# the schedule's fields keep TF1's flag names, the evaluator's poll interval
# its flag's.
FLAG_OF_FIELD = {
  'kind': 'lr_schedule',
  'base_rate': 'learning_rate',
  'boundaries': 'lr_boundaries',
  'values': 'lr_values',
  'interval_secs': 'eval_interval_secs',
}


def option(
  default,
  help,  # noqa: A002
  *,
  lower_bound=None,
  upper_bound=None,
  choices=None,
  **option_default,
):
  """A dataclass field that is also an option and a flag.

  Args:
    default: the field's default (immutable: a number, str, bool, None or
      tuple).
    help: one line for `--help`; `{field}` names another field, rendered
      as that caller's name for it (`--max_steps` or `max_steps`).
    lower_bound: least allowed value (inclusive), or None.
    upper_bound: greatest allowed value (inclusive), or None.
    choices: the allowed values of a str field, or None.
    **option_default: `option_default=value`: the default of the option
      and the flag when it differs from the field's (a config made
      directly keeps TF1's behaviour, `train` and the flag choose).

  Returns:
    a `dataclasses.field`.
  """
  metadata = {
    **option_default,
    'help': help,
    'lower_bound': lower_bound,
    'upper_bound': upper_bound,
    'choices': tuple(choices) if choices is not None else None,
  }
  return dataclasses.field(default=default, metadata=metadata)


def is_option(field):
  """Whether the `dataclasses.Field` was made with `option()`."""
  return 'help' in field.metadata


def name_of(field_name):
  """The option and flag name of a field: `base_rate` -> `learning_rate`."""
  return FLAG_OF_FIELD.get(field_name, field_name)


def as_argument(field_name):
  """How a library caller names a field: the option name."""
  return name_of(field_name)


def as_flag(field_name):
  """How the command line names a field: `--` and the flag name."""
  return f'--{name_of(field_name)}'


class _Rendered(dict):
  def __init__(self, names):
    super().__init__()
    self._names = names

  def __missing__(self, key):
    return self._names(key)


def help_of(field, names=as_flag):
  """The help line of an `option()` field, other fields named by `names`."""
  return field.metadata['help'].format_map(_Rendered(names))


def option_default(field):
  """The default of an `option()` field as an option and a flag."""
  return field.metadata.get('option_default', field.default)


def bounds_of(field):
  """(lower_bound, upper_bound) of an `option()` field; None = unbounded."""
  return field.metadata.get('lower_bound'), field.metadata.get('upper_bound')


def default_of(cls, field_name):
  """The default of `cls`'s field `field_name`."""
  return {f.name: f.default for f in dataclasses.fields(cls)}[field_name]


def value_type(field):
  """The value type of a field: bool, int, float, str or tuple."""
  kind = field.type
  if isinstance(kind, types.UnionType):  # int | None
    kind = next(a for a in kind.__args__ if a is not type(None))
  if kind not in (bool, int, float, str, tuple):
    raise TypeError(f'option {field.name}: unsupported type {field.type!r}.')
  return kind


def check_bounds(config, names=as_argument):
  """Refuses a field of `config` outside its `option()` bounds or choices.

  A None value passes (a field whose default is None means "automatic").

  Raises:
    ConfigError: the first field out of bounds (its `field`), naming it,
      the bounds and the value.
  """
  owner = type(config).__name__
  for field in dataclasses.fields(config):
    if not is_option(field):
      continue
    value = getattr(config, field.name)
    lower, upper = bounds_of(field)
    choices = field.metadata.get('choices')
    if value is None or (
      (lower is None or value >= lower)
      and (upper is None or value <= upper)
      and (choices is None or value in choices)
    ):
      continue
    if choices is not None:
      expected = f'one of {choices}'
    elif upper is None:
      expected = f'>= {lower:g}'
    elif lower is None:
      expected = f'<= {upper:g}'
    else:
      expected = f'in [{lower:g}, {upper:g}]'
    if field.default is None:
      expected = f'None or {expected}'
    raise errors.ConfigError(
      f'{owner}: {names(field.name)} must be {expected}, got {value!r}.',
      field=field.name,
    )
