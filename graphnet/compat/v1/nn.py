"""TF1's `tf.nn`: `tf.compat.v1.nn` plus `rnn_cell`.

TF 2.21's `tf.compat.v1.nn.rnn_cell` holds Keras-backed cells that raise
under Keras 3; here `tf.nn.rnn_cell` is `graphnet.compat.v1.rnn_cell`,
imported on first use. Every other name is TF's `tf.compat.v1.nn.<name>`
(`dynamic_rnn`, `static_rnn`, `conv2d`, `softmax_cross_entropy_with_logits`,
...).

Example:
    import graphnet.compat.v1 as tf
    cell = tf.nn.rnn_cell.BasicLSTMCell(128)
    outputs, state = tf.nn.dynamic_rnn(cell, inputs, dtype=tf.float32)
"""

import tensorflow.compat.v1 as _tf

from graphnet import compat as _compat

__all__ = []  # The namespace is TF's; nothing is meant for `import *`.

_RNN_CELL = 'graphnet.compat.v1.rnn_cell'


# `tf.nn.<name>`: graphnet's `rnn_cell`, else TF's `tf.compat.v1.nn`.
__getattr__, __dir__ = _compat.tf_namespace(
  globals(),
  'tf.nn',
  _tf.nn,
  {'rnn_cell': lambda: _compat.import_own('tf.nn.rnn_cell', _RNN_CELL)},
  "it is not in TensorFlow 2's tf.compat.v1.nn, and graphnet.compat.v1 "
  'adds only tf.nn.rnn_cell there. Check the spelling.',
)
