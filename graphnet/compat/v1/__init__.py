"""TF1's `tf` on TensorFlow 2: `import graphnet.compat.v1 as tf`.

The module is `tensorflow.compat.v1` (every name not listed below is
TF's own, looked up on first use) plus what TF 2.16 took away with Keras 3:

- `tf.layers`: graphnet's TF1 `tf.layers` (`graphnet.compat.v1.layers`):
  `dense`, `conv2d`, `conv2d_transpose`, pooling, `dropout`,
  `batch_normalization`, `flatten` and their classes, with TF1's variable
  names, so TF 1.x checkpoints restore without a name map.
- `tf.nn`: `tf.compat.v1.nn` plus `tf.nn.rnn_cell`
  (`graphnet.compat.v1.rnn_cell`).
- `tf.contrib` (`graphnet.compat.v1.contrib`) and `tf.estimator`
  (`graphnet.compat.v1.estimator`).
- `tf.compat`: TF's, but `tf.compat.v1` is this module (so
  `tf.compat.v1.layers` is graphnet's too).

Those are imported on first use, as is Keras: importing this module imports
TensorFlow without Keras (see `graphnet.tf_loader`), and nothing here
imports it afterwards; `tf.keras` is whatever TF 2.21 makes of it.

What importing changes, for the whole process (TF1's defaults that TF 1.x
programs rely on; nothing else):

1. Eager execution is off (`tf.disable_eager_execution()`): graphs,
   placeholders and `tf.Session` as in TF1.
2. Shapes are TF1's (`tf.disable_v2_tensorshape()`): `x.shape[1]` and
   `x.get_shape()[1]` are `Dimension`s, so `x.get_shape()[1].value` works
   (`int(...)` and `as_list()` work either way).

What it leaves as TF 2.21 has it (a program may still call
`tf.disable_v2_behavior()`, which graphnet's layers support):

- Variables are resource variables (`VarHandleOp`): `tf.train.Saver`
  writes and restores the same checkpoints as TF1's reference variables,
  and reads are ordered by control dependencies, as TF1 programs intended.
  A `tf.layers` CNN training step costs about the same either way
  (BENCHMARKS.md, "TF1 programs (issue 21)"), and graphnet's own trainer
  and tests, which may share the process, are built on resource variables.
- Control flow is v2 (`tf.while_loop` / `tf.cond` as functional ops);
  variable names made inside loops (`rnn/basic_lstm_cell/kernel`) are the
  same. Reference variables need v1 control flow (a v2 `tf.cond` cannot
  update one): disable both, as `tf.disable_v2_behavior()` does, or
  neither.
- `Tensor == Tensor` is identity in graph mode (TF1's) already.

A name neither TF's `tf.compat.v1` nor graphnet provides raises
`graphnet.errors.NotProvidedError` (an `AttributeError`) naming it.

Example:
    import graphnet.compat.v1 as tf
    from graphnet import input_data

    x = tf.placeholder(tf.float32, [None, 784])
    hidden = tf.layers.dense(x, 128, tf.nn.relu)      # dense/kernel
    logits = tf.layers.dense(hidden, 10)              # dense_1/kernel
"""

from graphnet import compat as _compat

# Before `tensorflow.compat.v1`: TF's own __init__ would import Keras.
from graphnet import tf_loader

tf_loader.import_tensorflow()

import tensorflow.compat.v1 as _tf  # noqa: E402 (after tf_loader)

__all__ = []  # The namespace is TF's; nothing is meant for `import *`.

# graphnet's own modules in this namespace: name -> what it stands for.
_SUBMODULES = {
  'layers': 'TF1 tf.layers',
  'nn': 'tf.nn with rnn_cell',
  'contrib': 'TF1 tf.contrib',
  'estimator': 'TF1 tf.estimator',
  'compat': 'tf.compat whose v1 is this module',
}

_tf.disable_eager_execution()
_tf.disable_v2_tensorshape()


def _own(name):
  return lambda: _compat.import_own(
    f'tf.{name}', f'{__name__}.{name}', _SUBMODULES[name]
  )


# `tf.<name>`: graphnet's submodule, else TF's `tf.compat.v1.<name>`.
__getattr__, __dir__ = _compat.tf_namespace(
  globals(),
  'tf',
  _tf,
  {name: _own(name) for name in _SUBMODULES},
  "it is neither in TensorFlow 2's tf.compat.v1 nor added by "
  f'graphnet.compat.v1 (which adds {", ".join(f"tf.{n}" for n in _SUBMODULES)}'
  '). Check the spelling, or see README "Coming from TF1" for what '
  'graphnet covers.',
)
