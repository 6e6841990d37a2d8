"""`tf.contrib.layers` of TF 1.15 (`graphnet.compat.v1.contrib.layers`).

The layer functions, initializers, regularizers and summaries TF1 programs
use, with TF 1.15's variable names, defaults and collections; no Keras.

Example:
    import graphnet.compat.v1 as tf

    regularizer = tf.contrib.layers.l2_regularizer(0.0001)
    net = tf.contrib.layers.fully_connected(
        x, 500, weights_regularizer=regularizer)   # fully_connected/weights
"""

from graphnet import errors
from graphnet.compat.v1.contrib.layers.convolutional import conv1d
from graphnet.compat.v1.contrib.layers.convolutional import conv2d
from graphnet.compat.v1.contrib.layers.convolutional import conv2d_transpose
from graphnet.compat.v1.contrib.layers.convolutional import conv3d
from graphnet.compat.v1.contrib.layers.convolutional import convolution
from graphnet.compat.v1.contrib.layers.convolutional import convolution1d
from graphnet.compat.v1.contrib.layers.convolutional import convolution2d
from graphnet.compat.v1.contrib.layers.convolutional import (
  convolution2d_transpose,
)
from graphnet.compat.v1.contrib.layers.convolutional import convolution3d
from graphnet.compat.v1.contrib.layers.core import bias_add
from graphnet.compat.v1.contrib.layers.core import dropout
from graphnet.compat.v1.contrib.layers.core import elu
from graphnet.compat.v1.contrib.layers.core import flatten
from graphnet.compat.v1.contrib.layers.core import fully_connected
from graphnet.compat.v1.contrib.layers.core import linear
from graphnet.compat.v1.contrib.layers.core import one_hot_encoding
from graphnet.compat.v1.contrib.layers.core import relu
from graphnet.compat.v1.contrib.layers.core import relu6
from graphnet.compat.v1.contrib.layers.core import softmax
from graphnet.compat.v1.contrib.layers.initializers import (
  variance_scaling_initializer,
)
from graphnet.compat.v1.contrib.layers.initializers import xavier_initializer
from graphnet.compat.v1.contrib.layers.initializers import (
  xavier_initializer_conv2d,
)
from graphnet.compat.v1.contrib.layers.normalization import batch_norm
from graphnet.compat.v1.contrib.layers.pooling import avg_pool2d
from graphnet.compat.v1.contrib.layers.pooling import max_pool2d
from graphnet.compat.v1.contrib.layers.regularizers import apply_regularization
from graphnet.compat.v1.contrib.layers.regularizers import l1_l2_regularizer
from graphnet.compat.v1.contrib.layers.regularizers import l1_regularizer
from graphnet.compat.v1.contrib.layers.regularizers import l2_regularizer
from graphnet.compat.v1.contrib.layers.regularizers import sum_regularizer
from graphnet.compat.v1.contrib.layers.stacking import repeat
from graphnet.compat.v1.contrib.layers.stacking import stack
from graphnet.compat.v1.contrib.layers.summaries import summarize_activation
from graphnet.compat.v1.contrib.layers.summaries import summarize_activations
from graphnet.compat.v1.contrib.layers.summaries import summarize_collection
from graphnet.compat.v1.contrib.layers.summaries import summarize_tensor
from graphnet.compat.v1.contrib.layers.summaries import summarize_tensors

__all__ = [
  'apply_regularization',
  'avg_pool2d',
  'batch_norm',
  'bias_add',
  'conv1d',
  'conv2d',
  'conv2d_transpose',
  'conv3d',
  'convolution',
  'convolution1d',
  'convolution2d',
  'convolution2d_transpose',
  'convolution3d',
  'dropout',
  'elu',
  'flatten',
  'fully_connected',
  'l1_l2_regularizer',
  'l1_regularizer',
  'l2_regularizer',
  'linear',
  'max_pool2d',
  'one_hot_encoding',
  'relu',
  'relu6',
  'repeat',
  'softmax',
  'stack',
  'sum_regularizer',
  'summarize_activation',
  'summarize_activations',
  'summarize_collection',
  'summarize_tensor',
  'summarize_tensors',
  'variance_scaling_initializer',
  'xavier_initializer',
  'xavier_initializer_conv2d',
]


def __getattr__(name):
  """`tf.contrib.layers.<name>` graphnet lacks: NotProvidedError."""
  if name.startswith('__'):
    raise AttributeError(name)
  raise errors.NotProvidedError(
    f'tf.contrib.layers.{name} is not provided by graphnet, which has the '
    'layer functions (fully_connected, conv2d, batch_norm, ...), '
    'initializers, regularizers and summaries of TF 1.15. Use tf.nn or '
    'graphnet.compat.v1.layers, or keep this program on TensorFlow 1.15.',
    name=f'tf.contrib.layers.{name}',
  )
