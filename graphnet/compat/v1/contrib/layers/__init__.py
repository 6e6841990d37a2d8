"""`tf.contrib.layers` of TF 1.15 (`graphnet.compat.v1.contrib.layers`).

The layer functions, initializers, regularizers and summaries TF1 programs
use, with TF 1.15's variable names, defaults and collections; no Keras.

Example:
    import graphnet.compat.v1 as tf

    regularizer = tf.contrib.layers.l2_regularizer(0.0001)
    net = tf.contrib.layers.fully_connected(
        x, 500, weights_regularizer=regularizer)   # fully_connected/weights
"""

from graphnet import compat as _compat
from graphnet.compat.v1.contrib.layers import convolutional
from graphnet.compat.v1.contrib.layers import core
from graphnet.compat.v1.contrib.layers import initializers
from graphnet.compat.v1.contrib.layers import normalization
from graphnet.compat.v1.contrib.layers import pooling
from graphnet.compat.v1.contrib.layers import regularizers
from graphnet.compat.v1.contrib.layers import stacking
from graphnet.compat.v1.contrib.layers import summaries

# Each module's public names, listed once in its `__all__`.
__all__ = sorted(
  _compat.reexport(
    globals(),
    [
      convolutional,
      core,
      initializers,
      normalization,
      pooling,
      regularizers,
      stacking,
      summaries,
    ],
  )
)


__getattr__ = _compat.not_provided(
  'tf.contrib.layers',
  'is not provided by graphnet, which has the layer functions '
  '(fully_connected, conv2d, batch_norm, ...), initializers, regularizers '
  'and summaries of TF 1.15. Use tf.nn or graphnet.compat.v1.layers, or '
  'keep this program on TensorFlow 1.15.',
)
