"""Imports TensorFlow for a command line without loading Keras with it.

The last thing `import tensorflow` does is import `keras.src.optimizers`
(so that Keras's optimizers are registered for SavedModel loading), which
loads all of Keras 3 and what Keras pulls in (SciPy, and scikit-learn or
matplotlib when installed): about 1.1 of the 3 CPU seconds a graphnet
command spends importing TF, for a library no graphnet command uses. TF
wraps that import in a `try` that ignores an ImportError.

`import_tensorflow()` makes exactly that module unimportable while TF
imports, then makes it importable again: `tf.keras` and `import keras`
work afterwards as usual, and Keras registers its optimizers when it
first loads. The command-line entry points call it (through
`cli.quiet.setup`), as do the serving sandbox's worker and
`graphnet.compat.v1`; `import graphnet` in a notebook imports TF as usual.
It sits beside `errors` at the top, a module every layer may import.

It does so only after reading, in TF's `__init__.py`, that the import
sits in a `try` that catches ImportError; a TF release that imports Keras
otherwise is imported the ordinary way.

Example:
    tf = tf_loader.import_tensorflow()
"""

import importlib.util
import re
import sys

__all__ = ['DEFERRED_MODULES', 'import_tensorflow']

# What TF's __init__ imports eagerly for Keras 3 and for TF_USE_LEGACY_KERAS.
DEFERRED_MODULES = ('keras.src.optimizers', 'tf_keras.src.optimizers')

# TF 2.21's: `try:`, an if/else importing those modules, `except
# (ImportError, AttributeError): pass`.
_TOLERANT_IMPORT = re.compile(
  r'try:\n(?:[ \t]+.*\n){1,6}?[ \t]+importlib\.import_module\('
  r'"keras\.src\.optimizers"\)\n(?:[ \t]*\n)*except \(ImportError\b'
)


def import_tensorflow():
  """Imports and returns the `tensorflow` module, Keras left for later.

  Returns:
    the `tensorflow` module (already imported ones are returned as is).
  """
  blocked = []
  if 'tensorflow' not in sys.modules and _tolerates_missing_keras():
    blocked = [name for name in DEFERRED_MODULES if name not in sys.modules]
  # A None entry makes `import name` raise ImportError at once.
  for name in blocked:
    sys.modules[name] = None
  try:
    import tensorflow as tf
  finally:
    for name in blocked:
      if name in sys.modules and sys.modules[name] is None:
        del sys.modules[name]
  return tf


def _tolerates_missing_keras():
  """Whether TF's `__init__` imports Keras in `try/except ImportError`."""
  try:
    spec = importlib.util.find_spec('tensorflow')
    with open(spec.origin, encoding='utf-8') as init:
      return bool(_TOLERANT_IMPORT.search(init.read()))
  except (AttributeError, OSError, TypeError, ValueError):
    return False
