"""Records TF 1.15's signatures of the TF1 APIs graphnet re-implements.

Run under TF 1.15 (never a graphnet dependency):

    python scripts/tf1_goldens/make_signature_goldens.py \
        tests/goldens/tf1_signatures.json

For each public function and class in the namespaces below it writes the
parameters (name, kind, default) of the function, of the class's
constructor (as `inspect.signature(cls)`: without `self`) and of its
public methods. tests/compat/test_signatures.py
checks that every one graphnet defines takes the same arguments in the same
order with the same defaults, so a TF1 call, positional or by keyword,
binds the same way. The default's form is `describe_default`'s, shared by
both sides (this file is imported by the test).
"""

import enum
import inspect
import json
import sys

# TF1 namespaces graphnet provides (dotted from `tf`).
NAMESPACES = (
  'layers',
  'nn.rnn_cell',
  'contrib.rnn',
  'contrib.layers',
  'contrib.framework',
  'contrib.slim',
  'estimator',
  'estimator.inputs',
  'estimator.export',
)

_LITERALS = (type(None), bool, int, float, str, bytes)


def describe_default(value):
  """A default as a comparable string, the same under TF 1.15 and 2.x.

  Literals (and tuples/lists of them) are exact; functions are named;
  enum members by their value's name; other objects (initializers, TF
  instances) only as 'object', because their classes differ between the
  two implementations.
  """
  if value is inspect.Parameter.empty:
    return None
  if isinstance(value, _LITERALS):
    return repr(value)
  if isinstance(value, (tuple, list)) and all(
    isinstance(v, _LITERALS) for v in value
  ):
    return repr(tuple(value))
  if isinstance(value, enum.Enum):
    return 'enum:' + value.name
  if inspect.isfunction(value) or inspect.isbuiltin(value):
    return 'function:' + value.__name__
  return 'object'


def describe(function):
  """[[name, kind, default], ...] of `function`, or None if unreadable."""
  try:
    signature = inspect.signature(function)
  except (TypeError, ValueError):
    return None
  return [
    [p.name, p.kind.name, describe_default(p.default)]
    for p in signature.parameters.values()
  ]


def _members(namespace, module):
  """Yields (dotted name, signature) for `module`'s public callables."""
  for name in sorted(dir(module)):
    if name.startswith('_'):
      continue
    value = getattr(module, name)
    dotted = namespace + '.' + name
    if inspect.isclass(value):
      yield dotted, describe(value)  # The constructor, without `self`.
      for method, function in sorted(vars(value).items()):
        if not method.startswith('_') and inspect.isfunction(function):
          yield dotted + '.' + method, describe(function)
    elif inspect.isfunction(value):
      yield dotted, describe(value)


def main(path):
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  goldens = {}
  for namespace in NAMESPACES:
    module = tf
    for part in namespace.split('.'):
      module = getattr(module, part)
    for dotted, signature in _members(namespace, module):
      if signature is not None:
        goldens[dotted] = signature
  # One signature a line, so a diff shows which API changed.
  lines = [
    f'{json.dumps(k)}: {json.dumps(goldens[k])}' for k in sorted(goldens)
  ]
  with open(path, 'w') as f:
    f.write('{\n' + ',\n'.join(lines) + '\n}\n')
  print(f'{len(goldens)} signatures -> {path}')


if __name__ == '__main__':
  main(sys.argv[1])
