"""Flags made from the `options.option()` fields of config dataclasses.

Each such field becomes one absl flag named `options.name_of(field)`, with
the field's default, help line and bounds: a bool field a boolean flag, a
field with choices an enum, a tuple field a list flag (its default written
as strings), an int or float field a number flag with the field's bounds,
any other a string flag. Nothing about a setting is written twice.

Example (in the module whose flags these are):

    config_flags.define(schedules.Schedule, module_name=__name__)
    # --lr_schedule, --learning_rate, --decay_steps, ...
"""

import dataclasses

from absl import flags

from graphnet import options

__all__ = ['define', 'flag_default']


def flag_default(field):
  """The default of `field`'s flag, as absl holds it (a list for a tuple)."""
  default = options.option_default(field)
  if options.value_type(field) is tuple:
    return [str(v) for v in default]
  return default


def _define_one(field, module_name, flag_values):
  name = options.name_of(field.name)
  kind = options.value_type(field)
  help_line = options.help_of(field)
  common = {'flag_values': flag_values, 'module_name': module_name}
  default = flag_default(field)
  choices = field.metadata.get('choices')
  lower, upper = options.bounds_of(field)
  if kind is bool:
    flags.DEFINE_boolean(name, default, help_line, **common)
  elif choices is not None:
    flags.DEFINE_enum(name, default, list(choices), help_line, **common)
  elif kind is tuple:
    flags.DEFINE_list(name, default, help_line, **common)
  elif kind in (int, float):
    define = flags.DEFINE_integer if kind is int else flags.DEFINE_float
    define(
      name,
      default,
      help_line,
      lower_bound=lower,
      upper_bound=upper,
      **common,
    )
  else:
    flags.DEFINE_string(name, default, help_line, **common)


def define(cls, module_name, flag_values=flags.FLAGS):
  """Defines a flag for each `option()` field of `cls` not yet defined.

  A flag already defined (another network's field of the same name) is
  left as it is.

  Args:
    cls: a config dataclass.
    module_name: the module the flags are listed under in `--help`.
    flag_values: the `FlagValues` to define them in.

  Returns:
    the names of the flags defined (a list).
  """
  defined = []
  for field in dataclasses.fields(cls):
    name = options.name_of(field.name)
    if options.is_option(field) and name not in flag_values:
      _define_one(field, module_name, flag_values)
      defined.append(name)
  return defined
