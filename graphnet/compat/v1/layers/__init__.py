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

from graphnet import errors
from graphnet.compat.v1.layers.base import InputSpec
from graphnet.compat.v1.layers.base import Layer
from graphnet.compat.v1.layers.convolutional import Conv1D
from graphnet.compat.v1.layers.convolutional import Conv2D
from graphnet.compat.v1.layers.convolutional import Conv2DTranspose
from graphnet.compat.v1.layers.convolutional import Conv3D
from graphnet.compat.v1.layers.convolutional import conv1d
from graphnet.compat.v1.layers.convolutional import conv2d
from graphnet.compat.v1.layers.convolutional import conv2d_transpose
from graphnet.compat.v1.layers.convolutional import conv3d
from graphnet.compat.v1.layers.core import Dense
from graphnet.compat.v1.layers.core import Dropout
from graphnet.compat.v1.layers.core import Flatten
from graphnet.compat.v1.layers.core import dense
from graphnet.compat.v1.layers.core import dropout
from graphnet.compat.v1.layers.core import flatten
from graphnet.compat.v1.layers.normalization import BatchNormalization
from graphnet.compat.v1.layers.normalization import batch_normalization
from graphnet.compat.v1.layers.pooling import AveragePooling1D
from graphnet.compat.v1.layers.pooling import AveragePooling2D
from graphnet.compat.v1.layers.pooling import AveragePooling3D
from graphnet.compat.v1.layers.pooling import MaxPooling1D
from graphnet.compat.v1.layers.pooling import MaxPooling2D
from graphnet.compat.v1.layers.pooling import MaxPooling3D
from graphnet.compat.v1.layers.pooling import average_pooling1d
from graphnet.compat.v1.layers.pooling import average_pooling2d
from graphnet.compat.v1.layers.pooling import average_pooling3d
from graphnet.compat.v1.layers.pooling import max_pooling1d
from graphnet.compat.v1.layers.pooling import max_pooling2d
from graphnet.compat.v1.layers.pooling import max_pooling3d

# TF1's other names for the same classes.
Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution2DTranspose = Conv2DTranspose
Deconvolution2D = Conv2DTranspose
Deconv2D = Conv2DTranspose
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D

__all__ = [
  'InputSpec',
  'Layer',
  'Dense',
  'Dropout',
  'Flatten',
  'Conv1D',
  'Conv2D',
  'Conv3D',
  'Conv2DTranspose',
  'MaxPooling1D',
  'MaxPooling2D',
  'MaxPooling3D',
  'AveragePooling1D',
  'AveragePooling2D',
  'AveragePooling3D',
  'BatchNormalization',
  'Convolution1D',
  'Convolution2D',
  'Convolution3D',
  'Convolution2DTranspose',
  'Deconvolution2D',
  'Deconv2D',
  'MaxPool1D',
  'MaxPool2D',
  'MaxPool3D',
  'AvgPool1D',
  'AvgPool2D',
  'AvgPool3D',
  'dense',
  'dropout',
  'flatten',
  'conv1d',
  'conv2d',
  'conv3d',
  'conv2d_transpose',
  'max_pooling1d',
  'max_pooling2d',
  'max_pooling3d',
  'average_pooling1d',
  'average_pooling2d',
  'average_pooling3d',
  'batch_normalization',
]


def __getattr__(name):
  raise errors.NotProvidedError(
    f'tf.layers.{name} is not provided by graphnet.compat.v1 (its tf.layers '
    f'has {", ".join(sorted(n for n in __all__ if n[0].islower()))} and '
    'their classes). Build it from tf.nn ops, or see README "Coming from '
    'TF1".',
    name=f'tf.layers.{name}',
  )
