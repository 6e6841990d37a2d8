"""TF1's `tf.contrib`: the parts TF1 programs use.

`graphnet.compat.v1`'s `tf.contrib`.

Provided, each imported on first use:

- `tf.contrib.layers`: `fully_connected`, `conv2d`, `batch_norm`,
  `l2_regularizer`, `xavier_initializer`, ... (TF 1.15's names, defaults
  and collections).
- `tf.contrib.framework`: `arg_scope`, `add_arg_scope`, the global step
  and variable helpers.
- `tf.contrib.slim`: the layers under slim's names, `losses`, `learning`
  (`create_train_op`, `train`), `metrics`, `arg_scope`, ...
- `tf.contrib.rnn`: the RNN cells and `static_rnn` & co.
- `tf.contrib.learn.datasets.mnist`: `read_data_sets` (graphnet's
  `input_data`).

Every other `tf.contrib.X` (factorization, tensor_forest, boosted_trees,
tpu, seq2seq, ...) raises `graphnet.errors.NotProvidedError`, an
AttributeError naming it.

Example:
    import graphnet.compat.v1 as tf

    regularizer = tf.contrib.layers.l2_regularizer(0.0001)
    with tf.contrib.framework.arg_scope([...], ...):
      ...
"""

import importlib

from graphnet import compat as _compat

__all__ = []  # Submodules are imported on first use.

# graphnet's tf.contrib modules: name -> what TF1 held there.
_SUBMODULES = {
  'framework': 'arg_scope and variable helpers',
  'layers': 'layer functions, initializers, regularizers',
  'learn': 'only learn.datasets.mnist',
  'rnn': 'RNN cells and static_rnn',
  'slim': 'TF-Slim',
}


_not_provided = _compat.not_provided(
  'tf.contrib',
  lambda name: (
    'is not provided by graphnet: TF 2 removed tf.contrib, and '
    'graphnet.compat.v1 brings back only '
    f'{", ".join(f"tf.contrib.{n}" for n in sorted(_SUBMODULES))}. Port the '
    f'tf.contrib.{name} code to a TF 2 library, or keep this program on '
    'TensorFlow 1.15.'
  ),
)


def __getattr__(name):
  """`tf.contrib.<name>`: graphnet's module, or NotProvidedError."""
  if name not in _SUBMODULES:
    _not_provided(name)
  module = importlib.import_module(f'{__name__}.{name}')
  globals()[name] = module
  return module


def __dir__():
  return sorted(set(globals()) | set(_SUBMODULES))
