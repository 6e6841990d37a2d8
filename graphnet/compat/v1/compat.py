"""TF1's `tf.compat`, in which `tf.compat.v1` is graphnet.compat.v1 itself.

Programs half-way migrated by `tf_upgrade_v2` write `tf.compat.v1.layers.
dense(...)`; under `import graphnet.compat.v1 as tf` that reaches graphnet's
`tf.layers`, not TF 2's Keras-backed one. Every other name is TF's
`tf.compat.<name>` (`as_bytes`, `v2`, `forward_compatible`, ...).

Example:
    import graphnet.compat.v1 as tf
    logits = tf.compat.v1.layers.dense(features, 10)   # dense/kernel
"""

import sys

import tensorflow.compat.v1 as _tf

from graphnet import compat as _compat

__all__ = []  # The namespace is TF's; nothing is meant for `import *`.


# `tf.compat.<name>`: graphnet.compat.v1 for `v1`, else TF's.
__getattr__, __dir__ = _compat.tf_namespace(
  globals(),
  'tf.compat',
  _tf.compat,
  {'v1': lambda: sys.modules['graphnet.compat.v1']},
  "it is not in TensorFlow 2's tf.compat, and graphnet.compat.v1 only "
  'makes tf.compat.v1 its own.',
)
