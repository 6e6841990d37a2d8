"""TF1's `tf.layers` without Keras: `import graphnet.compat.v1 as tf`.

The functions and classes TF 1.15 had, with its semantics: variable names
(`dense/kernel`, `dense_1/bias`, `conv2d/kernel`, `conv2d_transpose/kernel`
`[h, w, out, in]`, `batch_normalization/gamma|beta|moving_mean|
moving_variance`), name uniquification per graph and variable scope,
`name=` + `reuse=` sharing, glorot-uniform kernels and zero biases,
regularizers in `REGULARIZATION_LOSSES`, batch norm's updates in
`UPDATE_OPS`, dropout's `rate` and `training`. So a TF 1.x checkpoint of a
`tf.layers` model restores with no name map. See `base` for the scope rules.

Not provided (`NotProvidedError`): `conv3d_transpose`, `separable_conv1d`,
`separable_conv2d` and their classes, `experimental` (Keras-style scopes).

Example:
    import graphnet.compat.v1 as tf
    net = tf.reshape(images, [-1, 28, 28, 1])
    net = tf.layers.conv2d(net, 32, 5, padding='same', activation=tf.nn.relu)
    net = tf.layers.max_pooling2d(net, 2, 2)               # [b, 14, 14, 32]
    net = tf.layers.dense(tf.layers.flatten(net), 10)      # dense/kernel
"""

from graphnet import compat as _compat
from graphnet.compat.v1.layers import base
from graphnet.compat.v1.layers import convolutional
from graphnet.compat.v1.layers import core
from graphnet.compat.v1.layers import normalization
from graphnet.compat.v1.layers import pooling

# Each module's public names (listed once, in its `__all__`; TF1's other
# names for its classes among them).
__all__ = _compat.reexport(
  globals(), [base, core, convolutional, pooling, normalization]
)

__getattr__ = _compat.not_provided(
  'tf.layers',
  'is not provided by graphnet.compat.v1 (its tf.layers has '
  f'{", ".join(sorted(n for n in __all__ if n[0].islower()))} and their '
  'classes). Build it from tf.nn ops, or see README "Coming from TF1".',
)
